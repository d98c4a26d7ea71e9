// A full disk, for real: seisvaultd's data directory on a small tmpfs
// (mounted by the test, which needs root; reported Skipped otherwise), a
// real `seisvault push` sending more than fits. The server stays up,
// acknowledges nothing it has not stored, pushes back, and once space is
// freed (without a restart) the push completes with every record stored
// exactly once.
#include <catch2/catch.hpp>

#include <httplib.h>

#include <sys/mount.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <thread>

#include "support/process.h"
#include "support/record_factory.h"
#include "support/server_data.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

using namespace seisvault;
using namespace seisvault::test;

namespace {

constexpr uint64_t kMiB = 1 << 20;

// A tmpfs of `size` bytes at DIR for the test's lifetime; skips the whole
// executable (exit code 4, CTest's "Skipped") when it cannot be mounted.
class SmallFilesystem {
 public:
  SmallFilesystem(const std::filesystem::path& dir, uint64_t size) : dir_(dir) {
    std::filesystem::create_directories(dir);
    const auto options = "size=" + std::to_string(size) + ",mode=0700";
    if (::geteuid() != 0 || ::mount("tmpfs", dir.c_str(), "tmpfs", 0, options.c_str()) != 0) {
      std::cout << "SKIPPED: the disk-full tests mount a small tmpfs, which needs root (running as uid "
                << ::geteuid() << ")" << std::endl;
      std::exit(4);
    }
  }
  ~SmallFilesystem() { ::umount2(dir_.c_str(), MNT_DETACH); }

 private:
  std::filesystem::path dir_;
};

// Fills the filesystem of `dir` with a file until `leave` bytes are free.
void fill_until(const std::filesystem::path& file, uint64_t leave) {
  std::ofstream out(file, std::ios::binary);
  const std::string chunk(kMiB, '\0');
  for (;;) {
    const auto space = std::filesystem::space(file.parent_path());
    if (space.available <= leave + kMiB) break;
    out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    out.flush();
    if (!out) break;
  }
}

// Runs one disk-full scenario: `server_flags` decide whether the server's
// own reserve or the full disk itself stops the writes.
void push_through_a_full_disk(const std::vector<std::string>& server_flags, const std::string& expected_cause) {
  TempDir tmp;
  const auto data = tmp.path() / "data";
  SmallFilesystem fs(data, 192 * kMiB);
  const auto keys = new_station_keys();
  { ServerProcess probe(data, "tcp://127.0.0.1:*", server_flags); REQUIRE(probe.stop() == 0); }
  authorize_key(data, keys, {"XX.FULL"});
  REQUIRE(write_key_files(tmp.path() / "station", keys).ok());

  // ~40 MiB of records: more than the room left beside the ballast.
  const auto records = station_records("FULL", 24'000'000, 9);
  const auto input = tmp.path() / "full.mseed";
  {
    std::ofstream out(input, std::ios::binary);
    for (const auto& r : records) out.write(reinterpret_cast<const char*>(r.data()), static_cast<std::streamsize>(r.size()));
  }
  const auto ballast = data / "ballast";
  fill_until(ballast, 40 * kMiB);

  ServerProcess server(data, "tcp://127.0.0.1:*", server_flags);
  ChildProcess push({built_program("client/seisvault").string(), "push", "--server", server.endpoint(),
                     "--server-key", (data / "server.pub").string(), "--key", (tmp.path() / "station").string(),
                     "--spool", (tmp.path() / "spool").string(), "--timeout", "0", input.string()},
                    tmp.path() / "push.log");

  // The store pauses instead of aborting, and says why. The log is read
  // while the server writes it: wait for the whole "store paused" line (it
  // was once read cut off in the middle of its cause).
  const auto paused_line = [&] {
    const auto log = server.log();
    const auto at = log.find("store paused");
    return at == std::string::npos ? std::string() : log.substr(at, log.find('\n', at) - at);
  };
  REQUIRE(eventually(
      [&] {
        const auto log = server.log();
        const auto at = log.find("store paused");
        return at != std::string::npos && log.find('\n', at) != std::string::npos;
      },
      std::chrono::seconds(90)));
  CHECK_THAT(paused_line(), Catch::Contains(expected_cause));
  const auto paused = server_stats(server);
  CHECK(paused.store_state() == "paused");
  CHECK(paused.store_message().size() > 20);
  // /readyz says so (a load balancer stops sending stations here); /healthz
  // does not: the process is alive.
  const auto colon = server.http().rfind(':');
  httplib::Client http(server.http().substr(0, colon), std::stoi(server.http().substr(colon + 1)));
  auto ready = http.Get("/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 503);
  CHECK_THAT(ready->body, Catch::Contains("paused"));
  auto healthy = http.Get("/healthz");
  REQUIRE(healthy);
  CHECK(healthy->status == 200);
  // It stays up and paused, and the station keeps its data.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  REQUIRE(server.process().running());
  REQUIRE(push.running());
  CHECK(server_stats(server).store_state() == "paused");

  // Space comes back: no restart, the push completes.
  std::filesystem::remove(ballast);
  const auto code = push.wait(std::chrono::seconds(150));
  INFO(read_text(tmp.path() / "push.log"));
  INFO(server.log());
  REQUIRE(code.has_value());
  CHECK(*code == 0);
  CHECK(server.process().running());
  CHECK(server_stats(server).store_state() == "ok");
  CHECK_THAT(server.log(), Catch::Contains("store resumed"));
  ready = http.Get("/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 200);
  REQUIRE(server.stop() == 0);

  // Every record exactly once, nothing else.
  CHECK((stored_records(data) == std::multiset<std::vector<uint8_t>>(records.begin(), records.end())));
}

}  // namespace

TEST_CASE("below the free-space reserve on a full disk, ingest pauses without a false ack and resumes by itself",
          "[server][disk]") {
  push_through_a_full_disk({"--min-free-space", "24MiB", "--memtable-mib", "8"}, "below the reserve");
}

TEST_CASE("with no reserve, RocksDB meets the full disk itself: the server stays up, pauses, and resumes by itself",
          "[server][disk]") {
  push_through_a_full_disk({"--min-free-space", "0", "--memtable-mib", "8"}, "a write to the store failed");
}
