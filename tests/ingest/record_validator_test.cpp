// RecordValidator on records made with libmseed's packer, and on corrupted
// variants of them.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstring>
#include <future>
#include <thread>

#include "seisvault/common/curve_keys.h"
#include "seisvault/common/libmseed_lock.h"
#include "seisvault/common/station_access_list.h"
#include "seisvault/ingest/record_validator.h"
#include "support/record_factory.h"

using namespace seisvault;
using namespace seisvault::ingest;
using seisvault::test::pack_records;
using seisvault::test::RecordSpec;

namespace {

const TimeNs kNow = *parse_iso8601("2024-01-01T00:00:00Z");

std::vector<uint8_t> one_steim2_record(RecordSpec spec = {}) {
  spec.encoding = 11;
  auto recs = pack_records(spec, test::random_walk(2000));
  REQUIRE(recs.size() > 1);
  return recs.front();
}

uint16_t get_be16(const std::vector<uint8_t>& r, size_t off) { return static_cast<uint16_t>(r[off] << 8 | r[off + 1]); }
void put_be16(std::vector<uint8_t>& r, size_t off, uint16_t v) {
  r[off] = static_cast<uint8_t>(v >> 8);
  r[off + 1] = static_cast<uint8_t>(v);
}

// Offset of the first blockette of `type`, walking the chain from the
// fixed header's first-blockette field (byte 46).
size_t find_blockette(const std::vector<uint8_t>& r, uint16_t type) {
  for (size_t off = get_be16(r, 46); off != 0 && off + 4 <= r.size(); off = get_be16(r, off + 2)) {
    if (get_be16(r, off) == type) return off;
  }
  FAIL("no blockette " << type);
  return 0;
}

Validation check(const std::vector<uint8_t>& bytes, TimeNs now = kNow) {
  RecordValidator v;
  return v.validate(bytes, now);
}

}  // namespace

TEST_CASE("records packed by libmseed validate in every encoding, record length and byte order", "[validator]") {
  struct Case {
    int encoding;
    const char* name;
  };
  for (const Case c : {Case{1, "INT16"}, Case{3, "INT32"}, Case{4, "FLOAT32"}, Case{5, "FLOAT64"},
                       Case{10, "STEIM1"}, Case{11, "STEIM2"}, Case{0, "ASCII"}}) {
    for (int reclen : {256, 512, 4096}) {
      for (int byte_order : {0, 1}) {
        INFO(c.name << " reclen " << reclen << " byte order " << byte_order);
        RecordSpec spec;
        spec.encoding = c.encoding;
        spec.record_length = reclen;
        spec.byte_order = byte_order;
        spec.start_ns = *parse_iso8601("2023-06-01T12:00:00.123456Z");
        std::vector<std::vector<uint8_t>> recs;
        const auto walk = test::random_walk(1500);
        if (c.encoding == 4) {
          recs = pack_records(spec, std::vector<float>(walk.begin(), walk.end()));
        } else if (c.encoding == 5) {
          recs = pack_records(spec, std::vector<double>(walk.begin(), walk.end()));
        } else if (c.encoding == 0) {
          spec.sample_rate = 0;
          recs = test::pack_text_records(spec, std::string(1500, 'x'));
        } else {
          recs = pack_records(spec, walk);
        }
        REQUIRE_FALSE(recs.empty());
        RecordValidator validator;
        int64_t total = 0;
        for (const auto& rec : recs) {
          const auto v = validator.validate(rec, kNow);
          INFO(v.message);
          REQUIRE(v.ok());
          CHECK(v.record.source_id() == "XX.TEST.00.HHZ");
          CHECK(v.record.encoding == c.encoding);
          CHECK(v.record.record_length == static_cast<uint32_t>(reclen));
          CHECK(v.record.bytes.data() == rec.data());
          CHECK(v.record.quality == 'D');
          total += v.record.sample_count;
        }
        CHECK(total == 1500);
        const auto first = validator.validate(recs.front(), kNow);
        CHECK(first.record.start_ns == spec.start_ns);
        if (c.encoding != 0) {
          CHECK(first.record.sample_rate == 100.0);
          // 100 Hz: the last sample is (n - 1) * 10 ms after the first.
          CHECK(first.record.end_ns == spec.start_ns + (first.record.sample_count - 1) * 10'000'000);
        } else {
          CHECK(first.record.end_ns == first.record.start_ns);
        }
      }
    }
  }
}

