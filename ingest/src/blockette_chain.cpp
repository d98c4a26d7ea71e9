#include "blockette_chain.h"

#include <cstring>

#include <fmt/format.h>

namespace seisvault::ingest {

namespace {

constexpr uint32_t kFixedHeader = 48;
constexpr uint8_t kMinExponent = 7;   // 128 bytes, libmseed's MINRECLEN
constexpr uint8_t kMaxExponent = 20;  // 1 MiB, libmseed's MAXRECLEN

uint16_t bswap16(uint16_t v) { return static_cast<uint16_t>(v << 8 | v >> 8); }

// A 16-bit header field as libmseed reads it: in this host's order, swapped
// when the header is in the other order.
uint16_t read16(const uint8_t* p, bool swapped) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return swapped ? bswap16(v) : v;
}

const char* blockette_name(uint16_t type) {
  switch (type) {
    case 100: return "sample rate";
    case 200: return "generic event detection";
    case 201: return "Murdock event detection";
    case 300: return "step calibration";
    case 310: return "sine calibration";
    case 320: return "pseudo-random calibration";
    case 390: return "generic calibration";
    case 395: return "calibration abort";
    case 400: return "beam";
    case 405: return "beam delay";
    case 500: return "timing";
    case 1000: return "data only SEED";
    case 1001: return "data extension";
    case 2000: return "opaque data";
    default: return "unknown";
  }
}

}  // namespace

uint32_t fixed_blockette_length(uint16_t type) noexcept {
  // 4 (type, next) + the size of libmseed's blkt_*_s struct, which is what
  // msr_addblockette copies; the SEED manual's lengths. (libmseed 2.19's
  // ms_blktlen gives shorter ones for 200, 201, 300, 310, 320 and 500.)
  switch (type) {
    case 100: return 12;
    case 200: return 52;
    case 201: return 60;
    case 300: return 60;
    case 310: return 60;
    case 320: return 64;
    case 390: return 28;
    case 395: return 16;
    case 400: return 16;
    case 500: return 200;
    case 1000: return 8;
    case 1001: return 8;
    default: return 0;
  }
}

BlocketteChain walk_blockette_chain(std::span<const uint8_t> record) noexcept {
  BlocketteChain c;
  const uint8_t* r = record.data();
  const size_t n = record.size();
  c.record_length = static_cast<uint32_t>(n);
  if (n < kFixedHeader) {
    // The caller's job; answer without reading anything.
    c.problem = ChainProblem::kFirstOffsetBeyondRecord;
    return c;
  }
  uint16_t year, day;
  std::memcpy(&year, r + 20, 2);
  std::memcpy(&day, r + 22, 2);
  c.swapped = !(year >= 1900 && year <= 2100 && day >= 1 && day <= 366);

  auto fail = [&c](ChainProblem p, uint32_t at, uint16_t type, uint32_t value) {
    c.problem = p;
    c.at = at;
    c.type = type;
    c.value = value;
    return c;
  };

  uint32_t off = read16(r + 46, c.swapped);
  if (off == 0) return c;
  if (off < kFixedHeader) return fail(ChainProblem::kFirstOffsetInFixedHeader, 0, 0, off);
  if (off >= n) return fail(ChainProblem::kFirstOffsetBeyondRecord, 0, 0, off);

  uint32_t first_100 = 0, first_1001 = 0;
  while (true) {
    // off < n here: the first offset and every next offset were checked.
    if (off + 4 > n) return fail(ChainProblem::kHeaderPastEnd, off, 0, static_cast<uint32_t>(n - off));
    const uint16_t type = read16(r + off, c.swapped);
    const uint16_t next = read16(r + off + 2, c.swapped);
    if (++c.blockettes > kMaxBlockettes) return fail(ChainProblem::kTooMany, off, type, 0);

    uint32_t length = fixed_blockette_length(type);
    if (type == 2000) {
      if (off + kBlockette2000FixedLength > n) {
        return fail(ChainProblem::kBodyPastEnd, off, type, kBlockette2000FixedLength);
      }
      length = read16(r + off + 4, c.swapped);
      if (length < kBlockette2000FixedLength) return fail(ChainProblem::kB2000TooShort, off, type, length);
      if (off + length > n) return fail(ChainProblem::kB2000PastEnd, off, type, length);
    } else if (type == 405) {
      return fail(ChainProblem::kVariableLength, off, type, 0);
    } else if (length == 0) {
      return fail(ChainProblem::kUnknownType, off, type, 0);
    } else if (off + length > n) {
      return fail(ChainProblem::kBodyPastEnd, off, type, length);
    }

    if (type == 1000) {
      if (c.b1000_offset != 0) return fail(ChainProblem::kDuplicate, off, type, c.b1000_offset);
      c.b1000_offset = off;
      const uint8_t exponent = r[off + 6];
      if (exponent < kMinExponent || exponent > kMaxExponent) {
        return fail(ChainProblem::kB1000ExponentOutOfRange, off, type, exponent);
      }
      c.b1000_record_length = uint32_t{1} << exponent;
      if (c.b1000_record_length > n) return fail(ChainProblem::kB1000LongerThanBuffer, off, type, exponent);
      if (c.b1000_record_length < n) return fail(ChainProblem::kB1000ShorterThanBuffer, off, type, exponent);
    } else if (type == 100 || type == 1001) {
      uint32_t& first = type == 100 ? first_100 : first_1001;
      if (first != 0) return fail(ChainProblem::kDuplicate, off, type, first);
      first = off;
    }

    if (next == 0) return c;
    c.end = off + length;
    if (next < off) return fail(ChainProblem::kNextBackwards, off, type, next);
    if (next < off + length) return fail(ChainProblem::kNextInsideBlockette, off, type, next);
    if (next >= n) return fail(ChainProblem::kNextBeyondRecord, off, type, next);
    off = next;
  }
}

