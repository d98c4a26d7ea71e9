// libFuzzer target: repack_to_512 and record_type (server/src/miniseed_repack.h),
// what the SeedLink face does to every record it sends to a v3 client.
//
// What is fed: record_type gets every input. repack_to_512 gets the inputs
// RecordValidator accepts (at a fixed "now"), because the server repacks
// only records from the store, and the store holds only what the validator
// accepted; with SEISVAULT_FUZZ_STRICT=1 in the environment it gets every
// input too. Why not always: repack_to_512 hands any record with a valid
// fixed header to libmseed's msr_unpack, which reads outside the record
// when the header or the blockette chain says so (finding F6 in
// docs/testing.md, reproducer in fuzz/regressions/miniseed_repack/); on
// arbitrary bytes the campaign would find nothing else.
//
// Checks, besides crashes and sanitizer reports:
//   - record_type gives '\0' or one of D E C T L O, and '\0' for fewer than
//     48 bytes;
//   - a refusal has a message and one of the documented codes
//     (InvalidArgument, Corruption, ResourceExhausted, Internal);
//   - a success gives one or more pieces of exactly 512 bytes; a 512-byte
//     input comes back as itself, alone; the input had a valid fixed header
//     (record_type is not '\0');
//   - each piece of a repacked (not 512-byte) record is one libmseed reads
//     without logging an error and RecordValidator accepts (what the server
//     sends, it would itself store),
//     of the same network, station, location and channel (the fixed
//     header's fields without trailing spaces and NULs: the store's source
//     id), quality, sample rate
//     and SeedLink type as the original; the first starts at the original's
//     start time and has its sequence number (when it is one of SEED's
//     1-999999); together they hold exactly the
//     original's samples (as libmseed decodes them), in order, of the same
//     sample type.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <libmseed.h>

#include "fuzz_check.h"
#include "miniseed_repack.h"
#include "seisvault/common/libmseed_lock.h"
#include "seisvault/common/mseed_record.h"
#include "seisvault/ingest/record_validator.h"

