// `seisvault admin backup`, run as a program: a copy of a running server's
// store made while a push goes on, restored and served by another
// seisvaultd; a copy of a stopped server's store; the refusals.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "seisvault/common/curve_keys.h"
#include "seisvault/storage/record_store.h"
#include "support/process.h"
#include "support/server_data.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

using namespace seisvault;
using namespace seisvault::test;

namespace {

namespace fs = std::filesystem;

void write_file(const fs::path& path, const std::vector<std::vector<uint8_t>>& records) {
  std::ofstream out(path, std::ios::binary);
  for (const auto& r : records) out.write(reinterpret_cast<const char*>(r.data()), static_cast<std::streamsize>(r.size()));
}

// Every record of a store directory (no server may hold it).
std::multiset<std::vector<uint8_t>> records_in(const fs::path& store) {
  auto opened = storage::RecordStore::open(store, [] {
    auto o = small_store_options();
    o.create_if_missing = false;
    return o;
  }());
  INFO((opened.ok() ? std::string() : opened.status().to_string()));
  REQUIRE(opened.ok());
  std::multiset<std::vector<uint8_t>> out;
  REQUIRE((*opened)->read_records({}, {}, [&](const storage::StoredRecord& r) {
    out.emplace(r.bytes.begin(), r.bytes.end());
    return true;
  }).ok());
  return out;
}

}  // namespace

TEST_CASE("seisvault admin backup copies a running server's store while a push goes on: the copy holds every "
          "record acknowledged before, and another seisvaultd serves it",
          "[cli][admin][backup]") {
  TempDir tmp;
  const auto data = tmp.path() / "data";
  const auto keys = new_station_keys();
  { ServerProcess probe(data); REQUIRE(probe.stop() == 0); }
  authorize_key(data, keys, {"XX.BK"});
  REQUIRE(write_key_files(tmp.path() / "station", keys).ok());
  const auto first = station_records("BK", 2'000 * 400, 1);
  const auto second = station_records("BK", 20'000 * 400, 2, 1'709'337'600'000'000'000);  // a day later
  write_file(tmp.path() / "first.mseed", first);
  write_file(tmp.path() / "second.mseed", second);

  ServerProcess server(data);
  const std::string push = "push --server " + server.endpoint() + " --server-key " + (data / "server.pub").string() +
                           " --key " + (tmp.path() / "station").string() + " --spool " +
                           (tmp.path() / "spool").string() + " --timeout 0 ";
  auto pushed = run_seisvault(tmp.path(), push + (tmp.path() / "first.mseed").string());
  INFO(pushed.output);
  REQUIRE(pushed.code == 0);

  // The second push goes on while the backup is made.
  ChildProcess pushing({built_program("client/seisvault").string(), "push", "--server", server.endpoint(),
                        "--server-key", (data / "server.pub").string(), "--key", (tmp.path() / "station").string(),
                        "--spool", (tmp.path() / "spool2").string(), "--timeout", "0",
                        (tmp.path() / "second.mseed").string()},
                       tmp.path() / "push2.log");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto backup = tmp.path() / "backup";
  auto made = run_seisvault(tmp.path(), "admin backup --data-dir " + data.string() + " " + backup.string());
  INFO(made.output);
  REQUIRE(made.code == 0);
  CHECK_THAT(made.output, Catch::Contains("by the running seisvaultd") && Catch::Contains("restore:"));
  CHECK_THAT(server.log(), Catch::Contains("backup written to " + backup.string()));

  // Asked again for the same place: refused, nothing changed.
  auto again = run_seisvault(tmp.path(), "admin backup --data-dir " + data.string() + " " + backup.string());
  CHECK(again.code == 2);
  CHECK_THAT(again.output, Catch::Contains("exists already"));

  const auto code = pushing.wait(std::chrono::seconds(120));
  INFO(read_text(tmp.path() / "push2.log"));
  REQUIRE(code.has_value());
  CHECK(*code == 0);
  REQUIRE(server.stop() == 0);

  const auto in_backup = records_in(backup);
  for (const auto& r : first) CHECK(in_backup.count(r) == 1);
  std::set<std::vector<uint8_t>> pushed_all(first.begin(), first.end());
  pushed_all.insert(second.begin(), second.end());
  size_t strangers = 0;
  for (const auto& r : in_backup) strangers += pushed_all.count(r) == 0;
  CHECK(strangers == 0);
  INFO("records in the backup: " << in_backup.size());
  CHECK(in_backup.size() >= first.size());

  // Restored: the copy becomes another server's store, which serves it all.
  const auto restored = tmp.path() / "restored";
  fs::create_directories(restored);
  fs::rename(backup, restored / "store");
  ServerProcess other(restored);
  CHECK(server_stats(other).records_stored() == in_backup.size());
  REQUIRE(other.stop() == 0);
  CHECK(stored_records(restored) == in_backup);

  // With no server running the command copies the store itself: everything.
  const auto cold = tmp.path() / "cold";
  made = run_seisvault(tmp.path(), "admin backup --data-dir " + data.string() + " " + cold.string());
  INFO(made.output);
  REQUIRE(made.code == 0);
  CHECK_THAT(made.output, Catch::Contains("no server running"));
  CHECK(records_in(cold) == stored_records(data));
  CHECK(records_in(cold).size() == first.size() + second.size());
}

TEST_CASE("seisvault admin backup refuses a directory without a store and a destination whose parent is missing",
          "[cli][admin][backup]") {
  TempDir tmp;
  auto r = run_seisvault(tmp.path(), "admin backup --data-dir " + tmp.path().string() + " " +
                                         (tmp.path() / "b").string());
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Catch::Contains("no store in"));
  const auto data = tmp.path() / "data";
  { ServerProcess probe(data); REQUIRE(probe.stop() == 0); }
  r = run_seisvault(tmp.path(), "admin backup --data-dir " + data.string() + " " +
                                    (tmp.path() / "missing" / "b").string());
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Catch::Contains("is not a directory"));
  r = run_seisvault(tmp.path(), "admin backup");
  CHECK(r.code == 2);
}