RejectReason BlocketteChain::reason() const {
  switch (problem) {
    case ChainProblem::kNone: return RejectReason::kNone;
    case ChainProblem::kB1000LongerThanBuffer: return RejectReason::kTruncated;
    case ChainProblem::kB1000ShorterThanBuffer: return RejectReason::kRecordLengthMismatch;
    default: return RejectReason::kBadBlockettes;
  }
}

std::string BlocketteChain::message() const {
  const auto n = record_length;
  const auto blockette = [this] { return fmt::format("blockette {} ({}) at byte {}", type, blockette_name(type), at); };
  switch (problem) {
    case ChainProblem::kNone:
      return {};
    case ChainProblem::kFirstOffsetInFixedHeader:
      return fmt::format("blockette chain: first blockette offset {} is inside the 48-byte fixed header", value);
    case ChainProblem::kFirstOffsetBeyondRecord:
      return fmt::format("blockette chain: first blockette offset {} is beyond record length {}", value, n);
    case ChainProblem::kHeaderPastEnd:
      return fmt::format("blockette chain: blockette header at byte {} runs past the end of the {}-byte record "
                         "({} of its 4 bytes present)",
                         at, n, value);
    case ChainProblem::kUnknownType:
      return fmt::format("blockette chain: unknown blockette type {} at byte {}", type, at);
    case ChainProblem::kVariableLength:
      return fmt::format("blockette chain: {} has no length of its own; libmseed 2 cannot parse it", blockette());
    case ChainProblem::kBodyPastEnd:
      return fmt::format("blockette chain: {} is {} bytes and runs past the end of the {}-byte record",
                         blockette(), value, n);
    case ChainProblem::kB2000TooShort:
      return fmt::format("blockette chain: {} has length {}, less than its {}-byte fixed part", blockette(), value,
                         kBlockette2000FixedLength);
    case ChainProblem::kB2000PastEnd:
      return fmt::format("blockette chain: {} has length {} and runs past the end of the {}-byte record",
                         blockette(), value, n);
    case ChainProblem::kNextBackwards:
      return fmt::format("blockette chain: {} gives next blockette offset {}, backwards", blockette(), value);
    case ChainProblem::kNextInsideBlockette:
      return fmt::format("blockette chain: {} gives next blockette offset {}, inside itself (it ends at byte {})",
                         blockette(), value, end);
    case ChainProblem::kNextBeyondRecord:
      return fmt::format("blockette chain: {} gives next blockette offset {}, beyond record length {}", blockette(),
                         value, n);
    case ChainProblem::kTooMany:
      return fmt::format("blockette chain: more than {} blockettes (the limit; real records carry 1 to 4); "
                         "blockette {} is at byte {}",
                         kMaxBlockettes, kMaxBlockettes + 1, at);
    case ChainProblem::kDuplicate:
      return fmt::format("blockette chain: a second blockette {} at byte {} (the first is at byte {}); readers "
                         "would disagree on which applies",
                         type, at, value);
    case ChainProblem::kB1000ExponentOutOfRange:
      return fmt::format("blockette chain: blockette 1000 at byte {} gives record length exponent {}, outside "
                         "{}-{} (128 bytes to 1 MiB)",
                         at, value, kMinExponent, kMaxExponent);
    case ChainProblem::kB1000LongerThanBuffer:
      return fmt::format("truncated record: blockette 1000 gives a record length of {} bytes, {} present",
                         uint64_t{1} << value, n);
    case ChainProblem::kB1000ShorterThanBuffer:
      return fmt::format("blockette 1000 gives a record length of {} bytes but {} bytes were sent as one record",
                         uint64_t{1} << value, n);
  }
  return "blockette chain: invalid";
}

}  // namespace seisvault::ingest