namespace {

using seisvault::LibmseedLock;
using seisvault::MseedRecord;
using seisvault::StatusCode;
namespace sls = seisvault::server::seedlink;

constexpr size_t kPieceSize = 512;

// A fixed "now" keeps verdicts reproducible: 2030-01-01T00:00:00Z.
constexpr seisvault::TimeNs kNow = 1'893'456'000LL * seisvault::kNanosPerSecond;
// For the pieces, whose starts may lie past the original's: about 2230.
constexpr seisvault::TimeNs kFarFuture = kNow + 200LL * 31'556'952 * seisvault::kNanosPerSecond;

// One validator for the run, as a validation worker keeps one.
seisvault::ingest::RecordValidator& validator() {
  static seisvault::ingest::RecordValidator v;
  return v;
}

// SEISVAULT_FUZZ_STRICT set: repack every input, not only stored ones.
bool strict() {
  static const bool on = std::getenv("SEISVAULT_FUZZ_STRICT") != nullptr;
  return on;
}

bool known_type(char t) { return t == 'D' || t == 'E' || t == 'C' || t == 'T' || t == 'L' || t == 'O'; }

size_t sample_size(char type) {
  switch (type) {
    case 'a': return 1;
    case 'i':
    case 'f': return 4;
    case 'd': return 8;
    default: return 0;
  }
}

// What libmseed reads from one record.
struct Decoded {
  bool ok = false;
  std::string error;
  char quality = 0;
  double rate = 0;
  hptime_t start = 0;
  int32_t sequence = 0;
  char sample_type = 0;
  int64_t samples = 0;
  std::vector<uint8_t> data;  // the decoded samples' bytes
};

Decoded decode(std::span<const uint8_t> record) {
  Decoded d;
  std::vector<char> buffer(record.begin(), record.end());
  LibmseedLock lock;
  MseedRecord msr;
  const int rc = msr_unpack(buffer.data(), static_cast<int>(buffer.size()), msr.out(), 1, 0);
  if (rc != MS_NOERROR || msr.get() == nullptr || msr->fsdh == nullptr || lock.error_logged()) {
    d.error = lock.first_error().empty() ? std::string(ms_errorstr(rc)) : std::string(lock.first_error());
    return d;
  }
  const MSRecord& m = *msr.get();
  d.ok = true;
  d.quality = m.dataquality;
  d.rate = m.samprate;
  d.start = m.starttime;
  d.sequence = m.sequence_number;
  d.sample_type = m.sampletype;
  d.samples = m.numsamples;
  const size_t n = static_cast<size_t>(m.numsamples > 0 ? m.numsamples : 0) * sample_size(m.sampletype);
  if (n > 0 && m.datasamples) {
    const auto* p = static_cast<const uint8_t*>(m.datasamples);
    d.data.assign(p, p + n);
  }
  return d;
}

// NET.STA.LOC.CHA from the fixed header's raw fields, as SeisVault names a
// record (RecordValidator's source id): each field without its trailing
// spaces and NULs, anything else kept (libmseed's C strings end at a NUL and
// keep some spaces, so they are not the store's codes).
std::string raw_codes(std::span<const uint8_t> record) {
  const auto field = [&](size_t at, size_t n) {
    while (n > 0 && (record[at + n - 1] == ' ' || record[at + n - 1] == 0)) --n;
    std::string out;
    for (size_t i = at; i < at + n; ++i) {
      const uint8_t c = record[i];
      out += (c > 0x20 && c < 0x7f && c != '\\') ? std::string(1, static_cast<char>(c)) : fmt::format("\\x{:02X}", c);
    }
    return out;
  };
  return field(18, 2) + "." + field(8, 5) + "." + field(13, 2) + "." + field(15, 3);
}

bool same_rate(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

void check_pieces(std::span<const uint8_t> input, const std::vector<std::string>& pieces, char input_type) {
  const Decoded original = decode(input);
  FUZZ_CHECK(original.ok, fmt::format("repacked, but libmseed cannot read the original: {}", original.error));
  std::vector<uint8_t> samples;
  int64_t count = 0;
  for (size_t i = 0; i < pieces.size(); ++i) {
    const auto piece = std::span(reinterpret_cast<const uint8_t*>(pieces[i].data()), pieces[i].size());
    const Decoded d = decode(piece);
    FUZZ_CHECK(d.ok, fmt::format("piece {} of {}: libmseed cannot read it: {}", i, pieces.size(), d.error));
    const auto verdict = validator().validate(piece, kFarFuture);
    FUZZ_CHECK(verdict.ok(), fmt::format("piece {} of {}: the validator refuses it: {}", i, pieces.size(),
                                         verdict.message));
    FUZZ_CHECK(raw_codes(piece) == raw_codes(input),
               fmt::format("piece {}: {}, the original {}", i, raw_codes(piece), raw_codes(input)));
    FUZZ_CHECK(d.quality == original.quality,
               fmt::format("piece {}: quality 0x{:02X}, the original 0x{:02X}", i, static_cast<uint8_t>(d.quality),
                           static_cast<uint8_t>(original.quality)));
    FUZZ_CHECK(same_rate(d.rate, original.rate),
               fmt::format("piece {}: sample rate {}, the original {}", i, d.rate, original.rate));
    const char type = sls::record_type(piece);
    FUZZ_CHECK(type == input_type, fmt::format("piece {}: type '{}', the original '{}'", i, type, input_type));
    if (i == 0) {
      FUZZ_CHECK(d.start == original.start,
                 fmt::format("the first piece starts at {} us, the original at {} us", d.start, original.start));
      // A sequence number outside SEED's 1-999999 (the 000000 or NULs of
      // some writers) is written as libmseed pleases: msr_pack makes it 1,
      // msr_pack_header (records without samples) keeps it.
      if (original.sequence >= 1 && original.sequence <= 999999) {
        FUZZ_CHECK(d.sequence == original.sequence,
                   fmt::format("the first piece has sequence {}, the original {}", d.sequence, original.sequence));
      }
    }
    if (d.samples > 0) {
      FUZZ_CHECK(d.sample_type == original.sample_type,
                 fmt::format("piece {}: samples of type '{}', the original '{}'", i, d.sample_type,
                             original.sample_type));
    }
    count += d.samples > 0 ? d.samples : 0;
    samples.insert(samples.end(), d.data.begin(), d.data.end());
  }
  const int64_t expected = original.samples > 0 ? original.samples : 0;
  FUZZ_CHECK(count == expected, fmt::format("{} pieces hold {} samples, the original {}", pieces.size(), count, expected));
  FUZZ_CHECK(samples == original.data, "the pieces' samples differ from the original's");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> input(data, size);
  const char type = sls::record_type(input);
  FUZZ_CHECK(type == '\0' || known_type(type), fmt::format("record_type 0x{:02X}", static_cast<uint8_t>(type)));
  if (size < 48) FUZZ_CHECK(type == '\0', fmt::format("type '{}' for {} bytes", type, size));

  if (!strict() && !validator().validate(input, kNow).ok()) return 0;

  auto r = sls::repack_to_512(input);
  if (!r.ok()) {
    const auto code = r.status().code();
    FUZZ_CHECK(code == StatusCode::kInvalidArgument || code == StatusCode::kCorruption ||
                   code == StatusCode::kResourceExhausted || code == StatusCode::kInternal,
               fmt::format("refused with an undocumented code: {}", r.status().message()));
    FUZZ_CHECK(!r.status().message().empty(), "a refusal without a message");
    return 0;
  }
  const auto& pieces = *r;
  FUZZ_CHECK(!pieces.empty(), "repacked into no record");
  for (size_t i = 0; i < pieces.size(); ++i) {
    FUZZ_CHECK(pieces[i].size() == kPieceSize, fmt::format("piece {} of {} bytes", i, pieces[i].size()));
  }
  FUZZ_CHECK(known_type(type), "repacked a record whose fixed header record_type refuses");
  if (size == kPieceSize) {
    FUZZ_CHECK(pieces.size() == 1 && std::memcmp(pieces[0].data(), data, size) == 0,
               "a 512-byte record does not come back as itself");
    return 0;
  }
  check_pieces(input, pieces, type);
  return 0;
}
