// The `seisvault` tool, run as a program: its files, output and exit codes
// (0 all stored or duplicate, 1 some rejected, 2 usage/key errors, 3 not
// delivered). Pushes go to AckPeer on 127.0.0.1; every run is bounded.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "ack_peer.h"
#include "seisvault/common/curve_keys.h"
#include "seisvault/common/signing_keys.h"
#include "seisvault/common/station_access_list.h"
#include "support/process.h"
#include "support/temp_dir.h"
#include "test_records.h"

extern char** environ;

using namespace seisvault;
using namespace std::chrono_literals;
using seisvault::test::AckPeer;
using seisvault::test::AckPeerOptions;

namespace {

const std::string kTool = std::string(SEISVAULT_BINARY_DIR) + "/client/seisvault";

using Run = test::ToolRun;

using test::read_text;

// Runs the tool with `args` (shell words) and `input` as stdin, with a time limit.
Run run(const test::TempDir& dir, const std::string& args, const std::string& input = "/dev/null") {
  return test::run_seisvault(dir.path(), args, input);
}

void write_records(const std::filesystem::path& path, const std::vector<std::vector<uint8_t>>& records,
                   std::string_view junk = {}) {
  const auto bytes = test::concatenate(records);
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  f << junk;
}

}  // namespace

TEST_CASE("seisvault keygen writes the CURVE pair and the signing pair (secrets 0600) and never overwrites them",
          "[cli]") {
  test::TempDir dir;
  const auto prefix = (dir.path() / "IU.ANMO").string();
  auto r = run(dir, "keygen " + prefix);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.output, Catch::Contains(prefix + ".key") && Catch::Contains(prefix + ".pub") &&
                           Catch::Contains(prefix + ".sign") && Catch::Contains(prefix + ".sign.pub"));
  for (const char* secret : {".key", ".sign"}) {
    struct stat st{};
    REQUIRE(::stat((prefix + secret).c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
  }
  CHECK(read_key_file(prefix + ".pub").ok());
  const auto signing = read_signing_public_file(prefix + ".sign.pub");
  REQUIRE(signing.ok());
  CHECK_THAT(r.output, Catch::Contains(signing_key_text(*signing)));

  const auto before = read_text(prefix + ".sign");
  r = run(dir, "keygen " + prefix);
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Catch::Contains("already exists"));
  r = run(dir, "keygen --signing-only " + prefix);
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Catch::Contains("already exists"));
  CHECK(read_text(prefix + ".sign") == before);
}

TEST_CASE("seisvault keygen --signing-only adds a signing pair beside a station's existing CURVE key", "[cli]") {
  test::TempDir dir;
  const auto prefix = (dir.path() / "old").string();
  REQUIRE(write_key_files(prefix, generate_curve_key_pair().value()).ok());  // a station from before signing
  const auto curve_secret = read_text(prefix + ".key");
  auto r = run(dir, "keygen --signing-only " + prefix);
  REQUIRE(r.code == 0);
  CHECK(read_signing_public_file(prefix + ".sign.pub").ok());
  CHECK(read_text(prefix + ".key") == curve_secret);
  r = run(dir, "keygen --signing-only " + (dir.path() / "nothing").string());
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Catch::Contains("nothing.key"));
}

