#include <catch2/catch.hpp>

#include <fstream>
#include <set>
#include <string>

#include <fmt/format.h>

#include "seisvault/client/spool.h"
#include "support/temp_dir.h"

using namespace seisvault;
using namespace seisvault::client;

namespace {

std::vector<uint8_t> payload(std::string_view text) { return {text.begin(), text.end()}; }

}  // namespace

TEST_CASE("a spooled batch reads back byte for byte, and is gone once removed", "[spool]") {
  test::TempDir dir;
  auto spool = Spool::open(dir.path() / "spool");
  REQUIRE(spool.ok());
  auto id = spool->allocate_batch_id();
  REQUIRE(id.ok());
  CHECK(*id >= 1);
  const auto data = payload("an IngestBatch, serialized");
  REQUIRE(spool->write(*id, data).ok());
  CHECK(std::filesystem::file_size(spool->batch_path(*id)) == Spool::kHeaderSize + data.size());

  auto back = spool->read(*id);
  REQUIRE(back.ok());
  CHECK(*back == "an IngestBatch, serialized");
  CHECK(*spool->list() == std::vector<uint64_t>{*id});

  REQUIRE(spool->remove(*id).ok());
  CHECK(spool->list()->empty());
  CHECK(spool->read(*id).status().code() == StatusCode::kNotFound);
  CHECK(spool->remove(*id).ok());  // removing twice is fine
}

TEST_CASE("batch ids keep increasing across reopenings of a spool", "[spool]") {
  test::TempDir dir;
  uint64_t last = 0;
  for (int run = 0; run < 3; ++run) {
    auto spool = Spool::open(dir.path());
    REQUIRE(spool.ok());
    for (int i = 0; i < 5; ++i) {
      auto id = spool->allocate_batch_id();
      REQUIRE(id.ok());
      CHECK(*id > last);
      last = *id;
    }
  }
}

TEST_CASE("new batch ids are above the batch files present even without next_batch_id", "[spool]") {
  test::TempDir dir;
  {
    auto spool = Spool::open(dir.path());
    REQUIRE(spool.ok());
    REQUIRE(spool->write(9000, payload("x")).ok());
  }
  std::filesystem::remove(dir.path() / "next_batch_id");
  auto spool = Spool::open(dir.path());
  REQUIRE(spool.ok());
  CHECK(*spool->allocate_batch_id() == 9001);
}

TEST_CASE("a temporary file left by a crash mid-write is deleted and never listed", "[spool]") {
  test::TempDir dir;
  std::ofstream(dir.path() / ".batch-5.tmp") << "half a batch";  // as versions before atomic_file.h left them
  std::ofstream(dir.path() / ".batch-00000000000000000006.svb.4242.tmp") << "half a batch";
  std::ofstream(dir.path() / ".next_batch_id.4242.tmp") << "12";
  auto spool = Spool::open(dir.path());
  REQUIRE(spool.ok());
  CHECK(spool->list()->empty());
  CHECK_FALSE(std::filesystem::exists(dir.path() / ".batch-5.tmp"));
  CHECK_FALSE(std::filesystem::exists(dir.path() / ".batch-00000000000000000006.svb.4242.tmp"));
  CHECK_FALSE(std::filesystem::exists(dir.path() / ".next_batch_id.4242.tmp"));
}

TEST_CASE("writing batches and the id counter leaves only their files in the spool", "[spool]") {
  test::TempDir dir;
  auto spool = Spool::open(dir.path());
  REQUIRE(spool.ok());
  const uint64_t id = *spool->allocate_batch_id();
  REQUIRE(spool->write(id, payload("a batch")).ok());
  std::set<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) names.insert(e.path().filename().string());
  CHECK(names == std::set<std::string>{"lock", "next_batch_id", fmt::format("batch-{:020}.svb", id)});
}

TEST_CASE("a damaged batch file is reported as corruption and can be set aside", "[spool]") {
  test::TempDir dir;
  auto spool = Spool::open(dir.path());
  REQUIRE(spool.ok());
  REQUIRE(spool->write(3, payload("some payload bytes")).ok());
  {
    std::fstream f(spool->batch_path(3), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(Spool::kHeaderSize + 2);
    f.put('X');
  }
  auto back = spool->read(3);
  REQUIRE_FALSE(back.ok());
  CHECK(back.status().code() == StatusCode::kCorruption);
  CHECK_THAT(back.status().message(), Catch::Contains("SHA-256"));

  REQUIRE(spool->quarantine(3).ok());
  CHECK(spool->list()->empty());
  CHECK(std::filesystem::exists(spool->batch_path(3).string() + ".corrupt"));
}

TEST_CASE("a spool cannot be opened twice at once", "[spool]") {
  test::TempDir dir;
  {
    auto first = Spool::open(dir.path());
    REQUIRE(first.ok());
    auto second = Spool::open(dir.path());
    REQUIRE_FALSE(second.ok());
    CHECK_THAT(second.status().message(), Catch::Contains("in use"));
  }
  CHECK(Spool::open(dir.path()).ok());  // the lock went with the first Spool
}
