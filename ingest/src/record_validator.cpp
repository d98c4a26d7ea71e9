#include "seisvault/ingest/record_validator.h"

#include <libmseed.h>

#include <cmath>
#include <cstring>
#include <optional>

#include <fmt/format.h>

#include "blockette_chain.h"
#include "seisvault/common/libmseed_lock.h"
#include "steim_scan.h"

namespace seisvault::ingest {

namespace {

constexpr size_t kFixedHeader = 48;

Validation reject(RejectReason reason, std::string message) {
  Validation v;
  v.reason = reason;
  v.message = std::move(message);
  return v;
}

// Bytes per sample of the fixed-size encodings; 0 for Steim (frames) and
// for codes libmseed does not decode.
size_t fixed_sample_size(int encoding) {
  switch (encoding) {
    case DE_ASCII: return 1;
    case DE_INT16: return 2;
    case DE_INT32: return 4;
    case DE_FLOAT32: return 4;
    case DE_FLOAT64: return 8;
    case DE_GEOSCOPE24: return 3;
    case DE_GEOSCOPE163:
    case DE_GEOSCOPE164:
    case DE_CDSN:
    case DE_SRO:
    case DE_DWWSSN: return 2;
    default: return 0;
  }
}

bool is_steim(int encoding) { return encoding == DE_STEIM1 || encoding == DE_STEIM2; }
bool is_decodable(int encoding) { return is_steim(encoding) || fixed_sample_size(encoding) > 0; }

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// The first reason a fixed-header start time is out of range, or "".
std::string time_fields_problem(const BTime& t) {
  if (t.year < 1900 || t.year > 2100) return fmt::format("year {} is outside 1900-2100", t.year);
  const int days = is_leap(t.year) ? 366 : 365;
  if (t.day < 1 || t.day > days) return fmt::format("day of year {} is outside 1-{} for {}", t.day, days, t.year);
  if (t.hour > 23) return fmt::format("hour {} is outside 0-23", t.hour);
  if (t.min > 59) return fmt::format("minute {} is outside 0-59", t.min);
  if (t.sec > 60) return fmt::format("second {} is outside 0-60", t.sec);
  if (t.fract > 10000) return fmt::format("fraction {} (units of 0.0001 s) is outside 0-9999", t.fract);
  return {};
}

// Appends one SEED code from its fixed-header field (`size` raw bytes),
// escaping what is not printable ASCII. The trailing run of spaces and NULs
// is padding: SEED pads with spaces, some writers with NULs. Any other NUL
// is part of the code and escaped ("AN\0MO" is AN\x00MO, never "AN").
void append_code(ValidatedRecord& r, const uint8_t* field, size_t size) {
  while (size > 0 && (field[size - 1] == ' ' || field[size - 1] == 0)) --size;
  for (size_t i = 0; i < size; ++i) {
    const uint8_t c = field[i];
    if (c > 0x20 && c < 0x7f && c != '.' && c != '\\') {
      r.source_id_buffer[r.source_id_length++] = static_cast<char>(c);
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      r.source_id_buffer[r.source_id_length++] = '\\';
      r.source_id_buffer[r.source_id_length++] = 'x';
      r.source_id_buffer[r.source_id_length++] = kHex[c >> 4];
      r.source_id_buffer[r.source_id_length++] = kHex[c & 15];
    }
  }
}

// Whether the bytes at `p` (at least 48) start a miniSEED 2 record or a
// blank (noise) record, as libmseed's ms_detect tests them.
bool looks_like_a_record(const uint8_t* p) {
  const auto* c = reinterpret_cast<const char*>(p);
  return MS_ISVALIDHEADER(c) || MS_ISVALIDBLANK(c);
}

// Why the first 48 bytes are not a miniSEED 2 fixed header (libmseed's
// MS_ISVALIDHEADER test, spelled out).
Validation header_problem(std::span<const uint8_t> b) {
  for (size_t i = 0; i < 6; ++i) {
    const char c = static_cast<char>(b[i]);
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == ' ' || c == '\0')) {
      return reject(RejectReason::kNotMiniSeed,
                    fmt::format("not a miniSEED 2 record: no fixed header (byte {} is 0x{:02X} where the sequence "
                                "number needs a digit)",
                                i, b[i]));
    }
  }
  if (!MS_ISDATAINDICATOR(static_cast<char>(b[6]))) {
    return reject(RejectReason::kNotMiniSeed,
                  fmt::format("not a miniSEED 2 record: no fixed header (quality indicator is 0x{:02X}, not D, R, "
                              "Q or M)",
                              b[6]));
  }
  if (!(b[7] == ' ' || b[7] == 0)) {
    return reject(RejectReason::kNotMiniSeed,
                  fmt::format("not a miniSEED 2 record: no fixed header (byte 7 is 0x{:02X}, not a space)", b[7]));
  }
  return reject(RejectReason::kInvalidTime,
                fmt::format("invalid start time in the fixed header: time of day {}:{}:{} is out of range",
                            static_cast<signed char>(b[24]), static_cast<signed char>(b[25]),
                            static_cast<signed char>(b[26])));
}

}  // namespace