TEST_CASE("seisvault authorize registers the signing key beside --key, --signing-key, or --allow-unsigned", "[cli]") {
  test::TempDir dir;
  const auto data = dir.path() / "data";
  std::filesystem::create_directory(data);
  REQUIRE(run(dir, "keygen " + (dir.path() / "st").string()).code == 0);
  const auto pub = (dir.path() / "st.pub").string();
  const auto key = *read_key_file(pub);
  const auto signing = signing_key_text(*read_signing_public_file(dir.path() / "st.sign.pub"));
  const auto list = [&] { return *StationAccessList::load(data / "authorized_stations"); };
  const std::string base = "authorize --data-dir " + data.string() + " --key " + pub + " --stations IU.ANMO";

  auto r = run(dir, base);
  REQUIRE(r.code == 0);
  CHECK(list().find(key)->signing_key == signing);
  CHECK_THAT(r.output, Catch::Contains(signing));

  r = run(dir, base + " --allow-unsigned");
  REQUIRE(r.code == 0);
  CHECK(list().find(key)->signing_key.empty());
  CHECK(list().find(key)->allow_unsigned);

  REQUIRE(run(dir, "keygen " + (dir.path() / "other").string()).code == 0);
  r = run(dir, base + " --signing-key " + (dir.path() / "other.sign.pub").string());
  REQUIRE(r.code == 0);
  CHECK(list().find(key)->signing_key == signing_key_text(*read_signing_public_file(dir.path() / "other.sign.pub")));

  const auto before = read_text(data / "authorized_stations");
  // A secret signing key is not what the operator should handle.
  r = run(dir, base + " --signing-key " + (dir.path() / "st.sign").string());
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Catch::Contains("secret key"));
  // Both at once.
  CHECK(run(dir, base + " --allow-unsigned --signing-key " + (dir.path() / "st.sign.pub").string()).code != 0);
  // A station key with no signing key beside it, and neither option.
  REQUIRE(write_key_files(dir.path() / "old", generate_curve_key_pair().value()).ok());
  r = run(dir, "authorize --data-dir " + data.string() + " --key " + (dir.path() / "old.pub").string() +
                   " --stations IU.COLA");
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Catch::Contains("old.sign.pub") && Catch::Contains("--allow-unsigned") &&
                           Catch::Contains("--signing-only"));
  CHECK(read_text(data / "authorized_stations") == before);
}

TEST_CASE("seisvault authorize adds, updates and revokes a key in DATA_DIR/authorized_stations", "[cli]") {
  test::TempDir dir;
  const auto data = dir.path() / "data";
  std::filesystem::create_directory(data);
  REQUIRE(run(dir, "keygen " + (dir.path() / "st").string()).code == 0);
  const auto pub = (dir.path() / "st.pub").string();
  const auto key = *read_key_file(pub);
  const auto list = [&] { return *StationAccessList::load(data / "authorized_stations"); };

  auto r = run(dir, "authorize --data-dir " + data.string() + " --key " + pub +
                        " --stations IU.ANMO,IU.COLA --comment 'Albuquerque'");
  REQUIRE(r.code == 0);
  CHECK_THAT(r.output, Catch::Contains("SIGHUP"));
  CHECK(list().may_write(key, "IU", "COLA"));
  CHECK(list().entries()[0].comment == "Albuquerque");

  r = run(dir, "authorize --data-dir " + data.string() + " --key " + pub + " --stations XX.*");
  REQUIRE(r.code == 0);
  CHECK(list().may_write(key, "XX", "ANY"));
  CHECK_FALSE(list().may_write(key, "IU", "COLA"));

  r = run(dir, "authorize --data-dir " + data.string() + " --key " + pub + " --revoke");
  REQUIRE(r.code == 0);
  CHECK_FALSE(list().is_listed(key));

  CHECK(run(dir, "authorize --data-dir " + data.string() + " --key " + pub).code == 2);  // neither
  CHECK(run(dir, "authorize --data-dir " + data.string() + " --key " + pub + " --stations BAD").code == 2);
  CHECK(run(dir, "authorize --data-dir " + data.string() + " --key " + (dir.path() / "st.key").string() +
                     " --stations IU.ANMO")
            .code == 2);  // a secret key is not what the operator should handle
}