TEST_CASE("a byte flipped in a Steim-2 difference word fails the integrity check", "[validator]") {
  auto rec = one_steim2_record();
  const size_t data_offset = get_be16(rec, 44);
  REQUIRE(check(rec).ok());
  rec[data_offset + 3 * 4 + 2] ^= 0x5A;  // frame 0, word 3: differences only, not their 2-bit code
  const auto v = check(rec);
  CHECK(v.reason == RejectReason::kSteimIntegrity);
  CHECK_THAT(v.message, Catch::Contains("reverse integration constant"));
}

TEST_CASE("a changed forward or reverse integration constant fails the Steim integrity check", "[validator]") {
  for (size_t word : {1, 2}) {
    auto rec = one_steim2_record();
    const size_t data_offset = get_be16(rec, 44);
    rec[data_offset + word * 4 + 3] ^= 0x01;
    CHECK(check(rec).reason == RejectReason::kSteimIntegrity);
  }
  RecordSpec s1;
  s1.encoding = 10;
  auto rec = pack_records(s1, test::random_walk(1000)).front();
  rec[get_be16(rec, 44) + 2 * 4 + 3] ^= 0x01;
  CHECK(check(rec).reason == RejectReason::kSteimIntegrity);
}

TEST_CASE("a header sample count that disagrees with the Steim data is rejected", "[validator]") {
  auto rec = one_steim2_record();
  const uint16_t n = get_be16(rec, 30);
  auto more = rec;
  put_be16(more, 30, static_cast<uint16_t>(n + 1));
  CHECK(check(more).reason == RejectReason::kDecodeFailed);
  auto fewer = rec;
  put_be16(fewer, 30, static_cast<uint16_t>(n - 1));  // decodes n-1 samples whose last is not Xn
  CHECK(check(fewer).reason == RejectReason::kSteimIntegrity);
}

TEST_CASE("a fixed-size encoding whose sample count overruns the record is rejected before decoding",
          "[validator]") {
  RecordSpec spec;
  spec.encoding = 3;
  spec.record_length = 256;
  auto rec = pack_records(spec, test::random_walk(100)).front();
  REQUIRE(check(rec).ok());
  put_be16(rec, 30, 1000);
  const auto v = check(rec);
  CHECK(v.reason == RejectReason::kDecodeFailed);
  CHECK_THAT(v.message, Catch::Contains("data section holds"));
}

TEST_CASE("truncated records and buffers longer than the record length are rejected", "[validator]") {
  const auto rec = one_steim2_record();
  const auto truncated = std::vector<uint8_t>(rec.begin(), rec.begin() + 300);
  auto v = check(truncated);
  CHECK(v.reason == RejectReason::kTruncated);
  CHECK_THAT(v.message, Catch::Contains("512"));
  CHECK(check(std::vector<uint8_t>(rec.begin(), rec.begin() + 40)).reason == RejectReason::kTruncated);
  auto longer = rec;
  longer.push_back(0);
  CHECK(check(longer).reason == RejectReason::kRecordLengthMismatch);
  auto two = rec;
  two.insert(two.end(), rec.begin(), rec.end());
  CHECK(check(two).reason == RejectReason::kRecordLengthMismatch);
}

TEST_CASE("broken blockette chains are rejected with the chain problem", "[validator]") {
  // A blockette starts with its type (2 bytes) and the next blockette's offset (2 bytes).
  auto rec = one_steim2_record();
  const size_t b1000 = find_blockette(rec, 1000);
  const size_t b1001 = find_blockette(rec, 1001);
  const size_t first = std::min(b1000, b1001);
  const size_t second = std::max(b1000, b1001);
  SECTION("next offset beyond the record") {
    put_be16(rec, first + 2, 0x3800);
    const auto v = check(rec);
    CHECK(v.reason == RejectReason::kBadBlockettes);
    CHECK_THAT(v.message, Catch::Contains("beyond record length"));
  }
  SECTION("next offset pointing inside the blockette itself") {
    put_be16(rec, first + 2, static_cast<uint16_t>(first + 2));
    CHECK(check(rec).reason == RejectReason::kBadBlockettes);
  }
  SECTION("a blockette of unknown type") {
    put_be16(rec, second, 0);  // the second blockette becomes type 0
    const auto v = check(rec);
    CHECK(v.reason == RejectReason::kBadBlockettes);
    CHECK_THAT(v.message, Catch::Contains("unknown blockette type 0"));
  }
}

