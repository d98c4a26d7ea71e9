#include <catch2/catch.hpp>

#include <libmseed.h>

#include <cmath>
#include <cstring>
#include <map>
#include <random>
#include <set>

#include "miniseed_repack.h"
#include "seisvault/common/libmseed_lock.h"
#include "seisvault/common/mseed_record.h"
#include "support/corpus.h"
#include "support/record_factory.h"

using namespace seisvault;
using seisvault::server::seedlink::record_type;
using seisvault::server::seedlink::repack_to_512;

namespace {

// What libmseed reads from one record, samples included.
struct Decoded {
  bool ok = false;
  bool error_logged = false;
  std::string id;  // NET.STA.LOC.CHA
  char quality = 0;
  hptime_t start = 0;
  double rate = 0;
  int16_t rate_factor = 0, rate_multiplier = 0;
  int encoding = -1;
  int byte_order = -1;
  int reclen = 0;
  bool has_1001 = false;
  bool time_correction_applied = false;
  char sample_type = 0;
  int64_t sample_count = 0;
  std::vector<uint8_t> samples;
};

Decoded decode(std::span<const uint8_t> record) {
  Decoded d;
  std::vector<char> buf(record.begin(), record.end());
  LibmseedLock lock;
  MseedRecord msr;
  if (msr_unpack(buf.data(), static_cast<int>(buf.size()), msr.out(), 1, 0) != MS_NOERROR || !msr.get()) return d;
  d.ok = true;
  d.error_logged = lock.error_logged();
  d.id = std::string(msr->network) + "." + msr->station + "." + msr->location + "." + msr->channel;
  d.quality = msr->dataquality;
  d.start = msr->starttime;
  d.rate = msr->samprate;
  d.rate_factor = msr->fsdh->samprate_fact;
  d.rate_multiplier = msr->fsdh->samprate_mult;
  d.encoding = msr->encoding;
  d.byte_order = msr->byteorder;
  d.reclen = msr->reclen;
  d.has_1001 = msr->Blkt1001 != nullptr;
  d.time_correction_applied = (msr->fsdh->act_flags & 0x02) != 0;
  d.sample_type = msr->sampletype;
  d.sample_count = msr->numsamples;
  if (msr->numsamples > 0) {
    const size_t size = ms_samplesize(msr->sampletype);
    const auto* p = static_cast<const uint8_t*>(msr->datasamples);
    d.samples.assign(p, p + size * static_cast<size_t>(msr->numsamples));
  }
  return d;
}

std::span<const uint8_t> bytes(const std::string& s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

std::vector<uint8_t> corpus_record(const std::string& file, size_t index = 0) {
  const auto dir = test::corpus_dir_or_skip();
  auto pieces = test::split_file(test::read_file(dir / file));
  size_t seen = 0;
  for (auto& p : pieces) {
    if (p.where.kind != PieceKind::kRecord) continue;
    if (seen++ == index) return std::move(p.bytes);
  }
  FAIL("no record " << index << " in " << file);
  return {};
}

int8_t expected_encoding(int original, char sample_type) {
  switch (original) {
    case DE_ASCII: case DE_INT16: case DE_INT32: case DE_FLOAT32: case DE_FLOAT64: case DE_STEIM1: case DE_STEIM2:
      return static_cast<int8_t>(original);
    default:
      return sample_type == 'i' ? DE_STEIM2 : sample_type == 'f' ? DE_FLOAT32 : sample_type == 'd' ? DE_FLOAT64 : DE_ASCII;
  }
}

// Checks everything repack_to_512 promises for one record; returns the output.
std::vector<std::string> check_repacked(std::span<const uint8_t> original, const Decoded& before) {
  auto result = repack_to_512(original);
  REQUIRE(result.ok());
  const auto& records = *result;
  REQUIRE_FALSE(records.empty());
  if (original.size() == 512) {
    REQUIRE(records.size() == 1);
    CHECK(records[0] == std::string(reinterpret_cast<const char*>(original.data()), original.size()));
    return records;
  }
  std::vector<uint8_t> samples;
  int64_t count = 0;
  for (size_t k = 0; k < records.size(); ++k) {
    INFO("output record " << k);
    REQUIRE(records[k].size() == 512);
    const Decoded after = decode(bytes(records[k]));
    REQUIRE(after.ok);
    CHECK_FALSE(after.error_logged);
    CHECK(after.reclen == 512);
    CHECK(after.byte_order == 1);
    CHECK(after.id == before.id);
    CHECK(after.quality == before.quality);
    CHECK(after.rate == before.rate);
    CHECK(after.rate_factor == before.rate_factor);
    CHECK(after.rate_multiplier == before.rate_multiplier);
    CHECK(after.encoding == expected_encoding(before.encoding, before.sample_type));
    CHECK(record_type(bytes(records[k])) == record_type(original));
    if (before.sample_count > 0) CHECK(after.sample_type == before.sample_type);
    // The first record starts where the original did; each next at the time
    // of its first sample (libmseed's arithmetic, which rounds to 1 us).
    if (k == 0 || before.rate <= 0) {
      CHECK(after.start == before.start);
    } else {
      const double expected = static_cast<double>(before.start) + static_cast<double>(count) / before.rate * 1e6;
      CHECK(std::fabs(static_cast<double>(after.start) - expected) <= 1.0);
    }
    samples.insert(samples.end(), after.samples.begin(), after.samples.end());
    count += after.sample_count;
  }
  CHECK(count == before.sample_count);
  CHECK(samples == before.samples);
  return records;
}

}  // namespace

TEST_CASE("every corpus record of another length becomes 512-byte records with the same samples, times and rate",
          "[repack]") {
  const auto dir = test::corpus_dir_or_skip();
  std::set<int> encodings;
  std::set<size_t> lengths;
  std::set<std::string> files;
  int repacked = 0;
  for (const auto& row : test::read_manifest(dir)) {
    if (!row.parses() || row.mseed_version != 2) continue;
    for (const auto& piece : test::split_file(test::read_file(dir / row.file))) {
      if (piece.where.kind != PieceKind::kRecord) continue;
      const Decoded before = decode(piece.bytes);
      if (!before.ok || before.error_logged) continue;
      INFO(row.file << " at byte " << piece.where.offset << ", " << piece.bytes.size() << " bytes, encoding "
                    << before.encoding);
      check_repacked(piece.bytes, before);
      if (piece.bytes.size() != 512) {
        ++repacked;
        encodings.insert(before.encoding);
        lengths.insert(piece.bytes.size());
        files.insert(row.file);
      }
    }
  }
  // The corpus must have exercised what the server meets: text, INT16,
  // INT32, FLOAT32, FLOAT64, Steim-1, Steim-2 and SRO (written as Steim-2),
  // in records shorter and longer than 512 bytes.
  CHECK(repacked >= 20);
  for (int e : {0, 1, 3, 4, 5, 10, 11, 30}) {
    INFO("encoding " << e);
    CHECK(encodings.count(e) == 1);
  }
  for (size_t n : {128u, 256u, 1024u, 2048u, 4096u, 8192u}) {
    INFO("length " << n);
    CHECK(lengths.count(n) == 1);
  }
}

TEST_CASE("a 512-byte record comes back byte for byte, whatever its byte order", "[repack]") {
  for (const char* file : {"libmseed__testdata-3channel-signal.mseed2", "obspy__gecko_non_ascii_header.ms",
                           "libmseed__testdata-detection.record.mseed2"}) {
    INFO(file);
    const auto record = corpus_record(file);
    REQUIRE(record.size() == 512);
    auto result = repack_to_512(record);
    REQUIRE(result.ok());
    REQUIRE(result->size() == 1);
    CHECK(std::memcmp((*result)[0].data(), record.data(), 512) == 0);
  }
}

TEST_CASE("a time correction the original had not applied is applied once, not twice", "[repack]") {
  const auto record = corpus_record("libmseed__testdata-unapplied-timecorrection.mseed2");
  const Decoded before = decode(record);
  REQUIRE(before.ok);
  REQUIRE_FALSE(before.time_correction_applied);
  const auto records = check_repacked(record, before);
  REQUIRE(records.size() > 1);
  for (const auto& r : records) CHECK(decode(bytes(r)).time_correction_applied);
  // 2003-05-29T02:13:23.0434Z: the header's 02:13:22.0434 plus the 1 s correction.
  CHECK(decode(bytes(records[0])).start == before.start);
}

TEST_CASE("microsecond start times survive: blockette 1001 is added when the original has none", "[repack]") {
  // 20.00022125 Hz (blockette 100): sample times fall between 100 us ticks.
  const auto record = corpus_record("libmseed__Steim1-AllDifferences-LE.mseed");
  const Decoded before = decode(record);
  REQUIRE(before.ok);
  REQUIRE_FALSE(before.has_1001);
  const auto records = check_repacked(record, before);
  REQUIRE(records.size() > 1);
  for (const auto& r : records) CHECK(decode(bytes(r)).has_1001);
  // The second record starts off the 100 us grid, which only blockette 1001 can say.
  CHECK(decode(bytes(records[1])).start % 100 != 0);
}

TEST_CASE("a factory record with microseconds keeps them in every 512-byte record", "[repack]") {
  test::RecordSpec spec;
  spec.record_length = 4096;
  spec.start_ns = 1'700'000'000'069'539'000;
  spec.sample_rate = 3.0;  // a period of 333333.3 us
  spec.encoding = 11;
  const auto originals = test::pack_records(spec, test::random_walk(2000));
  REQUIRE(originals.size() >= 1);
  const Decoded before = decode(originals[0]);
  REQUIRE(before.ok);
  const auto records = check_repacked(originals[0], before);
  CHECK(records.size() > 3);
  CHECK(decode(bytes(records[0])).start == 1'700'000'000'069'539);
}

TEST_CASE("text, integer and float factory records of 4096 bytes keep their encoding", "[repack]") {
  test::RecordSpec spec;
  spec.record_length = 4096;
  SECTION("text") {
    spec.encoding = 0;
    spec.sample_rate = 0;
    std::string text;
    for (int i = 0; i < 300; ++i) text += "log line " + std::to_string(i) + "\n";
    const auto recs = test::pack_text_records(spec, text.substr(0, 3000));
    check_repacked(recs[0], decode(recs[0]));
  }
  SECTION("INT32") {
    spec.encoding = 3;
    const auto recs = test::pack_records(spec, test::random_walk(1000, 7, 100000));
    check_repacked(recs[0], decode(recs[0]));
  }
  SECTION("FLOAT64") {
    spec.encoding = 5;
    std::vector<double> v(500);
    for (size_t i = 0; i < v.size(); ++i) v[i] = std::sin(static_cast<double>(i) * 0.01) * 1e-3;
    const auto recs = test::pack_records(spec, v);
    check_repacked(recs[0], decode(recs[0]));
  }
}

TEST_CASE("SRO-encoded samples, which libmseed cannot write, become Steim-2 with the same values", "[repack]") {
  const auto record = corpus_record("obspy__SRO_encoding.mseed");
  const Decoded before = decode(record);
  REQUIRE(before.ok);
  REQUIRE(before.encoding == 30);
  const auto records = check_repacked(record, before);
  CHECK(decode(bytes(records[0])).encoding == DE_STEIM2);
}

TEST_CASE("a record without samples keeps its header and blockettes in one 512-byte record", "[repack]") {
  // The detection record (blockette 201, no samples) as if stored in 4096 bytes.
  auto record = corpus_record("libmseed__testdata-detection.record.mseed2");
  REQUIRE(record.size() == 512);
  REQUIRE(record[48] == 0x03);  // blockette 1000 first, big-endian
  REQUIRE(record[49] == 0xE8);
  record.resize(4096, 0);
  record[54] = 12;  // 2^12
  auto result = repack_to_512(record);
  REQUIRE(result.ok());
  REQUIRE(result->size() == 1);
  const std::string& out = (*result)[0];
  REQUIRE(out.size() == 512);
  const Decoded after = decode(bytes(out));
  REQUIRE(after.ok);
  CHECK(after.reclen == 512);
  CHECK(after.sample_count == 0);
  CHECK(after.start == decode(record).start);
  CHECK(record_type(bytes(out)) == 'E');
  // Same fixed header and blockettes, except blockette 1000's length.
  auto expected = std::vector<uint8_t>(record.begin(), record.begin() + 512);
  expected[54] = 9;
  CHECK(std::memcmp(out.data(), expected.data(), 116) == 0);
}

TEST_CASE("garbage and inconsistent lengths are refused with an error, never a crash", "[repack]") {
  auto refused = [](std::span<const uint8_t> data, StatusCode code) {
    auto r = repack_to_512(data);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == code);
    CHECK_FALSE(r.status().message().empty());
  };
  refused({}, StatusCode::kInvalidArgument);
  std::vector<uint8_t> junk(4096);
  std::mt19937 rng(42);
  for (auto& b : junk) b = static_cast<uint8_t>(rng());
  refused(std::span(junk).first(10), StatusCode::kInvalidArgument);
  refused(std::span(junk).first(512), StatusCode::kInvalidArgument);
  refused(junk, StatusCode::kInvalidArgument);

  const auto good = corpus_record("libmseed__testdata-unapplied-timecorrection.mseed2");
  REQUIRE(good.size() == 4096);
  SECTION("blockette 1000 says 4096 but fewer bytes are given") {
    refused(std::span(good).first(1000), StatusCode::kInvalidArgument);
    refused(std::span(good).first(512), StatusCode::kInvalidArgument);
  }
  SECTION("more bytes than blockette 1000 says") {
    auto longer = good;
    longer.resize(8192, 0);
    refused(longer, StatusCode::kInvalidArgument);
  }
  SECTION("without blockette 1000 the length must be a power of two") {
    auto record = corpus_record("libmseed__testdata-no-blockette1000-steim1.mseed2");
    REQUIRE(record.size() == 4096);
    refused(std::span(record).first(3000), StatusCode::kInvalidArgument);
  }
  SECTION("scribbled Steim frames fail libmseed's integrity check") {
    auto bad = good;
    for (size_t i = 128; i < bad.size(); ++i) bad[i] = static_cast<uint8_t>(rng());
    auto r = repack_to_512(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kCorruption);
  }
}

TEST_CASE("mutated records never crash the repacker or the classifier", "[repack]") {
  const auto good = corpus_record("libmseed__testdata-unapplied-timecorrection.mseed2");
  std::mt19937 rng(7);
  int ok = 0, refused = 0;
  for (int round = 0; round < 600; ++round) {
    auto bad = good;
    const int flips = 1 + static_cast<int>(rng() % 8);
    for (int f = 0; f < flips; ++f) {
      // Mostly the fixed header and blockettes, where the parsing is.
      const size_t at = (rng() % 4 == 0) ? rng() % bad.size() : rng() % 128;
      bad[at] = static_cast<uint8_t>(rng());
    }
    (void)record_type(bad);
    auto r = repack_to_512(bad);
    if (r.ok()) {
      ++ok;
      for (const auto& rec : *r) REQUIRE(rec.size() == 512);
    } else {
      ++refused;
    }
  }
  CHECK(ok + refused == 600);
}

TEST_CASE("record types follow SeisComP's rule: blockettes first, then rate and samples", "[record_type]") {
  CHECK(record_type(corpus_record("libmseed__testdata-3channel-signal.mseed2")) == 'D');
  CHECK(record_type(corpus_record("libmseed__Steim1-AllDifferences-LE.mseed")) == 'D');  // little-endian header
  CHECK(record_type(corpus_record("libmseed__testdata-detection.record.mseed2")) == 'E');
  CHECK(record_type(corpus_record("obspy__blockette300.mseed")) == 'C');
  CHECK(record_type(corpus_record("libmseed__text-encoded.mseed")) == 'L');
  CHECK(record_type(corpus_record("obspy__rt130_sr0_cropped.mseed")) == 'L');

  // The detection record with its blockette 201 renamed.
  auto with_blockette = [](uint16_t type) {
    auto r = corpus_record("libmseed__testdata-detection.record.mseed2");
    r[56] = static_cast<uint8_t>(type >> 8);
    r[57] = static_cast<uint8_t>(type & 0xFF);
    return r;
  };
  CHECK(record_type(with_blockette(500)) == 'T');
  CHECK(record_type(with_blockette(310)) == 'C');
  CHECK(record_type(with_blockette(2000)) == 'O');  // no samples, rate factor 0
  CHECK(record_type(with_blockette(100)) == 'D');   // no samples, rate factor 0, nothing special
  auto log = with_blockette(100);
  log[31] = 5;  // five samples with a rate factor of 0: a log record
  CHECK(record_type(log) == 'L');
}

TEST_CASE("record_type is safe on short, garbage and looping input", "[record_type]") {
  CHECK(record_type({}) == '\0');
  std::vector<uint8_t> zeros(47, 0);
  CHECK(record_type(zeros) == '\0');
  std::vector<uint8_t> junk(512);
  std::mt19937 rng(3);
  for (auto& b : junk) b = static_cast<uint8_t>(rng());
  CHECK(record_type(junk) == '\0');

  // A blockette that points to itself, and one that points past the end.
  auto r = corpus_record("libmseed__testdata-detection.record.mseed2");
  r[50] = 0;
  r[51] = 48;  // blockette 1000's "next" = its own offset
  CHECK(record_type(r) == 'D');
  r[50] = 0x01;
  r[51] = 0xFE;  // 510: its 4-byte header would end past 512
  CHECK(record_type(r) == 'D');
  CHECK(record_type(std::span(r).first(52)) == 'D');  // the chain is cut short: classify what was read

  // Valid-looking headers with random blockette chains.
  for (int round = 0; round < 2000; ++round) {
    auto m = corpus_record("libmseed__testdata-detection.record.mseed2");
    for (size_t i = 46; i < 120; ++i) {
      if (rng() % 3 == 0) m[i] = static_cast<uint8_t>(rng());
    }
    const char t = record_type(std::span(m).first(48 + rng() % 465));
    CHECK((t == 'D' || t == 'E' || t == 'C' || t == 'T' || t == 'L' || t == 'O'));
  }
}

namespace {

std::string from_hex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

}  // namespace

// Fuzzing finding F7 (fuzz/regressions/miniseed_repack/code-with-nul-renamed):
// a channel code holding a NUL ("\0(E") came out of libmseed's packer as an
// empty channel: the pieces named another channel than the store's.
TEST_CASE("repacked pieces keep the original's raw code bytes (F7)", "[repack][regression]") {
  const std::string original = from_hex(
      "3030303030314420540000000000000028455858d4075e01000000000000000000000000000000000000000000000000000000000000"
      "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
      "0000000000000000000000000000000000000000");
  REQUIRE(original.size() == 128);
  auto pieces = repack_to_512(bytes(original));
  REQUIRE(pieces.ok());
  for (const auto& p : *pieces) {
    REQUIRE(p.size() == 512);
    CHECK(p.substr(8, 12) == original.substr(8, 12));
  }
}

// Fuzzing finding F8 (fuzz/regressions/miniseed_repack/header-only-data-offset-too-small):
// a record without samples whose data offset (52) leaves no room for its
// blockettes became a piece claiming blockettes it did not hold.
TEST_CASE("a record without samples and a short data offset keeps its blockettes (F8)", "[repack][regression]") {
  const std::string original = from_hex(
      "3030303030314420544553542020204248455858d4075e000000011900000000010001000000000100000000340000001c4000000000"
      "000000000028400000000000002a400000000000002c40000000264000000000000028400000000000002a400000000000002c400000"
      "0000000000000000000038400000000000003940");
  REQUIRE(original.size() == 128);
  auto pieces = repack_to_512(bytes(original));
  if (!pieces.ok()) {
    SUCCEED("refused with a reason: " << pieces.status().message());
    return;
  }
  for (const auto& p : *pieces) {
    REQUIRE(p.size() == 512);
    const Decoded d = decode(bytes(p));
    CHECK(d.ok);
    CHECK_FALSE(d.error_logged);
    CHECK(d.reclen == 512);
  }
}
