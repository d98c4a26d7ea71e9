#include <catch2/catch.hpp>

#include <fstream>

#include "seisvault/client/file_follower.h"
#include "support/temp_dir.h"
#include "test_records.h"

using namespace seisvault;
using namespace seisvault::client;

namespace {

void append(const std::filesystem::path& path, std::span<const uint8_t> bytes) {
  std::ofstream(path, std::ios::binary | std::ios::app)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

struct Collected {
  std::vector<std::vector<uint8_t>> pieces;
  PieceSink sink() {
    return [this](std::span<const uint8_t> p, PieceKind) {
      pieces.emplace_back(p.begin(), p.end());
      return Status{};
    };
  }
};

}  // namespace

TEST_CASE("a followed file hands on records as they are appended, holding back a half-written one",
          "[file_follower]") {
  test::TempDir dir;
  const auto path = dir.path() / "day.mseed";
  const auto records = test::make_records(3);
  FileFollower follower(path);
  Collected out;
  REQUIRE(follower.poll(out.sink()).ok());  // no file yet: nothing, no error
  CHECK(out.pieces.empty());

  append(path, test::bytes_of(records[0]));
  append(path, {records[1].data(), 200});
  REQUIRE(follower.poll(out.sink()).ok());
  CHECK(out.pieces == std::vector<std::vector<uint8_t>>{records[0]});
  CHECK(follower.held_back_bytes() == 200);

  append(path, {records[1].data() + 200, records[1].size() - 200});
  append(path, test::bytes_of(records[2]));
  REQUIRE(follower.poll(out.sink()).ok());
  CHECK(out.pieces == records);
  CHECK(follower.held_back_bytes() == 0);
}

TEST_CASE("a followed file that is replaced is finished, then the new file is read from its start",
          "[file_follower]") {
  test::TempDir dir;
  const auto path = dir.path() / "current.mseed";
  const auto records = test::make_records(3);
  FileFollower follower(path);
  Collected out;
  append(path, test::bytes_of(records[0]));
  REQUIRE(follower.poll(out.sink()).ok());
  // The datalogger finishes the file and starts a new one under the same name.
  append(path, test::bytes_of(records[1]));
  std::filesystem::rename(path, dir.path() / "old.mseed");
  append(path, test::bytes_of(records[2]));
  REQUIRE(follower.poll(out.sink()).ok());
  CHECK(out.pieces == records);
  CHECK(follower.restarts() == 1);
}

TEST_CASE("a followed file truncated in place is read again from its start", "[file_follower]") {
  test::TempDir dir;
  const auto path = dir.path() / "ring.mseed";
  const auto records = test::make_records(3);
  FileFollower follower(path);
  Collected out;
  append(path, test::bytes_of(records[0]));
  append(path, test::bytes_of(records[1]));
  REQUIRE(follower.poll(out.sink()).ok());
  std::filesystem::resize_file(path, 0);
  append(path, test::bytes_of(records[2]));
  REQUIRE(follower.poll(out.sink()).ok());
  CHECK(out.pieces == records);
  CHECK(follower.restarts() == 1);
}
