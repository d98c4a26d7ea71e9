#include <catch2/catch.hpp>

#include <cstring>

#include "seisvault/client/batch_builder.h"
#include "seisvault/common/sha256.h"
#include "test_records.h"

using namespace seisvault;
using namespace seisvault::client;
using seisvault::test::bytes_of;

TEST_CASE("a batch holds at most max_records records", "[batch_builder]") {
  BatchBuilder b({.max_records = 3, .max_bytes = size_t{1} << 20});
  const auto records = test::make_records(4);
  for (int i = 0; i < 3; ++i) {
    REQUIRE(b.fits(records[i].size()));
    b.add(bytes_of(records[i]));
  }
  CHECK(b.records() == 3);
  CHECK_FALSE(b.fits(records[3].size()));
  auto batch = b.take(7, nullptr);
  CHECK(batch->records_size() == 3);
  CHECK(b.empty());
  CHECK(b.fits(records[3].size()));
}

TEST_CASE("a batch stays within max_bytes of serialized size, counted exactly enough", "[batch_builder]") {
  const size_t limit = 4096;
  BatchBuilder b({.max_records = 1000, .max_bytes = limit});
  const auto records = test::make_records(20);
  size_t added = 0;
  while (added < records.size() && b.fits(records[added].size())) b.add(bytes_of(records[added++]));
  // 512-byte records cost 552 serialized bytes each: 7 fit in 4096 with the header.
  CHECK(added == 7);
  const size_t estimate = b.bytes();
  auto batch = b.take(uint64_t{1} << 62, nullptr);  // a large id: the header at its longest
  const size_t actual = batch->ByteSizeLong();
  CHECK(actual <= estimate);
  CHECK(estimate - actual <= BatchBuilder::kBatchOverhead);
  CHECK(actual <= limit);
}

TEST_CASE("a record larger than max_bytes still goes, alone in its batch", "[batch_builder]") {
  BatchBuilder b({.max_records = 1000, .max_bytes = 1024});
  std::vector<uint8_t> big(4096, 0x55), small(100, 0x11);
  REQUIRE(b.fits(big.size()));
  b.add(bytes_of(big));
  CHECK_FALSE(b.fits(small.size()));
  auto batch = b.take(1, nullptr);
  CHECK(batch->records_size() == 1);
  CHECK(batch->records(0).mseed().size() == 4096);
}

TEST_CASE("each record carries the SHA-256 of its exact bytes, and the batch its id and protocol version",
          "[batch_builder]") {
  BatchBuilder b({});
  const auto records = test::make_records(2);
  for (const auto& r : records) b.add(bytes_of(r));
  auto batch = b.take(42, nullptr);
  CHECK(batch->batch_id() == 42);
  CHECK(batch->protocol_version() == 1);
  for (int i = 0; i < 2; ++i) {
    const auto& rec = batch->records(i);
    CHECK(rec.mseed() == std::string(records[i].begin(), records[i].end()));
    const auto digest = sha256(bytes_of(records[i]));
    REQUIRE(rec.sha256().size() == 32);
    CHECK(std::memcmp(rec.sha256().data(), digest.data(), 32) == 0);
  }
}

TEST_CASE("a recycled message is cleared before it is filled again", "[batch_builder]") {
  BatchBuilder b({});
  const auto records = test::make_records(3);
  b.add(bytes_of(records[0]));
  b.add(bytes_of(records[1]));
  auto first = b.take(1, nullptr);
  b.add(bytes_of(records[2]));
  auto second = b.take(2, std::move(first));  // `first` becomes the next batch being built
  CHECK(second->records_size() == 1);
  CHECK(b.empty());
  CHECK(b.bytes() == BatchBuilder::kBatchOverhead);
  b.add(bytes_of(records[0]));
  auto third = b.take(3, nullptr);
  REQUIRE(third->records_size() == 1);
  CHECK(third->records(0).mseed() == std::string(records[0].begin(), records[0].end()));
}