TEST_CASE("seisvault authorize refuses a secret key file whatever its name, and writes nothing", "[cli]") {
  test::TempDir dir;
  const auto data = dir.path() / "data";
  std::filesystem::create_directory(data);
  REQUIRE(run(dir, "keygen " + (dir.path() / "st").string()).code == 0);
  const auto secret_text = read_text(dir.path() / "st.key");
  const auto secret = *read_key_file(dir.path() / "st.key");

  // keygen's secret key file, copied under a name that does not end in .key
  { std::ofstream(dir.path() / "station-key.txt") << secret_text; }
  auto r = run(dir, "authorize --data-dir " + data.string() + " --key " + (dir.path() / "station-key.txt").string() +
                        " --stations IU.ANMO");
  INFO(r.output);
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Catch::Contains("secret key") && Catch::Contains("public key file"));

  // the bare key line, beside the public key it belongs to
  { std::ofstream(dir.path() / "st.copy") << secret << "\n"; }
  r = run(dir, "authorize --data-dir " + data.string() + " --key " + (dir.path() / "st.copy").string() +
                   " --stations IU.ANMO");
  INFO(r.output);
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Catch::Contains("secret key of " + (dir.path() / "st.pub").string()));

  CHECK_FALSE(std::filesystem::exists(data / "authorized_stations"));
  // the public key still goes in
  CHECK(run(dir, "authorize --data-dir " + data.string() + " --key " + (dir.path() / "st.pub").string() +
                     " --stations IU.ANMO")
            .code == 0);
  CHECK(read_text(data / "authorized_stations").find(secret) == std::string::npos);
}

TEST_CASE("seisvault push exits 0 when every record is stored, with a summary", "[cli]") {
  test::TempDir dir;
  AckPeer peer({});
  write_records(dir.path() / "a.mseed", test::make_records(30));
  auto r = run(dir, "push --insecure --server " + peer.endpoint() + " --batch-records 7 " +
                        (dir.path() / "a.mseed").string());
  INFO(r.output);
  CHECK(r.code == 0);
  CHECK_THAT(r.output, Catch::Contains("stored     30"));
  CHECK(peer.seen().records_stored == 30);
  CHECK(peer.seen().batch_records.front() == 7);
}

TEST_CASE("seisvault push reads directories recursively and stdin, and exits 1 when records are rejected", "[cli]") {
  test::TempDir dir;
  AckPeer peer({});
  const auto records = test::make_records(12);
  std::filesystem::create_directories(dir.path() / "in" / "sub");
  write_records(dir.path() / "in" / "a.mseed", {records.begin(), records.begin() + 4});
  write_records(dir.path() / "in" / "sub" / "b.mseed", {records.begin() + 4, records.begin() + 8}, "trailing junk");
  write_records(dir.path() / "c.mseed", {records.begin() + 8, records.end()});
  auto r = run(dir, "push --insecure --server " + peer.endpoint() + " " + (dir.path() / "in").string() + " -",
               (dir.path() / "c.mseed").string());
  INFO(r.output);
  CHECK(r.code == 1);
  CHECK_THAT(r.output, Catch::Contains("NOT_MINISEED") && Catch::Contains("not a miniSEED 2 record"));
  CHECK(peer.seen().records_stored == 12);
}

TEST_CASE("seisvault push from stdin keeps the records the server could not store and resends them until each is "
          "stored once (exit 0)",
          "[cli][retry]") {
  test::TempDir dir;
  AckPeerOptions po;
  po.transient_first = 2;  // half the records of the first two batches refused INTERNAL
  po.transient_every = 2;
  AckPeer peer(po);
  write_records(dir.path() / "in.mseed", test::make_records(30));
  auto r = run(dir, "push --insecure --server " + peer.endpoint() + " --batch-records 10 -",
               (dir.path() / "in.mseed").string());
  INFO(r.output);
  CHECK(r.code == 0);
  CHECK_THAT(r.output, Catch::Contains("stored     30") && Catch::Contains("rejected   0") &&
                           Catch::Contains("kept for resend  10 records") && Catch::Contains("INTERNAL"));
  CHECK(peer.seen().records_stored == 30);
  CHECK(peer.seen().store_attempts == 30);
}