TEST_CASE("an encoding libmseed cannot decode is rejected as unsupported", "[validator]") {
  auto rec = one_steim2_record();
  rec[find_blockette(rec, 1000) + 4] = 19;  // blockette 1000 encoding byte
  const auto v = check(rec);
  CHECK(v.reason == RejectReason::kUnsupportedEncoding);
  CHECK_THAT(v.message, Catch::Contains("19"));
}

TEST_CASE("start-time fields out of range are rejected as invalid time", "[validator]") {
  const auto good = one_steim2_record();
  auto day = good;
  put_be16(day, 22, 400);
  CHECK(check(day).reason == RejectReason::kInvalidTime);
  auto year = good;
  put_be16(year, 20, 1850);
  CHECK(check(year).reason == RejectReason::kInvalidTime);
  auto hour = good;
  hour[24] = 24;
  const auto v = check(hour);
  CHECK(v.reason == RejectReason::kInvalidTime);
  CHECK_THAT(v.message, Catch::Contains("24:"));
  auto fract = good;
  put_be16(fract, 28, 20000);
  CHECK(check(fract).reason == RejectReason::kInvalidTime);
}

TEST_CASE("a record starting beyond the future margin is rejected, within it accepted", "[validator]") {
  RecordSpec spec;
  spec.start_ns = kNow + 2 * 3600 * kNanosPerSecond;
  const auto far = pack_records(spec, test::random_walk(500)).front();
  const auto v = check(far);
  CHECK(v.reason == RejectReason::kFutureTime);
  CHECK_THAT(v.message, Catch::Contains("after the server's clock"));
  spec.start_ns = kNow + 30 * 60 * kNanosPerSecond;
  CHECK(check(pack_records(spec, test::random_walk(500)).front()).ok());
  RecordValidator lenient(ValidatorOptions{.future_margin_ns = 3 * 3600 * kNanosPerSecond});
  CHECK(lenient.validate(far, kNow).ok());
}

TEST_CASE("bytes that are not miniSEED 2 are rejected with a reason", "[validator]") {
  CHECK(check({}).reason == RejectReason::kNotMiniSeed);
  std::vector<uint8_t> text(512, 'A');
  const auto v = check(text);
  CHECK(v.reason == RejectReason::kNotMiniSeed);
  CHECK_THAT(v.message, Catch::Contains("sequence number"));
  std::vector<uint8_t> v3 = {'M', 'S', 3, 0};
  v3.resize(200);
  const auto v3r = check(v3);
  CHECK(v3r.reason == RejectReason::kUnsupportedVersion);
  CHECK_THAT(v3r.message, Catch::Contains("miniSEED 3"));
  CHECK(check(std::vector<uint8_t>(2 * 1024 * 1024, '0')).reason == RejectReason::kRecordTooLarge);
}

TEST_CASE("random corruption of a record never crashes the validator", "[validator]") {
  const auto good = one_steim2_record();
  RecordValidator validator;
  uint32_t x = 12345;
  auto next = [&] { return x = x * 1664525u + 1013904223u; };
  size_t rejected = 0;
  for (int i = 0; i < 3000; ++i) {
    auto rec = good;
    const int flips = 1 + next() % 8;
    for (int f = 0; f < flips; ++f) rec[next() % rec.size()] = static_cast<uint8_t>(next());
    if (i % 7 == 0) rec.resize(next() % rec.size());
    const auto v = validator.validate(rec, kNow);
    if (!v.ok()) {
      ++rejected;
      CHECK_FALSE(v.message.empty());
      CHECK(reject_reason_name(v.reason) != "unknown");
    }
  }
  CHECK(rejected > 0);
}

TEST_CASE("validators on several threads give the same verdicts and messages as one thread", "[validator]") {
  std::vector<std::vector<uint8_t>> inputs;
  for (const auto& r : pack_records(RecordSpec{}, test::random_walk(20000))) inputs.push_back(r);
  auto bad = inputs[0];
  put_be16(bad, get_be16(bad, 46) + 2, 0x3800);
  auto steim = inputs[1];
  steim[get_be16(steim, 44) + 14] ^= 0x5A;
  for (int i = 0; i < 20; ++i) {
    inputs.push_back(bad);
    inputs.push_back(steim);
  }
  std::vector<std::string> expected;
  RecordValidator serial;
  for (const auto& in : inputs) {
    auto v = serial.validate(in, kNow);
    expected.push_back(std::string(reject_reason_name(v.reason)) + v.message);
  }
  std::atomic<int> mismatches{0};
  auto worker = [&] {
    RecordValidator mine;
    for (int round = 0; round < 20; ++round) {
      for (size_t i = 0; i < inputs.size(); ++i) {
        auto v = mine.validate(inputs[i], kNow);
        if (std::string(reject_reason_name(v.reason)) + v.message != expected[i]) ++mismatches;
      }
    }
  };
  std::thread a(worker), b(worker);
  a.join();
  b.join();
  CHECK(mismatches == 0);
}

