// `seisvault export` and `seisvault verify --bundle` as programs, against a
// real seisvaultd: a bundle of signed records verifies with nothing but
// itself and the server's public key; every kind of edit to it is found.
#include <catch2/catch.hpp>

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

#include <nlohmann/json.hpp>

#include "seisvault/common/sha256.h"
#include "seisvault/common/signing_keys.h"
#include "support/process.h"
#include "support/server_process.h"
#include "support/temp_dir.h"
#include "test_records.h"

using namespace seisvault;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

using Run = test::ToolRun;
Run run_tool(const fs::path& dir, const std::string& args) { return test::run_seisvault(dir, args); }

// Around the test records (2023-11-14T22:13:20Z on).
constexpr const char* kWholeTime = " --start 2023-11-14T00:00:00Z --end 2023-11-20T00:00:00Z";

nlohmann::json read_json(const fs::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

void write_json(const fs::path& p, const nlohmann::json& j) { std::ofstream(p) << j.dump(1); }

// A copy of the bundle to tamper with.
fs::path copy_of(const fs::path& bundle, const std::string& name) {
  const auto to = bundle.parent_path() / name;
  fs::copy(bundle, to, fs::copy_options::recursive);
  return to;
}

fs::path first_data_file(const fs::path& bundle) {
  for (const auto& e : fs::directory_iterator(bundle / "data")) return e.path();
  FAIL("no data file");
  return {};
}

// A seisvaultd in TMP/data checkpointing every `checkpoint_interval_s`,
// with a station key made by `seisvault keygen` and authorized on SIGHUP
// (so its registration is ledger entry 1), and `records` pushed by
// `seisvault push` (one batch: entry 2).
std::unique_ptr<test::ServerProcess> server_with_pushed(const fs::path& tmp, const std::string& checkpoint_interval_s,
                                                        const std::vector<std::vector<uint8_t>>& records) {
  const auto data = tmp / "data";
  { test::ServerProcess probe(data); REQUIRE(probe.stop() == 0); }
  auto server = std::make_unique<test::ServerProcess>(data, "tcp://127.0.0.1:*",
                                                      std::vector<std::string>{"--checkpoint-interval-s",
                                                                               checkpoint_interval_s});
  const auto prefix = (tmp / "XX.TEST").string();
  REQUIRE(run_tool(tmp, "keygen " + prefix).code == 0);
  REQUIRE(run_tool(tmp, "authorize --data-dir " + data.string() + " --key " + prefix + ".pub --stations XX.TEST")
              .code == 0);
  server->process().signal(SIGHUP);
  REQUIRE(test::eventually([&] { return server->log().find("SIGHUP: reloaded") != std::string::npos; }, 10s));
  {
    const auto bytes = test::concatenate(records);
    std::ofstream f(tmp / "pushed.mseed", std::ios::binary);
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  const auto r = run_tool(tmp, "push --server " + server->endpoint() + " --server-key " + (data / "server.pub").string() +
                                   " --key " + prefix + " " + (tmp / "pushed.mseed").string());
  INFO(r.output);
  REQUIRE(r.code == 0);
  return server;
}

}  // namespace

TEST_CASE("an export bundle verifies with nothing but itself, and any edit to it is found", "[e2e][cli][export]") {
  test::TempDir tmp;
  const auto data = tmp.path() / "data";
  const auto records = test::make_records(40);
  auto server_process = server_with_pushed(tmp.path(), "0.2", records);
  auto& server = *server_process;
  Run r;

  // Exported once a checkpoint covers the batch (every 0.2 s here).
  const auto bundle = tmp.path() / "bundle";
  const std::string server_key = " --server-key " + (data / "server.sign.pub").string();
  const bool exported = test::eventually(
      [&] {
        r = run_tool(tmp.path(), "export --api " + server.api() + " XX.TEST" + kWholeTime + " --out " + bundle.string());
        return r.code == 0;
      },
      10s);
  INFO(r.output);
  REQUIRE(exported);
  CHECK_THAT(r.output, Catch::Contains("40 records") && Catch::Contains("1 file(s)"));
  const auto manifest = read_json(bundle / "manifest.json");
  CHECK(manifest["format"] == "seisvault-export-bundle");
  CHECK(manifest["records"].size() == 40);
  CHECK(manifest["batches"].size() == 1);
  CHECK(manifest["batches"][0]["signed"] == true);
  CHECK(manifest["batches"][0]["hashes"].size() == 40);
  CHECK(manifest["chain"]["first"] == 2);       // entry 1: the station's key registered on SIGHUP
  CHECK(manifest["key_events"].size() == 1);    // ... carried from before the chain
  CHECK(manifest["keys"].size() == 1);
  CHECK(fs::file_size(first_data_file(bundle)) == test::concatenate(records).size());

  // Again into the same directory: refused.
  r = run_tool(tmp.path(), "export --api " + server.api() + kWholeTime + " --out " + bundle.string());
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Catch::Contains("exists"));
  // A selection with nothing in it: no bundle.
  r = run_tool(tmp.path(), "export --api " + server.api() + " YY" + kWholeTime + " --out " +
                               (tmp.path() / "none").string());
  CHECK(r.code == 0);
  CHECK_THAT(r.output, Catch::Contains("no data"));
  CHECK_FALSE(fs::exists(tmp.path() / "none"));
  REQUIRE(server.stop() == 0);  // the bundle needs no server

  r = run_tool(tmp.path(), "verify --bundle " + bundle.string() + server_key);
  INFO(r.output);
  CHECK(r.code == 0);
  CHECK_THAT(r.output, Catch::Contains("40 records in 1 file(s)") && Catch::Contains("1 signed batches") &&
                           Catch::Contains("1 station key event(s)") && Catch::Contains("OK"));
  // Without the server's key: the checkpoint's own key, named for comparison.
  r = run_tool(tmp.path(), "verify --bundle " + bundle.string());
  CHECK(r.code == 0);
  CHECK_THAT(r.output, Catch::Contains("compare that key"));
  // Another server's key: the checkpoint is not its.
  const auto other = tmp.path() / "other";
  REQUIRE(run_tool(tmp.path(), "keygen " + other.string()).code == 0);
  r = run_tool(tmp.path(), "verify --bundle " + bundle.string() + " --server-key " + other.string() + ".sign.pub");
  CHECK(r.code == 1);
  CHECK_THAT(r.output, Catch::Contains("checkpoint-signature"));

  SECTION("a byte of a data file changed") {
    const auto b = copy_of(bundle, "flipped");
    {
      std::fstream f(first_data_file(b), std::ios::in | std::ios::out | std::ios::binary);
      f.seekg(600);
      const char c = static_cast<char>(f.get());
      f.seekp(600);
      f.put(static_cast<char>(c ^ 1));
    }
    r = run_tool(tmp.path(), "verify --bundle " + b.string() + server_key);
    INFO(r.output);
    CHECK(r.code == 1);
    CHECK_THAT(r.output, Catch::Contains("record-hash") && Catch::Contains("the file was changed"));
  }
  SECTION("a record and its hash in the manifest replaced together") {
    const auto b = copy_of(bundle, "replaced");
    auto j = read_json(b / "manifest.json");
    const auto other_records = test::make_records(1, 99);
    const auto& rec = j["records"][3];
    {
      std::fstream f(b / rec["file"].get<std::string>(), std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(rec["offset"].get<std::streamoff>());
      REQUIRE(other_records[0].size() == rec["length"].get<size_t>());
      f.write(reinterpret_cast<const char*>(other_records[0].data()),
              static_cast<std::streamsize>(other_records[0].size()));
    }
    j["records"][3]["sha256"] = to_hex(sha256(other_records[0]));
    write_json(b / "manifest.json", j);
    r = run_tool(tmp.path(), "verify --bundle " + b.string() + server_key);
    INFO(r.output);
    CHECK(r.code == 1);
    CHECK_THAT(r.output, Catch::Contains("record-ledger-mismatch") && Catch::Contains("not what the station sent"));
    CHECK_THAT(r.output, !Catch::Contains("record-hash"));
  }
  SECTION("the readable view of a batch edited") {
    const auto b = copy_of(bundle, "view");
    auto j = read_json(b / "manifest.json");
    j["batches"][0]["batch_id"] = 99;
    write_json(b / "manifest.json", j);
    r = run_tool(tmp.path(), "verify --bundle " + b.string() + server_key);
    CHECK(r.code == 1);
    CHECK_THAT(r.output, Catch::Contains("manifest-mismatch"));
  }
  SECTION("a chain entry edited or removed") {
    const auto b = copy_of(bundle, "chain");
    auto j = read_json(b / "manifest.json");
    j["chain"]["entries"].erase(0);
    j["chain"]["first"] = 3;
    write_json(b / "manifest.json", j);
    r = run_tool(tmp.path(), "verify --bundle " + b.string() + server_key);
    INFO(r.output);
    CHECK(r.code == 1);
    CHECK_THAT(r.output, Catch::Contains("record-ledger-mismatch") && Catch::Contains("checkpoint-mismatch"));
  }
  SECTION("a chain that does not end at the checkpoint") {
    const auto b = copy_of(bundle, "long");
    auto j = read_json(b / "manifest.json");
    j["chain"]["entries"].push_back(j["chain"]["entries"][0]);
    write_json(b / "manifest.json", j);
    r = run_tool(tmp.path(), "verify --bundle " + b.string() + server_key);
    INFO(r.output);
    CHECK(r.code == 1);
    CHECK_THAT(r.output, Catch::Contains("manifest-mismatch") && Catch::Contains("it must end there"));
  }
  SECTION("bytes added to a data file, or a file slipped in") {
    const auto b = copy_of(bundle, "added");
    std::ofstream(first_data_file(b), std::ios::app | std::ios::binary) << "more";
    std::ofstream(b / "data" / "XX.EXTRA..HHZ.mseed") << "extra";
    r = run_tool(tmp.path(), "verify --bundle " + b.string() + server_key);
    INFO(r.output);
    CHECK(r.code == 1);
    CHECK(r.output.find("bundle-file") != std::string::npos);
    CHECK_THAT(r.output, Catch::Contains("bundle-file                2"));
  }
  SECTION("a record claiming more bytes than its file holds") {
    const auto b = copy_of(bundle, "claims");
    auto j = read_json(b / "manifest.json");
    j["records"][0]["length"] = uint64_t{1} << 50;
    j["records"][1]["offset"] = uint64_t{18446744073709551615u};
    write_json(b / "manifest.json", j);
    r = run_tool(tmp.path(), "verify --bundle " + b.string() + server_key);
    INFO(r.output);
    CHECK(r.code == 1);
    CHECK_THAT(r.output, Catch::Contains("bundle-file") && Catch::Contains("does not hold these bytes"));
  }
  SECTION("a manifest with fields of the wrong type") {
    const auto b = copy_of(bundle, "types");
    auto j = read_json(b / "manifest.json");
    j["records"][0]["sha256"] = 12;
    write_json(b / "manifest.json", j);
    r = run_tool(tmp.path(), "verify --bundle " + b.string() + server_key);
    INFO(r.output);
    CHECK(r.code == 1);
    CHECK_THAT(r.output, Catch::Contains("manifest-unreadable"));
    // F10 (fuzz_bundle_manifest): a number out of its field's range, as a
    // floating-point value, was converted with undefined behaviour.
    j = read_json(bundle / "manifest.json");
    j["records"][0]["length"] = 1.02422e51;
    write_json(b / "manifest.json", j);
    r = run_tool(tmp.path(), "verify --bundle " + b.string() + server_key);
    CHECK(r.code == 1);
    CHECK_THAT(r.output, Catch::Contains("manifest-unreadable") && Catch::Contains("not a whole number"));
    j["records"][0]["length"] = -1;
    write_json(b / "manifest.json", j);
    r = run_tool(tmp.path(), "verify --bundle " + b.string() + server_key);
    CHECK_THAT(r.output, Catch::Contains("manifest-unreadable") && Catch::Contains("not a whole number"));
  }
  SECTION("not a bundle") {
    r = run_tool(tmp.path(), "verify --bundle " + tmp.path().string());
    CHECK(r.code == 2);
    CHECK_THAT(r.output, Catch::Contains("not an export bundle"));
    r = run_tool(tmp.path(), "verify --bundle " + bundle.string() + " --data-dir " + data.string());
    CHECK(r.code == 2);
  }
}

TEST_CASE("export refuses, exit 3, while no checkpoint covers the records yet", "[e2e][cli][export]") {
  test::TempDir tmp;
  auto server_process = server_with_pushed(tmp.path(), "3600", test::make_records(5));
  auto& server = *server_process;
  const auto r = run_tool(tmp.path(), "export --api " + server.api() + kWholeTime + " --out " +
                                          (tmp.path() / "bundle").string());
  INFO(r.output);
  CHECK(r.code == 3);
  CHECK_THAT(r.output, Catch::Contains("no checkpoint of the server covers ledger entry 2 yet"));
  CHECK_FALSE(fs::exists(tmp.path() / "bundle"));
  CHECK_FALSE(fs::exists(tmp.path() / "bundle.partial"));
  REQUIRE(server.stop() == 0);
}
