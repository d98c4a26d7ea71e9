// RecordValidator: raw bytes -> a validated miniSEED 2 record, or a
// rejection with a stable reason and a message that says what is wrong.
//
// Checks, in order: the buffer is one whole miniSEED 2 record (a fixed
// header; its length equals the record length from blockette 1000, or, for
// legacy records without one, is a power of two from 128 to 1 MiB with no
// other record's header inside); the blockette chain, walked on the raw
// bytes before libmseed sees the record (ingest/src/blockette_chain.h:
// every blockette inside the record, of a type and length libmseed knows,
// a chain that only moves forward, at most 64 blockettes, one blockette
// 100/1000/1001 at most, a blockette 1000 record-length exponent of 7-20
// equal to the buffer's length); libmseed then parses the header without
// logging an error; the start-time fields are in range (year 1900-2100, day
// 1-365/366, hour 0-23, minute 0-59, second 0-60, fraction 0-9999 tenths of
// a millisecond, and 10000, which real dataloggers write and libmseed
// carries into the next second); the start
// time is at most `future_margin_ns` ahead of `now`; the sample rate is
// finite and not negative; the encoding is one libmseed decodes; the data
// section holds the header's sample count and decodes to exactly that many
// samples; for Steim-1/2, the last decoded sample equals the frame's reverse
// integration constant (libmseed 2 only warns about that; we reject).
// Steim data is walked by ingest's own scan_steim (the same verdicts as
// libmseed's decoder, tested against it, at half the cost); other encodings
// are decoded by libmseed.
//
// The source id is built from the fixed header's raw code fields (see
// ValidatedRecord::source_id), never from libmseed's C strings.
//
// Work per record is bounded: the chain walk takes at most 64 steps, and
// libmseed parses at most 64 blockettes; a record's data is walked once.
//
// Thread-safety: a RecordValidator is not thread-safe (it reuses one libmseed
// record buffer); use one per thread. Instances on different threads may
// validate concurrently: their libmseed calls are serialized by LibmseedLock
// (libmseed 2 formats log messages in a process-global buffer). validate()
// takes that lock for one record's libmseed calls only (the header parse,
// ~0.13 us for a 512-byte Steim-2 record; and libmseed's decoder for
// non-Steim data), never for the checks before them or for the Steim scan.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "seisvault/common/libmseed_lock.h"
#include "seisvault/common/mseed_record.h"
#include "seisvault/common/time.h"
#include "seisvault/common/reject_reason.h"

namespace seisvault::ingest {

struct ValidatorOptions {
  // Records starting further than this after the server's clock are
  // rejected (kFutureTime): a datalogger with a broken clock must not
  // pollute the archive with data from the future. Default: 1 hour.
  TimeNs future_margin_ns = 3600 * kNanosPerSecond;
};

// The longest source id: four SEED codes with every byte escaped.
inline constexpr size_t kMaxSourceIdLength = 4 * 10 * 4 + 3;

struct ValidatedRecord {
  // "NET.STA.LOC.CHA" with blank fields empty, from the fixed header's raw
  // fields (network bytes 18-19, station 8-12, location 13-14, channel
  // 15-17). A field's trailing run of spaces and NULs is padding (SEED pads
  // with spaces, some writers with NULs) and dropped; every other byte
  // outside printable ASCII, a NUL or space included, and '.' or '\' are
  // written as \xNN, so the id is always printable ASCII and a code with a
  // NUL inside ("AN\0MO": AN\x00MO) is never read as a shorter one ("AN").
  std::string_view source_id() const { return {source_id_buffer, source_id_length}; }
  TimeNs start_ns = 0;           // first sample, time correction and blockette 1001 applied (libmseed)
  TimeNs end_ns = 0;             // last sample: start + (samples - 1) / rate
  double sample_rate = 0;        // Hz (blockette 100 when present); 0 for none
  int64_t sample_count = 0;
  int encoding = 0;              // SEED data encoding code
  uint32_t record_length = 0;
  char quality = 'D';            // D, R, Q or M
  std::span<const uint8_t> bytes;  // the input: the record is these bytes, unchanged

  char source_id_buffer[kMaxSourceIdLength] = {};
  uint8_t source_id_length = 0;
};

struct Validation {
  RejectReason reason = RejectReason::kNone;  // kNone when valid
  std::string message;                        // for a rejection: what is wrong, for a person
  ValidatedRecord record;                     // meaningful only when ok()
  bool ok() const { return reason == RejectReason::kNone; }
};

class RecordValidator {
 public:
  explicit RecordValidator(ValidatorOptions options = {}) : options_(options) {}

  // Validates one record. `bytes` must stay alive while the result's
  // record.bytes is used. Never throws; any input, however hostile, yields a
  // Validation, and libmseed never reads outside `bytes`. Allocates only for
  // the message of a rejection (and inside libmseed, which mallocs each of
  // the record's at most 64 blockettes). Takes the LibmseedLock itself,
  // around this record's libmseed calls only.
  Validation validate(std::span<const uint8_t> bytes, TimeNs now_ns);

  const ValidatorOptions& options() const { return options_; }

 private:
  ValidatorOptions options_;
  MseedRecord msr_;
};

}  // namespace seisvault::ingest