TEST_CASE("seisvault push with a spool through STORE_UNAVAILABLE and lowered batch limits delivers everything once",
          "[cli][retry]") {
  test::TempDir dir;
  AckPeerOptions po;
  po.batch_error_first = 1;
  po.batch_error = 4;  // STORE_UNAVAILABLE
  po.retry_after_ms = 100;
  po.limit_records = 4;
  po.enforce = AckPeerOptions::Enforce::kBatchError;  // OVERSIZED_BATCH
  AckPeer peer(po);
  write_records(dir.path() / "in.mseed", test::make_records(30));
  const auto spool = dir.path() / "spool";
  auto r = run(dir, "push --insecure --server " + peer.endpoint() + " --batch-records 10 --spool " + spool.string() +
                        " " + (dir.path() / "in.mseed").string());
  INFO(r.output);
  CHECK(r.code == 0);
  CHECK_THAT(r.output, Catch::Contains("stored     30") && Catch::Contains("the server cannot store now") &&
                           Catch::Contains("STORE_UNAVAILABLE") && Catch::Contains("OVERSIZED_BATCH") &&
                           Catch::Contains("batches split to the server's limits"));
  CHECK(peer.seen().records_stored == 30);
  CHECK(peer.seen().store_attempts == 30);
  for (const auto& e : std::filesystem::directory_iterator(spool)) {
    CHECK_FALSE(e.path().filename().string().starts_with("batch-"));
  }
}

TEST_CASE("seisvault push exits 1 for a permanent rejection even when other records were kept and resent",
          "[cli][retry]") {
  test::TempDir dir;
  AckPeerOptions po;
  po.transient_first = 1;
  po.transient_every = 3;
  AckPeer peer(po);
  write_records(dir.path() / "in.mseed", test::make_records(12), "trailing junk");
  auto r = run(dir, "push --insecure --server " + peer.endpoint() + " " + (dir.path() / "in.mseed").string());
  INFO(r.output);
  CHECK(r.code == 1);
  CHECK_THAT(r.output, Catch::Contains("stored     12") && Catch::Contains("rejected   1") &&
                           Catch::Contains("NOT_MINISEED") && Catch::Contains("kept for resend"));
  CHECK(peer.seen().records_stored == 12);
}

TEST_CASE("seisvault push with a key the server refuses exits 3 saying what to do", "[cli][curve]") {
  test::TempDir dir;
  const auto server = *generate_curve_key_pair();
  AckPeerOptions po;
  po.curve = true;
  po.server_keys = server;
  AckPeer peer(po);
  REQUIRE(write_key_files(dir.path() / "server", server).ok());
  REQUIRE(run(dir, "keygen " + (dir.path() / "st").string()).code == 0);
  write_records(dir.path() / "a.mseed", test::make_records(3));
  const auto start = std::chrono::steady_clock::now();
  auto r = run(dir, "push --server " + peer.endpoint() + " --server-key " + (dir.path() / "server.pub").string() +
                        " --key " + (dir.path() / "st").string() + " " + (dir.path() / "a.mseed").string());
  INFO(r.output);
  CHECK(r.code == 3);
  CHECK_THAT(r.output, Catch::Contains("refused this station key") && Catch::Contains("seisvault authorize"));
  CHECK(std::chrono::steady_clock::now() - start < 10s);
}

TEST_CASE("seisvault push over CURVE with an authorized key delivers", "[cli][curve]") {
  test::TempDir dir;
  const auto server = *generate_curve_key_pair();
  REQUIRE(write_key_files(dir.path() / "server", server).ok());
  REQUIRE(run(dir, "keygen " + (dir.path() / "st").string()).code == 0);
  AckPeerOptions po;
  po.curve = true;
  po.server_keys = server;
  po.authorized = {*read_key_file(dir.path() / "st.pub")};
  AckPeer peer(po);
  write_records(dir.path() / "a.mseed", test::make_records(5));
  auto r = run(dir, "push --server " + peer.endpoint() + " --server-key " + (dir.path() / "server.pub").string() +
                        " --key " + (dir.path() / "st").string() + " " + (dir.path() / "a.mseed").string());
  INFO(r.output);
  CHECK(r.code == 0);
  CHECK(peer.seen().records_stored == 5);
}

