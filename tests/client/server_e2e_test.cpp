// The push client and the `seisvault` tool against the real seisvaultd
// (build/server/seisvaultd) on 127.0.0.1, with CURVE and its real ZAP
// handler. Every wait is bounded.
#include <catch2/catch.hpp>

#include <signal.h>

#include <chrono>
#include <fstream>
#include <map>

#include "seisvault/client/push_client.h"
#include "seisvault/client/station_authorization.h"
#include "seisvault/client/station_keys.h"
#include "support/process.h"
#include "support/server_process.h"
#include "support/temp_dir.h"
#include "test_records.h"

using namespace seisvault;
using namespace seisvault::client;
using namespace std::chrono_literals;
using seisvault::test::bytes_of;
using seisvault::test::ServerProcess;

namespace {

CurveKeyPair new_keys() { return generate_curve_key_pair().value(); }

// The stations of these tests sign their batches (one signing key for all).
const SigningKeyPair& signing_key() {
  static const SigningKeyPair key = generate_signing_key_pair().value();
  return key;
}

const StationSigning kSigned{signing_key_text(signing_key().public_key), false};

// Starts and stops the server once so that DIR/server.key exists, then
// authorizes `keys` for the test records' station (XX.TEST).
void prepare(const std::filesystem::path& dir, const CurveKeyPair& keys) {
  ServerProcess probe(dir);
  REQUIRE(probe.stop() == 0);
  REQUIRE(authorize_station_key(dir, keys.public_key, {"XX.TEST"}, "client test", kSigned).ok());
}

PushOptions curve_options(const ServerProcess& server, const CurveKeyPair& keys) {
  PushOptions o;
  o.endpoint = server.endpoint();
  o.server_public_key = server.public_key();
  o.client_keys = keys;
  o.signing_key = signing_key();
  o.max_batch_records = 100;
  o.ack_timeout = 2s;
  o.reconnect_interval = 50ms;
  o.reconnect_interval_max = 500ms;
  o.on_connection = [](ConnectionState, std::string_view) {};
  return o;
}

void add_all(PushClient& client, const std::vector<std::vector<uint8_t>>& records, size_t from = 0,
             size_t to = SIZE_MAX) {
  for (size_t i = from; i < std::min(to, records.size()); ++i) REQUIRE(client.add(bytes_of(records[i])).ok());
}

using Run = test::ToolRun;

Run run_tool(const std::filesystem::path& dir, const std::string& args) { return test::run_seisvault(dir, args); }

}  // namespace

TEST_CASE("seisvaultd stores what the push client sends over CURVE, and a second push is all duplicate",
          "[e2e][push_client]") {
  test::TempDir tmp;
  const auto keys = new_keys();
  prepare(tmp.path(), keys);
  ServerProcess server(tmp.path());
  const auto records = test::make_records(1000);

  auto first = PushClient::open(curve_options(server, keys));
  REQUIRE(first.ok());
  add_all(*first, records);
  REQUIRE(first->flush(30s).ok());
  CHECK(first->stats().stored == 1000);
  CHECK(first->stats().rejected == 0);

  auto second = PushClient::open(curve_options(server, keys));
  REQUIRE(second.ok());
  add_all(*second, records);
  REQUIRE(second->flush(30s).ok());
  CHECK(second->stats().duplicate == 1000);
  REQUIRE(server.stop() == 0);
}

TEST_CASE("seisvaultd refuses an unlisted key clearly; after authorize and SIGHUP the key delivers",
          "[e2e][push_client]") {
  test::TempDir tmp;
  const auto keys = new_keys();
  { ServerProcess probe(tmp.path()); REQUIRE(probe.stop() == 0); }
  ServerProcess server(tmp.path());
  const auto records = test::make_records(50);

  auto refused = PushClient::open(curve_options(server, keys));
  REQUIRE(refused.ok());
  add_all(*refused, records);
  const auto start = std::chrono::steady_clock::now();
  const Status s = refused->flush(60s);
  CHECK(std::chrono::steady_clock::now() - start < 10s);
  CHECK(s.code() == StatusCode::kPermissionDenied);
  CHECK_THAT(s.message(), Catch::Contains("the server refused this station key: it is not in the server's "
                                          "authorized_stations list (ask the operator to run seisvault authorize)"));

  REQUIRE(authorize_station_key(tmp.path(), keys.public_key, {"XX.*"}, "", kSigned).ok());
  server.process().signal(SIGHUP);
  REQUIRE(test::eventually([&] { return server.log().find("SIGHUP: reloaded") != std::string::npos; }, 10s));
  auto admitted = PushClient::open(curve_options(server, keys));
  REQUIRE(admitted.ok());
  add_all(*admitted, records);
  REQUIRE(admitted->flush(30s).ok());
  CHECK(admitted->stats().stored == 50);
  REQUIRE(server.stop() == 0);
}