Validation RecordValidator::validate(std::span<const uint8_t> bytes, TimeNs now_ns) {
  // Everything libmseed would trust is checked first, on the raw bytes and
  // without the lock: the framing, the fixed header's signature and the
  // blockette chain (blockette_chain.h). libmseed sees only records it reads
  // inside their bytes, with bounded work.
  const size_t n = bytes.size();
  const bool v3 = n >= 3 && bytes[0] == 'M' && bytes[1] == 'S' && bytes[2] == 3;
  if (v3) {
    return reject(RejectReason::kUnsupportedVersion,
                  "miniSEED 3 is not supported: this server stores miniSEED 2 records");
  }
  if (n < kFixedHeader + 4) {
    return reject(n >= 8 && MS_ISDATAINDICATOR(static_cast<char>(bytes[6])) ? RejectReason::kTruncated
                                                                            : RejectReason::kNotMiniSeed,
                  fmt::format("{} bytes are too few for a miniSEED record (at least 128)", n));
  }
  if (n > MAXRECLEN) {
    return reject(RejectReason::kRecordTooLarge,
                  fmt::format("{} bytes: larger than the largest miniSEED record ({} bytes)", n, MAXRECLEN));
  }
  const auto* raw = reinterpret_cast<const char*>(bytes.data());
  if (!MS_ISVALIDHEADER(raw)) return header_problem(bytes);

  const BlocketteChain chain = walk_blockette_chain(bytes);
  if (!chain.ok()) return reject(chain.reason(), chain.message());
  if (chain.b1000_offset == 0) {
    // No blockette 1000: the length is the buffer's, which must be one
    // libmseed can read; and, as libmseed's ms_detect finds the length of
    // such a record, the buffer must not hold the start of another record
    // at a multiple of 128 bytes (two records sent as one).
    if (n < MINRECLEN || (n & (n - 1)) != 0) {
      return reject(RejectReason::kRecordLengthMismatch,
                    fmt::format("record without blockette 1000 is {} bytes; a record length must be a power of two "
                                "from 128 to 1048576",
                                n));
    }
    for (size_t at = MINRECLEN; at + kFixedHeader + 4 < n; at += MINRECLEN) {
      if (looks_like_a_record(bytes.data() + at)) {
        return reject(RejectReason::kRecordLengthMismatch,
                      fmt::format("record without blockette 1000 is {} bytes, but another record starts at byte {}: "
                                  "the record length is {} bytes",
                                  n, at, at));
      }
    }
  }

  // libmseed, under the process-wide lock, for this record only: taken
  // here and let go before the Steim scan, which needs no libmseed.
  std::optional<LibmseedLock> own;
  LibmseedLock* lock = &own.emplace();
  lock->clear_messages();
  // Header and blockettes only, with the record length known (no
  // ms_detect); the data is decoded below, after checks that keep libmseed's
  // decoders inside the record.
  int rc = msr_parse(const_cast<char*>(raw), static_cast<int>(n), msr_.out(), static_cast<int>(n), 0, 0);
  if (rc != MS_NOERROR) {
    const std::string why = lock->error_logged() ? std::string(lock->first_error()) : ms_errorstr(rc);
    if (rc == MS_OUTOFRANGE) return reject(RejectReason::kRecordLengthMismatch, why);
    return reject(RejectReason::kBadHeader, fmt::format("unparseable header: {}", why));
  }
  if (lock->error_logged()) {
    return reject(RejectReason::kBadBlockettes, fmt::format("blockette chain: {}", lock->first_error()));
  }
  MSRecord* msr = msr_.get();
  const fsdh_s& h = *msr->fsdh;

  if (auto problem = time_fields_problem(h.start_time); !problem.empty()) {
    return reject(RejectReason::kInvalidTime, fmt::format("invalid start time in the fixed header: {}", problem));
  }
  const TimeNs start_ns = static_cast<TimeNs>(msr->starttime) * (kNanosPerSecond / HPTMODULUS);
  if (start_ns > now_ns + options_.future_margin_ns) {
    return reject(RejectReason::kFutureTime,
                  fmt::format("record starts at {}, more than {} s after the server's clock ({})",
                              format_iso8601(start_ns), options_.future_margin_ns / kNanosPerSecond,
                              format_iso8601(now_ns)));
  }
  const double rate = msr_samprate(msr);
  if (!std::isfinite(rate) || rate < 0) {
    return reject(RejectReason::kBadHeader, fmt::format("invalid sample rate {}", rate));
  }
  const int encoding = msr->encoding;
  const int64_t count = msr->samplecnt;
  if (!is_decodable(encoding)) {
    return reject(RejectReason::kUnsupportedEncoding,
                  fmt::format("data encoding {} ({}) is not supported", encoding, ms_encodingstr(encoding)));
  }

  TimeNs end_ns = start_ns;
  if (count > 1 && rate > 0) {
    const double span = std::round(static_cast<double>(count - 1) * 1e9 / rate);
    if (span > 1e18) {
      return reject(RejectReason::kBadHeader,
                    fmt::format("{} samples at {} Hz span more than 30 years", count, rate));
    }
    end_ns = start_ns + static_cast<TimeNs>(span);
  }

  if (count > 0) {
    const size_t data_offset = h.data_offset;
    if (data_offset < kFixedHeader || data_offset >= n) {
      return reject(RejectReason::kBadHeader,
                    fmt::format("data offset {} is outside the record (48-{})", data_offset, n - 1));
    }
    const size_t data_size = n - data_offset;
    if (const size_t size = fixed_sample_size(encoding);
        size > 0 && static_cast<size_t>(count) * size > data_size) {
      return reject(RejectReason::kDecodeFailed,
                    fmt::format("header says {} samples of {} bytes ({}), but the data section holds {} bytes",
                                count, size, ms_encodingstr(encoding), data_size));
    }
    if (is_steim(encoding) && data_size < 64) {
      return reject(RejectReason::kDecodeFailed,
                    fmt::format("Steim data section of {} bytes is smaller than one 64-byte frame", data_size));
    }
    // The data's byte order, decided as libmseed's msr_unpack decides it.
    // Without blockette 1000 the data follows the header's byte order.
    const bool swap = msr->Blkt1000 ? msr->byteorder > 0  // big-endian data on this little-endian host (any non-zero is BE)
                                    : chain.swapped;
    if (is_steim(encoding)) {
      own.reset();  // no libmseed from here on
      lock = nullptr;
      // Walked without libmseed (see steim_scan.h): the same verdicts in
      // half the time.
      const auto scan = scan_steim(encoding == DE_STEIM1 ? 1 : 2, bytes.subspan(data_offset), count, swap);
      if (!scan.error.empty()) {
        return reject(RejectReason::kDecodeFailed, fmt::format("data section does not decode: {}", scan.error));
      }
      if (scan.samples != count) {
        return reject(RejectReason::kDecodeFailed,
                      fmt::format("data section decodes to {} samples, header says {}", scan.samples, count));
      }
      if (scan.last != scan.xn) {
        return reject(RejectReason::kSteimIntegrity,
                      fmt::format("Steim-{} integrity check failed: last decoded sample is {}, the reverse "
                                  "integration constant is {}",
                                  encoding == DE_STEIM1 ? 1 : 2, scan.last, scan.xn));
      }
    } else {
      const int decoded = msr_unpack_data(msr, swap, 0);
      if (decoded < 0) {
        if (decoded == MS_UNKNOWNFORMAT) {
          return reject(RejectReason::kUnsupportedEncoding,
                        fmt::format("data encoding {} is not supported", encoding));
        }
        return reject(RejectReason::kDecodeFailed,
                      fmt::format("data section does not decode: {}",
                                  lock->error_logged() ? lock->first_error() : std::string_view(ms_errorstr(decoded))));
      }
      if (decoded != count || lock->error_logged()) {
        return reject(RejectReason::kDecodeFailed,
                      fmt::format("data section decodes to {} samples, header says {}{}{}", decoded, count,
                                  lock->error_logged() ? ": " : "", lock->first_error()));
      }
    }
  }

  Validation v;
  ValidatedRecord& r = v.record;
  // From the fixed header's raw fields, not libmseed's C strings (which end
  // at a NUL): station 8-12, location 13-14, channel 15-17, network 18-19.
  append_code(r, bytes.data() + 18, 2);
  r.source_id_buffer[r.source_id_length++] = '.';
  append_code(r, bytes.data() + 8, 5);
  r.source_id_buffer[r.source_id_length++] = '.';
  append_code(r, bytes.data() + 13, 2);
  r.source_id_buffer[r.source_id_length++] = '.';
  append_code(r, bytes.data() + 15, 3);
  r.start_ns = start_ns;
  r.end_ns = end_ns;
  r.sample_rate = rate;
  r.sample_count = count;
  r.encoding = encoding;
  r.record_length = static_cast<uint32_t>(n);
  r.quality = msr->dataquality;
  r.bytes = bytes;
  return v;
}

}  // namespace seisvault::ingest
