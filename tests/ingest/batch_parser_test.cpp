#include <catch2/catch.hpp>

#include <random>
#include <string>

#include "batch_parser.h"
#include "seisvault/common/sha256.h"
#include "seisvault/proto/ingest.pb.h"

namespace seisvault::ingest {
namespace {

std::span<const uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string as_string(std::span<const uint8_t> v) { return {reinterpret_cast<const char*>(v.data()), v.size()}; }

std::string sample_batch() {
  v1::IngestBatch b;
  b.set_protocol_version(v1::PROTOCOL_VERSION_1);
  b.set_batch_id(0x1234567890ull);
  for (int i = 0; i < 5; ++i) {
    auto* r = b.add_records();
    r->set_mseed(std::string(static_cast<size_t>(100 + i), static_cast<char>('a' + i)));
    r->set_sha256(std::string(32, static_cast<char>(i)));
  }
  return b.SerializeAsString();
}

// The generated parser is the reference: both must accept the same frames
// and read the same values from them.
void check_agrees_with_protobuf(const std::string& frame) {
  v1::IngestBatch expected;
  const bool protobuf_ok = expected.ParseFromString(frame);
  ParsedBatch got;
  const bool ok = parse_ingest_batch(bytes_of(frame), got);
  INFO("frame: " << to_hex(bytes_of(frame)));
  REQUIRE(ok == protobuf_ok);
  if (!ok) return;
  CHECK(got.protocol_version == expected.protocol_version());
  CHECK(got.batch_id == expected.batch_id());
  REQUIRE(got.records.size() == static_cast<size_t>(expected.records_size()));
  for (size_t i = 0; i < got.records.size(); ++i) {
    CHECK(as_string(got.records[i].mseed) == expected.records(static_cast<int>(i)).mseed());
    CHECK(as_string(got.records[i].sha256) == expected.records(static_cast<int>(i)).sha256());
  }
  CHECK(got.signature.present == expected.has_signature());
  CHECK(as_string(got.signature.key) == expected.signature().key());
  CHECK(got.signature.send_time_ns == expected.signature().send_time_ns());
  CHECK(as_string(got.signature.signature) == expected.signature().signature());
}

TEST_CASE("parse_ingest_batch reads the signature, merging repeated occurrences as protobuf does") {
  v1::IngestBatch a;
  a.set_batch_id(5);
  a.mutable_signature()->set_key(std::string(32, 'k'));
  a.mutable_signature()->set_send_time_ns(-1234567890123);
  a.mutable_signature()->set_signature(std::string(64, 's'));
  a.add_records()->set_mseed("abc");
  const auto frame = a.SerializeAsString();
  ParsedBatch got;
  REQUIRE(parse_ingest_batch(bytes_of(frame), got));
  CHECK(got.signature.present);
  CHECK(got.signature.send_time_ns == -1234567890123);
  CHECK(as_string(got.signature.signature) == std::string(64, 's'));
  check_agrees_with_protobuf(frame);
  // A second occurrence that sets only the time: the key and signature stay.
  v1::IngestBatch b;
  b.mutable_signature()->set_send_time_ns(42);
  check_agrees_with_protobuf(frame + b.SerializeAsString());
  // An empty signature message is present, with nothing in it.
  v1::IngestBatch c;
  c.mutable_signature();
  check_agrees_with_protobuf(c.SerializeAsString());
  // Without one: not present.
  check_agrees_with_protobuf(sample_batch());
}

TEST_CASE("parse_ingest_batch reads a batch as views into the frame") {
  const auto frame = sample_batch();
  ParsedBatch got;
  REQUIRE(parse_ingest_batch(bytes_of(frame), got));
  CHECK(got.protocol_version == 1);
  CHECK(got.batch_id == 0x1234567890ull);
  REQUIRE(got.records.size() == 5);
  const auto* begin = reinterpret_cast<const uint8_t*>(frame.data());
  for (const auto& r : got.records) {
    CHECK(r.mseed.data() >= begin);
    CHECK(r.mseed.data() + r.mseed.size() <= begin + frame.size());  // no copy
    CHECK(r.sha256.size() == 32);
  }
  check_agrees_with_protobuf(frame);
}

TEST_CASE("parse_ingest_batch follows protobuf: last value wins, unknown fields are skipped, empty is valid") {
  v1::IngestBatch a;
  a.set_protocol_version(7);
  a.set_batch_id(1);
  v1::IngestBatch b;
  b.set_batch_id(99);
  b.add_records()->set_mseed("xyz");
  // Concatenated messages merge: scalars from the later one, records appended.
  check_agrees_with_protobuf(a.SerializeAsString() + b.SerializeAsString() + a.SerializeAsString());
  // Unknown fields of every wire type, in the batch and in a record.
  std::string unknown;
  unknown += '\x20';  // field 4, varint
  unknown += '\x96';
  unknown += '\x01';
  unknown += '\x29';  // field 5, fixed64
  unknown += std::string(8, '\x01');
  unknown += '\x35';  // field 6, fixed32
  unknown += std::string(4, '\x02');
  unknown += '\x3a';  // field 7, length-delimited
  unknown += '\x03';
  unknown += "abc";
  check_agrees_with_protobuf(unknown + sample_batch() + unknown);
  std::string record = unknown + std::string("\x0a\x02hi", 4);
  check_agrees_with_protobuf(std::string("\x1a") + static_cast<char>(record.size()) + record);
  check_agrees_with_protobuf("");
}

TEST_CASE("parse_ingest_batch refuses what protobuf refuses: every truncation and random damage") {
  const auto frame = sample_batch();
  for (size_t n = 0; n < frame.size(); ++n) check_agrees_with_protobuf(frame.substr(0, n));
  std::mt19937 rng(7);
  for (int trial = 0; trial < 3000; ++trial) {
    auto damaged = frame;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) damaged[rng() % damaged.size()] = static_cast<char>(rng());
    check_agrees_with_protobuf(damaged);
  }
  for (int trial = 0; trial < 1000; ++trial) {
    std::string garbage(rng() % 64, '\0');
    for (auto& c : garbage) c = static_cast<char>(rng());
    check_agrees_with_protobuf(garbage);
  }
}

// Found by fuzz_batch_parser: CodedInputStream reads a tag or a length of up
// to 10 bytes (and WireFormatLite::SkipField skips unknown fields with it,
// with a recursion budget that restarts inside each record), where
// protobuf's parser refuses a tag or length longer than 5 bytes.
TEST_CASE("parse_ingest_batch refuses over-long tags and lengths and too deep groups, as protobuf does") {
  const std::string long_length("\x80\x80\x80\x80\x80\x00", 6);  // 0 in six bytes
  check_agrees_with_protobuf(std::string("\x85\xf8\xdd\xfe\xf4\x10\x03\x28\x78\x7a", 10));  // a 6-byte tag
  check_agrees_with_protobuf("\x22" + long_length);              // an unknown field's length
  check_agrees_with_protobuf("\x1a" + long_length);              // the records field's length
  check_agrees_with_protobuf("\x1a\x07\x0a" + long_length);      // a record's mseed length
  check_agrees_with_protobuf("\x1a\x07\x22" + long_length);      // an unknown field's length in a record
  for (const size_t depth : {99, 100, 101}) {
    INFO("groups nested " << depth << " deep, in the batch and in a record");
    const std::string groups = std::string(depth, '\x2b') + std::string(depth, '\x2c');  // field 5
    check_agrees_with_protobuf(groups);
    std::string record_field = "\x1a";  // records, then the length as a varint
    size_t n = groups.size();
    for (; n >= 0x80; n >>= 7) record_field += static_cast<char>(0x80 | (n & 0x7f));
    record_field += static_cast<char>(n);
    check_agrees_with_protobuf(record_field + groups);
  }
}

}  // namespace
}  // namespace seisvault::ingest