TEST_CASE("when seisvaultd is killed mid-push and restarted, the client resends and every record arrives",
          "[e2e][push_client]") {
  test::TempDir tmp;
  const auto keys = new_keys();
  prepare(tmp.path(), keys);
  const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(test::free_loopback_port());
  const auto records = test::make_records(3000);
  std::optional<ServerProcess> server;
  server.emplace(tmp.path(), endpoint);
  auto client = PushClient::open(curve_options(*server, keys));
  REQUIRE(client.ok());

  add_all(*client, records, 0, 1500);  // returns with up to max_in_flight batches unacknowledged
  REQUIRE(client->stats().stored > 0);
  REQUIRE(client->unacknowledged_batches() > 0);
  server->kill9();
  server.reset();
  server.emplace(tmp.path(), endpoint);

  add_all(*client, records, 1500);
  REQUIRE(client->flush(60s).ok());
  const auto& stats = client->stats();
  CHECK(stats.stored + stats.duplicate == 3000);
  CHECK(stats.rejected == 0);
  CHECK(stats.batches_resent > 0);
  REQUIRE(server->stop() == 0);
}

TEST_CASE("with a spool, records pushed while seisvaultd is down are delivered by the next run",
          "[e2e][spool][push_client]") {
  test::TempDir tmp;
  const auto keys = new_keys();
  prepare(tmp.path(), keys);
  const auto spool = tmp.path() / "spool";
  const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(test::free_loopback_port());
  const auto records = test::make_records(250);
  const std::string server_key = *read_key_file(tmp.path() / "server.pub");
  PushOptions o;
  o.endpoint = endpoint;
  o.server_public_key = server_key;
  o.client_keys = keys;
  o.signing_key = signing_key();
  o.spool_dir = spool;
  o.max_batch_records = 100;
  o.reconnect_interval = 50ms;
  o.reconnect_interval_max = 500ms;
  o.on_connection = [](ConnectionState, std::string_view) {};
  {
    auto client = PushClient::open(o);  // the server is down
    REQUIRE(client.ok());
    add_all(*client, records);
    CHECK(client->flush(500ms).code() == StatusCode::kDeadlineExceeded);
  }
  ServerProcess server(tmp.path(), endpoint);
  auto client = PushClient::open(o);
  REQUIRE(client.ok());
  REQUIRE(client->flush(30s).ok());
  CHECK(client->stats().records_recovered == 250);
  CHECK(client->stats().stored == 250);
  REQUIRE(server.stop() == 0);
}

TEST_CASE("spooled batches over limits the operator lowered are split, and every record is stored once",
          "[e2e][spool][push_client]") {
  test::TempDir tmp;
  const auto keys = new_keys();
  prepare(tmp.path(), keys);
  const auto spool = tmp.path() / "spool";
  const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(test::free_loopback_port());
  const auto records = test::make_records(250);
  PushOptions o;
  o.endpoint = endpoint;
  o.server_public_key = *read_key_file(tmp.path() / "server.pub");
  o.client_keys = keys;
  o.signing_key = signing_key();
  o.spool_dir = spool;
  o.max_batch_records = 100;
  o.reconnect_interval = 50ms;
  o.reconnect_interval_max = 500ms;
  o.on_connection = [](ConnectionState, std::string_view) {};
  {
    auto client = PushClient::open(o);  // the server is down: batches of 100, 100 and 50 wait in the spool
    REQUIRE(client.ok());
    add_all(*client, records);
    CHECK(client->flush(300ms).code() == StatusCode::kDeadlineExceeded);
  }
  ServerProcess server(tmp.path(), endpoint, {"--max-batch-records", "30"});
  auto client = PushClient::open(o);
  REQUIRE(client.ok());
  REQUIRE(client->flush(30s).ok());
  const auto& stats = client->stats();
  CHECK(stats.records_recovered == 250);
  CHECK(stats.stored == 250);
  CHECK(stats.duplicate == 0);
  CHECK(stats.rejected == 0);
  CHECK(stats.batches_split >= 3);
  CHECK(stats.kept_by_cause.at("OVERSIZED_BATCH").count >= 250);  // this server answers the batch as a whole
  for (const auto& e : std::filesystem::directory_iterator(spool)) {
    CHECK_FALSE(e.path().filename().string().starts_with("batch-"));
  }
  REQUIRE(server.stop() == 0);
}