TEST_CASE("the source id comes from the raw header: a NUL inside a code is escaped, trailing padding dropped",
          "[validator]") {
  const auto good = one_steim2_record();  // XX.TEST.00.HHZ
  auto with_station = [&](const char (&station)[6]) {
    auto rec = good;
    std::memcpy(rec.data() + 8, station, 5);
    return check(rec);
  };
  // Station bytes 8-12: "AN\0MO" is not station AN.
  auto v = with_station("AN\0MO");
  REQUIRE(v.ok());
  CHECK(v.record.source_id() == "XX.AN\\x00MO.00.HHZ");
  // Trailing spaces or NULs are padding.
  CHECK(with_station("ANMO ").record.source_id() == "XX.ANMO.00.HHZ");
  CHECK(with_station("ANMO\0").record.source_id() == "XX.ANMO.00.HHZ");
  CHECK(with_station("AN\0\0\0").record.source_id() == "XX.AN.00.HHZ");
  CHECK(with_station("AN \0 ").record.source_id() == "XX.AN.00.HHZ");
  // Inside a code, a space or NUL is kept (escaped), as is a leading one.
  CHECK(with_station("AN MO").record.source_id() == "XX.AN\\x20MO.00.HHZ");
  CHECK(with_station("\0ANMO").record.source_id() == "XX.\\x00ANMO.00.HHZ");
  // Every field: network 18-19, location 13-14, channel 15-17.
  auto rec = good;
  std::memcpy(rec.data() + 13, "\0" "0" "H\0Z" "X\0", 7);
  v = check(rec);
  REQUIRE(v.ok());
  CHECK(v.record.source_id() == "X.TEST.\\x000.H\\x00Z");

  // An access list that allows station AN does not cover AN\0MO.
  const auto key = generate_curve_key_pair();
  REQUIRE(key.ok());
  auto list = StationAccessList::parse(key->public_key + "  XX.AN\n");
  REQUIRE(list.ok());
  // source_id() is a view into the validated record: keep the result alive.
  const auto nul_inside = with_station("AN\0MO");
  const auto id = nul_inside.record.source_id();
  const auto station = id.substr(3, id.find('.', 3) - 3);
  CHECK(station == "AN\\x00MO");
  CHECK_FALSE(list->may_write(key->public_key, "XX", station));
  const auto padded = with_station("AN\0\0\0");
  CHECK(list->may_write(key->public_key, "XX", padded.record.source_id().substr(3, 2)));
}

TEST_CASE("a record whose blockette chain is broken is rejected without the libmseed lock", "[validator]") {
  // The chain walk comes before any libmseed call: another thread holding
  // the lock (as a validator in the middle of a record does) does not delay it.
  auto rec = one_steim2_record();
  put_be16(rec, find_blockette(rec, 1000) + 2, 0x3800);
  auto exponent = one_steim2_record();
  exponent[find_blockette(exponent, 1000) + 6] = 41;
  std::promise<void> release;
  std::promise<void> held;
  std::thread holder([&] {
    LibmseedLock lock;
    held.set_value();
    release.get_future().wait();
  });
  held.get_future().wait();
  auto verdicts = std::async(std::launch::async, [&] {
    RecordValidator v;
    return std::pair{v.validate(rec, kNow).reason, v.validate(exponent, kNow).reason};
  });
  // Not a timing assertion: a validator waiting for the lock would wait
  // until release, i.e. forever; the bound only keeps a failure from hanging.
  const bool done = verdicts.wait_for(std::chrono::seconds(60)) == std::future_status::ready;
  release.set_value();
  holder.join();
  REQUIRE(done);
  const auto [a, b] = verdicts.get();
  CHECK(a == RejectReason::kBadBlockettes);
  CHECK(b == RejectReason::kBadBlockettes);
}

