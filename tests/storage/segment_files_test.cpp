// The records' bytes in segment files (schema 5): written once, read back
// byte-identical across segments and reopenings, damage detected, bytes
// that never reached the index ignored.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <set>
#include <fstream>
#include <vector>

#include "seisvault/storage/record_store.h"
#include "store_test_records.h"
#include "support/temp_dir.h"

using namespace seisvault;
using namespace seisvault::storage;
using namespace seisvault::storage_test;
using seisvault::test::TempDir;

namespace {

namespace fs = std::filesystem;

std::vector<fs::path> segment_files(const fs::path& store) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(store / "segments")) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

uint64_t total_size(const std::vector<fs::path>& files) {
  uint64_t n = 0;
  for (const auto& f : files) n += fs::file_size(f);
  return n;
}

std::vector<Rec> records(int batch, int n) {
  std::vector<Rec> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(rec("XX.S" + std::to_string(i % 7) + "..HHZ", kT0 + (batch * n + i) * 5 * kSecond, 500, 100.0,
                      static_cast<uint32_t>(batch), 512));
  }
  return out;
}

}  // namespace

TEST_CASE("records' bytes are written once, to segment files that roll at segment_mib, and read back "
          "byte-identical across segments and reopenings",
          "[store][segments]") {
  TempDir tmp;
  auto o = small_options(8);
  o.segment_mib = 1;
  std::vector<Rec> all;
  size_t files_written = 0;
  {
    auto store = open_store(tmp.path(), o);
    for (int b = 0; b < 12; ++b) {  // 12 x 500 x 512 bytes: about 3 MiB
      auto part = records(b, 500);
      write_ok(*store, part);
      all.insert(all.end(), part.begin(), part.end());
    }
    const auto files = segment_files(tmp.path());
    files_written = files.size();
    CHECK(files.size() >= 3);
    // Each record's bytes once, nothing else.
    CHECK(total_size(files) == all.size() * 512);
    const auto engine = store->engine_stats();
    CHECK(engine.segment_files == files.size());
    CHECK(engine.segment_files_bytes == all.size() * 512);
    const auto got = read(*store);
    REQUIRE(got.size() == all.size());
  }
  auto store = open_store(tmp.path(), o);
  auto got = read(*store);
  REQUIRE(got.size() == all.size());
  std::multiset<std::vector<uint8_t>> expected, seen;
  for (const auto& r : all) expected.insert(r.bytes);
  for (const auto& g : got) seen.insert(g.bytes);
  CHECK(seen == expected);
  // Reopened, appends go to a new segment, after the old ones.
  write_ok(*store, records(100, 10));
  const auto after = segment_files(tmp.path());
  CHECK(after.size() == files_written + 1);
  CHECK(fs::file_size(after.back()) == 10 * 512);
}

TEST_CASE("a damaged segment is reported as corruption by reads, never returned as data", "[store][segments]") {
  TempDir tmp;
  auto store = open_store(tmp.path(), small_options(8));
  write_ok(*store, records(0, 100));
  const auto files = segment_files(tmp.path());
  REQUIRE(files.size() == 1);
  {
    std::fstream f(files[0], std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100 * 512 / 2 + 17);
    f.put('\x5a');
  }
  size_t delivered = 0;
  const auto st = store->read_records({}, {}, [&](const StoredRecord&) {
    ++delivered;
    return true;
  });
  CHECK(st.code() == StatusCode::kCorruption);
  CHECK_THAT(st.message(), Catch::Contains("checksum"));
  CHECK(delivered < 100);
  // Reading by sequence number meets the same block.
  const auto by_sequence = store->read_sequence(
      0, 1000, [](uint32_t, std::string_view) { return true; }, [](const StoredRecord&) { return true; });
  CHECK(by_sequence.code() == StatusCode::kCorruption);
}

TEST_CASE("bytes appended to a segment but never indexed (a crash between the two) are never read, and the "
          "store goes on after them",
          "[store][segments][reopen]") {
  TempDir tmp;
  const auto first = records(0, 100);
  {
    auto store = open_store(tmp.path(), small_options(8));
    write_ok(*store, first, true);
  }
  // What a crash after the segment append, before the RocksDB write, leaves.
  const auto files = segment_files(tmp.path());
  REQUIRE(files.size() == 1);
  {
    std::ofstream f(files[0], std::ios::app | std::ios::binary);
    const std::string junk(3000, '\x77');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  auto store = open_store(tmp.path(), small_options(8));
  auto got = read(*store);
  CHECK(got.size() == first.size());
  const auto second = records(1, 100);
  write_ok(*store, second);
  got = read(*store);
  CHECK(got.size() == first.size() + second.size());
  std::multiset<std::vector<uint8_t>> expected, seen;
  for (const auto& r : first) expected.insert(r.bytes);
  for (const auto& r : second) expected.insert(r.bytes);
  for (const auto& g : got) seen.insert(g.bytes);
  CHECK(seen == expected);
}