TEST_CASE("a batch the server refuses for its signature stops the push with the reason, and the spool keeps it",
          "[e2e][spool][push_client][signature]") {
  test::TempDir tmp;
  const auto keys = new_keys();
  prepare(tmp.path(), keys);  // registers signing_key()
  ServerProcess server(tmp.path());
  const auto spool = tmp.path() / "spool";
  const auto records = test::make_records(120);
  auto o = curve_options(server, keys);
  o.spool_dir = spool;
  o.signing_key = generate_signing_key_pair().value();  // not the one the server has for this station
  {
    auto client = PushClient::open(o);
    REQUIRE(client.ok());
    add_all(*client, records);
    const Status s = client->flush(30s);
    CHECK(s.code() == StatusCode::kPermissionDenied);
    CHECK_THAT(s.message(), Catch::Contains("the signing key registered for this station key is " +
                                            signing_key_text(signing_key().public_key)));
    CHECK(client->stats().stored == 0);
  }
  size_t spooled = 0;
  for (const auto& e : std::filesystem::directory_iterator(spool)) {
    spooled += e.path().filename().string().starts_with("batch-");
  }
  CHECK(spooled == 2);
  // With the station's own key the spool goes out, signed as it is sent.
  o.signing_key = signing_key();
  auto client = PushClient::open(o);
  REQUIRE(client.ok());
  REQUIRE(client->flush(30s).ok());
  CHECK(client->stats().records_recovered == 120);
  CHECK(client->stats().stored == 120);
  REQUIRE(server.stop() == 0);
}

TEST_CASE("a station whose batch ids restart below what it stored sends its records again under new ids",
          "[e2e][spool][push_client][signature]") {
  test::TempDir tmp;
  const auto keys = new_keys();
  prepare(tmp.path(), keys);
  ServerProcess server(tmp.path());
  const auto records = test::make_records(300);
  auto o = curve_options(server, keys);
  o.spool_dir = tmp.path() / "spool-1";
  {
    auto client = PushClient::open(o);
    REQUIRE(client.ok());
    add_all(*client, records, 0, 150);
    REQUIRE(client->flush(30s).ok());
    CHECK(client->stats().stored == 150);
  }
  // A new spool (the old one lost with its disk): its ids start at 1 again,
  // below what the key has stored.
  o.spool_dir = tmp.path() / "spool-2";
  auto client = PushClient::open(o);
  REQUIRE(client.ok());
  add_all(*client, records, 150, 300);
  REQUIRE(client->flush(30s).ok());
  CHECK(client->stats().stored == 150);
  CHECK(client->stats().batches_renumbered >= 1);
  CHECK(client->stats().kept_by_cause.count("REPLAYED_BATCH") == 1);
  REQUIRE(server.stop() == 0);
}