// Found by fuzz_record_validator (AddressSanitizer: heap-buffer-overflow,
// READ of 196 bytes in libmseed's msr_addblockette, from msr_parse in
// RecordValidator::validate): a 128-byte record whose chain starts with a
// blockette 500 (200 bytes long) at offset 48. libmseed 2.19 copies the
// whole blockette, 120 bytes past the record's end. The validator must
// refuse the chain before libmseed walks it (blockette_chain.h).
TEST_CASE("a blockette running past the end of the record is rejected before libmseed reads it",
          "[validator]") {
  const std::vector<uint8_t> record = {
      0x30, 0x30, 0x30, 0x30, 0x30, 0x31, 0x52, 0x20, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x48, 0x5a, 0x58, 0x5c, 0x07, 0xda, 0x00, 0x3a, 0x06, 0x32, 0x00, 0x00, 0x02, 0xb7, 0x00, 0x10,
      0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00, 0x30,
      0x01, 0xf4, 0x00, 0x38, 0x03, 0x01, 0x07, 0x00, 0x03, 0xe9, 0x00, 0x00, 0x00, 0x27, 0x00, 0x00,
      0xff, 0xfc, 0x75, 0xf6, 0xff, 0xfc, 0x83, 0xaa, 0xff, 0xfc, 0x98, 0x4d, 0xff, 0xfc, 0x9f, 0xd1,
      0xff, 0xfc, 0x8f, 0x6b, 0xff, 0xfc, 0x7d, 0x0f, 0xff, 0xfc, 0x7e, 0xa0, 0xff, 0xfc, 0x82, 0x2f,
      0xff, 0xfc, 0x71, 0x1d, 0xff, 0xfc, 0x60, 0xc9, 0xff, 0xfc, 0x61, 0xbf, 0xff, 0xfc, 0x60, 0xcf,
      0xff, 0xfc, 0x67, 0x62, 0xff, 0xfc, 0x87, 0xf5, 0xff, 0xfc, 0x9d, 0xbe, 0xff, 0xfc, 0x94, 0x9d,
  };
  const Validation v = check(record);
  INFO(v.message);
  CHECK(v.reason == RejectReason::kBadBlockettes);
}

// Found by fuzz_record_validator (AddressSanitizer: heap-buffer-overflow,
// READ of 65533 bytes in msr_addblockette, from msr_parse in
// RecordValidator::validate): a 256-byte little-endian record whose only
// blockette is a blockette 2000 with a length field of 1, which libmseed
// 2.19 takes as 65533 bytes to copy (issue 11, point 3).
TEST_CASE("a blockette 2000 with a length below its header is rejected before libmseed reads it",
          "[validator]") {
  std::vector<uint8_t> record = {
      0x30, 0x30, 0x30, 0x30, 0x30, 0x31, 0x44, 0x20, 0x54, 0x45, 0x53, 0x54, 0x20, 0x20, 0x20, 0x42,
      0x48, 0x45, 0x00, 0x58, 0xd4, 0x07, 0x5e, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x32, 0x00,
      0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x38, 0x00, 0x30, 0x00,
      0xd0, 0x07, 0x00, 0x00, 0x01, 0x00, 0x08, 0x00, 0x01, 0x00, 0x02, 0x00, 0x03, 0x00, 0x04, 0x00,
      0x05, 0x00, 0x06, 0x00, 0x07, 0x00, 0x08, 0x00, 0x09, 0x00, 0x0a, 0x00, 0x0b, 0x00, 0x0c, 0x00,
      0x0d, 0x00, 0x0e, 0x00, 0x0f, 0x00, 0x10, 0x01, 0x11, 0x00, 0x12, 0x00, 0x13, 0x00, 0x14, 0x00,
      0x15, 0x00, 0x16, 0x00, 0x17, 0x00, 0x18, 0x00, 0x19, 0x00, 0x1a, 0x00, 0x1b, 0x00, 0x1c, 0x00,
      0x1d, 0x00, 0x1e, 0x00, 0x1f, 0x00, 0x20, 0x00, 0x21, 0x00, 0x22, 0x00, 0x23, 0x00, 0x24, 0x00,
      0x25, 0x00, 0x26, 0x00, 0x27, 0x00, 0x28, 0x00, 0x29, 0x00, 0x2a, 0x00, 0x2b, 0x00, 0x2c, 0x00,
      0x2d, 0x00, 0x2e, 0x00, 0x2f, 0x00, 0x30, 0x00, 0x31, 0x00, 0x32, 0x00, 0x00, 0x00, 0x00, 0x00,
  };
  record.resize(256);  // zeros after the header and blockette
  const Validation v = check(record);
  INFO(v.message);
  CHECK(v.reason == RejectReason::kBadBlockettes);
}