TEST_CASE("seisvault push usage and key errors exit 2", "[cli]") {
  test::TempDir dir;
  write_records(dir.path() / "a.mseed", test::make_records(1));
  const auto file = (dir.path() / "a.mseed").string();
  CHECK(run(dir, "push --server tcp://127.0.0.1:1 " + file).code == 2);  // no keys, no --insecure
  CHECK(run(dir, "push --server tcp://127.0.0.1:1 --server-key " + (dir.path() / "none.pub").string() + " --key " +
                     (dir.path() / "none").string() + " " + file)
            .code == 2);
  CHECK(run(dir, "push --insecure --server tcp://127.0.0.1:1 " + (dir.path() / "missing").string()).code == 2);
  CHECK(run(dir, "push --insecure " + file).code == 2);  // no --server
  REQUIRE(run(dir, "keygen " + (dir.path() / "loose").string()).code == 0);
  std::filesystem::permissions(dir.path() / "loose.key", std::filesystem::perms::others_read,
                               std::filesystem::perm_options::add);
  const auto server = *generate_curve_key_pair();
  REQUIRE(write_key_files(dir.path() / "server", server).ok());
  auto r = run(dir, "push --server tcp://127.0.0.1:1 --server-key " + (dir.path() / "server.pub").string() +
                        " --key " + (dir.path() / "loose").string() + " " + file);
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Catch::Contains("chmod 600"));
}

TEST_CASE("seisvault push to a server that never answers gives up after --timeout with exit 3", "[cli]") {
  test::TempDir dir;
  write_records(dir.path() / "a.mseed", test::make_records(3));
  const auto start = std::chrono::steady_clock::now();
  auto r = run(dir, "push --insecure --server tcp://127.0.0.1:1 --timeout 1 --spool " +
                        (dir.path() / "spool").string() + " " + (dir.path() / "a.mseed").string());
  INFO(r.output);
  CHECK(r.code == 3);
  CHECK_THAT(r.output, Catch::Contains("waiting for server") && Catch::Contains("kept in the spool"));
  CHECK(std::chrono::steady_clock::now() - start < 10s);
}

TEST_CASE("seisvault push --follow sends records appended to a file until SIGINT, then flushes", "[cli]") {
  test::TempDir dir;
  AckPeer peer({});
  const auto records = test::make_records(20);
  const auto file = dir.path() / "live.mseed";
  write_records(file, {records.begin(), records.begin() + 5});

  const std::string endpoint = peer.endpoint();
  const std::string out = (dir.path() / "follow.txt").string();
  std::vector<std::string> args{kTool, "push", "--insecure", "--server", endpoint, "--follow", file.string()};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = 0;
  REQUIRE(posix_spawn(&pid, kTool.c_str(), &actions, nullptr, argv.data(), environ) == 0);
  posix_spawn_file_actions_destroy(&actions);

  const auto wait_for = [&](uint64_t stored) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (peer.seen().records_stored < stored && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(20ms);
    }
    return peer.seen().records_stored;
  };
  CHECK(wait_for(5) == 5);  // sent within max_batch_delay, not held for a full batch
  {
    std::ofstream f(file, std::ios::binary | std::ios::app);
    for (size_t i = 5; i < 20; ++i) {
      f.write(reinterpret_cast<const char*>(records[i].data()), static_cast<std::streamsize>(records[i].size()));
    }
    f.write(reinterpret_cast<const char*>(records[0].data()), 100);  // a record being written
  }
  CHECK(wait_for(20) == 20);
  ::kill(pid, SIGINT);
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      FAIL("seisvault push --follow did not stop after SIGINT");
    }
    std::this_thread::sleep_for(20ms);
  }
  const auto output = read_text(out);
  INFO(output);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK_THAT(output, Catch::Contains("stored     20") && Catch::Contains("100 bytes were not sent"));
}