TEST_CASE("seisvault keygen, authorize and push work together against seisvaultd", "[e2e][cli]") {
  test::TempDir tmp;
  const auto data = tmp.path() / "data";
  { ServerProcess probe(data); REQUIRE(probe.stop() == 0); }
  ServerProcess server(data);
  const auto prefix = (tmp.path() / "XX.TEST").string();
  REQUIRE(run_tool(tmp.path(), "keygen " + prefix).code == 0);
  REQUIRE(run_tool(tmp.path(), "authorize --data-dir " + data.string() + " --key " + prefix + ".pub --stations XX.TEST")
              .code == 0);
  server.process().signal(SIGHUP);
  REQUIRE(test::eventually([&] { return server.log().find("SIGHUP: reloaded") != std::string::npos; }, 10s));

  const auto records = test::make_records(40);
  const auto bytes = test::concatenate(records);
  {
    std::ofstream f(tmp.path() / "good.mseed", std::ios::binary);
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    std::ofstream g(tmp.path() / "junk.bin", std::ios::binary);
    g << std::string(3000, 'z');
  }
  const std::string common = "push --server " + server.endpoint() + " --server-key " + (data / "server.pub").string() +
                             " --key " + prefix + " ";
  auto r = run_tool(tmp.path(), common + (tmp.path() / "good.mseed").string());
  INFO(r.output);
  CHECK(r.code == 0);
  CHECK_THAT(r.output, Catch::Contains("stored     40"));

  r = run_tool(tmp.path(), common + (tmp.path() / "good.mseed").string() + " " + (tmp.path() / "junk.bin").string());
  INFO(r.output);
  CHECK(r.code == 1);
  CHECK_THAT(r.output, Catch::Contains("duplicate  40") && Catch::Contains("NOT_MINISEED"));

  // Online, through the API: the server re-checks the records against the
  // ledger, the tool checks the ledger's chain and signatures itself.
  r = run_tool(tmp.path(), "query --api " + server.api() + " verify --server-key " +
                               (data / "server.sign.pub").string());
  INFO(r.output);
  CHECK(r.code == 0);
  CHECK_THAT(r.output, Catch::Contains("checked 40 records: no problems") &&
                           Catch::Contains("ledger: 3 entries (2 signed by their station, 1 station key event(s))"));
  // (the key registered on SIGHUP; the second push stored nothing new but has its entry too)

  // The store is what the station signed: verify says so once the server
  // has stopped (it refuses while the server holds the store).
  r = run_tool(tmp.path(), "verify --quiet --data-dir " + data.string());
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Catch::Contains("stop it, or verify a backup"));
  REQUIRE(server.stop() == 0);
  const auto store_files = [&] {
    std::map<std::string, uintmax_t> files;
    for (const auto& e : std::filesystem::recursive_directory_iterator(data / "store")) {
      if (e.is_regular_file()) files[e.path().string()] = e.file_size();
    }
    return files;
  };
  const auto files_before = store_files();
  r = run_tool(tmp.path(), "verify --quiet --data-dir " + data.string());
  INFO(r.output);
  CHECK(r.code == 0);
  CHECK(store_files() == files_before);  // opened read-only: no new segment, no log, nothing changed
  CHECK_THAT(r.output, Catch::Contains("40 records re-hashed") && Catch::Contains("signed by their station") &&
                           Catch::Contains("OK: every record"));
  CHECK_THAT(r.output, Catch::Contains("1 checkpoint(s)"));  // made at shutdown

  // A byte of a stored record flipped on disk: found, exit 1.
  for (const auto& e : std::filesystem::directory_iterator(data / "store" / "segments")) {
    if (std::filesystem::file_size(e.path()) < 1000) continue;
    std::fstream seg(e.path(), std::ios::in | std::ios::out | std::ios::binary);
    seg.seekg(700);
    const char c = static_cast<char>(seg.get());
    seg.seekp(700);
    seg.put(static_cast<char>(c ^ 0x20));
  }
  r = run_tool(tmp.path(), "verify --quiet --data-dir " + data.string());
  INFO(r.output);
  CHECK(r.code == 1);
  CHECK_THAT(r.output, Catch::Contains("record-unreadable") && Catch::Contains("XX.TEST"));
}

TEST_CASE("a push client with the wrong server key fails clearly against seisvaultd", "[e2e][push_client]") {
  test::TempDir tmp;
  const auto keys = new_keys();
  prepare(tmp.path(), keys);
  ServerProcess server(tmp.path());
  PushOptions o = curve_options(server, keys);
  o.server_public_key = new_keys().public_key;
  auto client = PushClient::open(o);
  REQUIRE(client.ok());
  add_all(*client, test::make_records(5));
  const auto start = std::chrono::steady_clock::now();
  const Status s = client->flush(60s);
  CHECK(std::chrono::steady_clock::now() - start < 10s);
  CHECK(s.code() == StatusCode::kPermissionDenied);
  CHECK_THAT(s.message(), Catch::Contains("--server-key"));
  REQUIRE(server.stop() == 0);
}
