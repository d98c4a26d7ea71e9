// The push client against an ingest server whose store fails: a real
// IngestServer (CURVE on 127.0.0.1) over a real RocksDB store in which
// write and fsync failures are injected (storage/fault_injection.h), and a
// real PushClient with a spool. Whatever fails, the client keeps and
// resends what was not stored, and in the end every record is stored
// exactly once.
#include <catch2/catch.hpp>

#include <thread>

#include "seisvault/client/push_client.h"
#include "seisvault/common/curve_keys.h"
#include "seisvault/common/station_access_list.h"
#include "seisvault/ingest/access_control.h"
#include "seisvault/ingest/ingest_server.h"
#include "seisvault/storage/fault_injection.h"
#include "seisvault/storage/record_store.h"
#include "support/process.h"
#include "support/server_data.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

using namespace seisvault;
using namespace seisvault::client;
using namespace std::chrono_literals;

namespace {

// A store, its faults, and an ingest server on it, in this process.
struct Server {
  std::filesystem::path dir;
  std::shared_ptr<storage::FaultInjection> faults = std::make_shared<storage::FaultInjection>();
  CurveKeyPair server_keys = generate_curve_key_pair().value();
  std::unique_ptr<ingest::AccessControl> access;
  std::unique_ptr<storage::RecordStore> store;
  std::unique_ptr<ingest::IngestServer> ingest;
  std::string endpoint;

  Server(std::filesystem::path d, const CurveKeyPair& station) : dir(std::move(d)) {
    StationAccessList list;
    list.upsert({station.public_key, {"XX.*"}, "test", "", /*allow_unsigned=*/true});
    REQUIRE(list.save(dir / "authorized_stations").ok());
    access = std::make_unique<ingest::AccessControl>(dir / "authorized_stations");
    REQUIRE(access->reload().ok());
    endpoint = "tcp://127.0.0.1:" + std::to_string(test::free_loopback_port());
  }

  void start() {
    storage::StoreOptions so = test::small_store_options();
    so.faults = faults;
    auto s = storage::RecordStore::open(dir / "store", so);
    REQUIRE(s.ok());
    store = std::move(s.value());
    ingest::IngestOptions io;
    io.endpoint = endpoint;
    io.server_keys = server_keys;
    auto i = ingest::IngestServer::start(io, *store, *access);
    REQUIRE(i.ok());
    ingest = std::move(i.value());
  }

  // What an operator does after a failed fsync: restart (the store reopens).
  void restart() {
    ingest.reset();
    store.reset();
    faults = std::make_shared<storage::FaultInjection>();
    start();
  }

  std::multiset<std::vector<uint8_t>> stored() {
    std::multiset<std::vector<uint8_t>> out;
    REQUIRE(store->read_records({}, {}, [&](const storage::StoredRecord& r) {
      out.emplace(r.bytes.begin(), r.bytes.end());
      return true;
    }).ok());
    return out;
  }
};

PushOptions push_options(const Server& s, const CurveKeyPair& station, const std::filesystem::path& spool) {
  PushOptions o;
  o.endpoint = s.endpoint;
  o.server_public_key = s.server_keys.public_key;
  o.client_keys = station;
  o.spool_dir = spool;
  o.max_batch_records = 200;
  o.max_batch_delay = 50ms;
  o.retry_interval = 100ms;
  o.retry_interval_max = 500ms;
  o.reconnect_interval = 50ms;
  o.reconnect_interval_max = 500ms;
  o.on_connection = [](ConnectionState, std::string_view) {};
  return o;
}

// Adds `records` to the client, polling between them so that acks are taken in.
void add_all(PushClient& client, const std::vector<std::vector<uint8_t>>& records, size_t from, size_t to) {
  for (size_t i = from; i < to; ++i) REQUIRE(client.add(records[i]).ok());
}

}  // namespace

TEST_CASE("a write failure in the store mid-push: the client keeps and resends the records, none is lost or doubled",
          "[e2e][store_failure]") {
  test::TempDir tmp;
  const auto station = test::new_station_keys();
  Server server(tmp.path(), station);
  server.start();
  const auto records = test::station_records("FAIL", 4'000'000, 11);
  auto client = PushClient::open(push_options(server, station, tmp.path() / "spool"));
  REQUIRE(client.ok());

  const size_t third = records.size() / 3;
  add_all(*client, records, 0, third);
  REQUIRE(client->flush(30s).ok());
  // The disk fails under the next 3 batches (fewer than the client's window
  // of 8: add() would wait for room): writes to the log are refused.
  server.faults->set_fail_wal_writes(true);
  add_all(*client, records, third, third + 600);
  CHECK(client->flush(1500ms).code() == StatusCode::kDeadlineExceeded);  // nothing can be stored now
  // (The store pauses at each failed write and resumes once RocksDB has
  // recovered, which it does at once here: only log appends fail. Each
  // batch that met a failed write was answered STORE_UNAVAILABLE.)
  CHECK(server.ingest->stats().batches_deferred.load() > 0);
  CHECK(server.faults->failures() > 0);
  CHECK(client->stats().records_kept > 0);
  CHECK(client->stats().rejected == 0);
  CHECK(client->unacknowledged_batches() > 0);
  // The fault clears: the store resumes by itself, the client resends.
  server.faults->set_fail_wal_writes(false);
  add_all(*client, records, third + 600, records.size());
  REQUIRE(client->flush(60s).ok());
  CHECK(server.store->health().state == storage::StoreState::kOk);
  CHECK(client->stats().rejected == 0);
  CHECK(server.stored() == std::multiset<std::vector<uint8_t>>(records.begin(), records.end()));
}

TEST_CASE("a failed fsync stops acknowledgements until the server restarts; the client keeps everything and delivers "
          "it to the restarted server exactly once",
          "[e2e][store_failure]") {
  test::TempDir tmp;
  const auto station = test::new_station_keys();
  Server server(tmp.path(), station);
  server.start();
  const auto records = test::station_records("SYNC", 3'000'000, 12);
  auto client = PushClient::open(push_options(server, station, tmp.path() / "spool"));
  REQUIRE(client.ok());

  const size_t half = records.size() / 2;
  add_all(*client, records, 0, half);
  REQUIRE(client->flush(30s).ok());
  server.faults->set_fail_wal_syncs(true);
  add_all(*client, records, half, half + 600);
  CHECK(client->flush(1500ms).code() == StatusCode::kDeadlineExceeded);
  CHECK(server.store->health().state == storage::StoreState::kFailed);
  // The fault going away does not bring the store back: it may have lost
  // unsynced pages, so it waits for a restart.
  server.faults->set_fail_wal_syncs(false);
  CHECK(client->flush(1000ms).code() == StatusCode::kDeadlineExceeded);
  CHECK(server.store->health().state == storage::StoreState::kFailed);

  server.restart();
  add_all(*client, records, half + 600, records.size());
  REQUIRE(client->flush(60s).ok());
  CHECK(client->stats().rejected == 0);
  CHECK(server.stored() == std::multiset<std::vector<uint8_t>>(records.begin(), records.end()));
}
