// walk_blockette_chain: checks a miniSEED 2 record's blockette chain on the
// raw bytes, before libmseed is given the record.
//
// Why: libmseed 2.19's msr_unpack trusts the chain. A blockette 2000 whose
// length field is 1-3 makes it copy ~64 KiB (`length - 4` wraps); it reads a
// blockette header in the last 1-3 bytes of the record; its ms_blktlen gives
// blockettes 200, 201, 300, 310, 320 and 500 shorter lengths than the
// structs msr_addblockette then copies (e.g. 8 bytes for the 200-byte
// blockette 500), so such a blockette near the end is read past the record;
// a blockette 1000 record-length exponent of 41 becomes `1 << 41`, which is
// 512 on x86; and a chain of thousands of blockettes costs a malloc and a
// walk to the end of a linked list each (quadratic: ~120 ms for ~8,000 in a
// 64 KiB record), all under the process-wide libmseed lock. A record that
// passes this walk is one libmseed 2.19 reads inside its bytes, with
// bounded work.
//
// The rules, for a record of `record.size()` bytes (the buffer is the
// record: its length is what the sender framed):
//   - The header byte order is detected as libmseed does: the start time's
//     year and day (bytes 20-23) read in this host's order are plausible
//     (year 1900-2100, day 1-366), or the header is in the other order.
//   - The first blockette offset (bytes 46-47) is 0 (no blockettes) or at
//     least 48 (after the fixed header) and below the record length.
//   - Every blockette's 4-byte header (type, next offset) and its whole body
//     lie inside the record.
//   - Its type is one libmseed 2 knows, with the SEED length of its fixed
//     structure: 100 (12 bytes), 200 (52), 201 (60), 300 (60), 310 (60),
//     320 (64), 390 (28), 395 (16), 400 (16), 500 (200), 1000 (8),
//     1001 (8); or 2000, whose length field (bytes 4-5 of the blockette) is
//     at least its 15-byte fixed part. 405 (beam delay) has no length of its
//     own and libmseed 2 refuses it; it is refused here too.
//   - The next offset is 0 (end of chain), or at or after the end of this
//     blockette (so the chain only moves forward: no loop, no step back,
//     no overlap) and below the record length.
//   - At most kMaxBlockettes blockettes.
//   - At most one blockette 100, 1000 and 1001 each: libmseed keeps the last
//     of each while other readers (and libmseed's own ms_detect) take the
//     first, so two would let readers disagree on the sample rate, the
//     record length, the encoding or the time.
//   - Blockette 1000's record-length exponent is 7-20 (128 bytes to 1 MiB)
//     and 2^exponent equals the record length; checked as soon as the
//     blockette 1000 is reached, so that a truncated record is reported as
//     truncated even when its chain runs past the bytes that arrived.
//
// Pure: no libmseed, no allocation, no global state; thread-safe. The work
// is bounded by kMaxBlockettes steps whatever the input. Only message(),
// called for a rejection, allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "seisvault/common/reject_reason.h"

namespace seisvault::ingest {

// Real records carry 1 to 4 blockettes (1000, 1001, sometimes 100, 500, a
// calibration or a few event detections); the fixed header counts them in
// one byte. 64 leaves room for any real datalogger and bounds libmseed's
// per-blockette malloc and list walk at 64 mallocs and ~2,000 list steps
// per record.
inline constexpr size_t kMaxBlockettes = 64;

// The SEED length of a blockette 2000's fixed part (type, next, length,
// data offset, record number, word order, flags, header-field count).
inline constexpr uint32_t kBlockette2000FixedLength = 15;

enum class ChainProblem : uint8_t {
  kNone,
  kFirstOffsetInFixedHeader,  // first blockette offset 1-47
  kFirstOffsetBeyondRecord,   // first blockette offset >= record length
  kHeaderPastEnd,             // the 4-byte blockette header does not fit
  kUnknownType,               // a type libmseed 2 does not know
  kVariableLength,            // blockette 405: no length libmseed 2 can find
  kBodyPastEnd,               // the blockette's fixed length runs past the end
  kB2000TooShort,             // blockette 2000 length field below its fixed part
  kB2000PastEnd,              // blockette 2000 length runs past the end
  kNextBackwards,             // next offset before this blockette
  kNextInsideBlockette,       // next offset inside this blockette
  kNextBeyondRecord,          // next offset >= record length
  kTooMany,                   // more than kMaxBlockettes
  kDuplicate,                 // a second blockette 100, 1000 or 1001
  kB1000ExponentOutOfRange,   // record-length exponent outside 7-20
  kB1000LongerThanBuffer,     // 2^exponent > record length (truncated)
  kB1000ShorterThanBuffer,    // 2^exponent < record length
};

struct BlocketteChain {
  ChainProblem problem = ChainProblem::kNone;
  // The header (and, without blockette 1000, the data) is in the other byte
  // order than this host's.
  bool swapped = false;
  uint32_t blockettes = 0;     // walked (when ok(): the whole chain)
  // Blockette 1000, when the chain has one: its offset (0 when none) and
  // the record length it gives.
  uint32_t b1000_offset = 0;
  uint32_t b1000_record_length = 0;

  // Where the problem is, for message(): the blockette's offset and type,
  // and a problem-specific value (next offset, length field, exponent, or
  // the offset of the first of two duplicate blockettes).
  uint32_t at = 0;
  uint16_t type = 0;
  uint32_t value = 0;
  uint32_t end = 0;            // for a bad next offset: the byte after the blockette at fault
  uint32_t record_length = 0;  // the buffer's length (for messages)

  bool ok() const { return problem == ChainProblem::kNone; }
  // kTruncated for kB1000LongerThanBuffer, kRecordLengthMismatch for
  // kB1000ShorterThanBuffer, kBadBlockettes for every other problem,
  // kNone when ok().
  RejectReason reason() const;
  // What is wrong, for a person: the offset, the type and the rule broken.
  // "" when ok().
  std::string message() const;
};

// `record`: the whole record, at least 48 bytes (the fixed header; the
// caller checks that first). Never reads outside `record`.
BlocketteChain walk_blockette_chain(std::span<const uint8_t> record) noexcept;

// The SEED length of a fixed-length blockette type libmseed 2 parses, 0 for
// 2000 (variable: its length field), 405 and unknown types.
uint32_t fixed_blockette_length(uint16_t type) noexcept;

}  // namespace seisvault::ingest
