// PushClient keeps what the server did not store: records refused for a
// transient reason (INTERNAL, BATCH_TOO_LARGE, unknown reasons) and batches
// refused whole (STORE_UNAVAILABLE, BUSY, OVERSIZED_BATCH) are kept, in the
// spool when there is one, and resent (after a backoff, or cut to the
// server's limits) until the server stores them; only permanent rejections
// are dropped. Against AckPeer on 127.0.0.1; every wait is bounded, and no
// test asserts a duration.
#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "ack_peer.h"
#include "seisvault/client/push_client.h"
#include "seisvault/client/spool.h"
#include "seisvault/proto/ingest.pb.h"
#include "support/temp_dir.h"
#include "test_records.h"

using namespace seisvault;
using namespace seisvault::client;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using seisvault::test::AckPeer;
using seisvault::test::AckPeerOptions;
using seisvault::test::bytes_of;
using Records = std::vector<std::vector<uint8_t>>;

namespace {

constexpr int kStoreUnavailable = 4;  // seisvault.ingest.v1.BatchError
constexpr int kBusy = 6;

PushOptions options(const std::string& endpoint) {
  PushOptions o;
  o.endpoint = endpoint;
  o.max_batch_records = 10;
  o.max_in_flight = 1;  // one batch at a time: the peer's "first N batches" are ours in order
  o.ack_timeout = 5s;
  o.reconnect_interval = 50ms;
  o.reconnect_interval_max = 200ms;
  o.retry_interval = 20ms;
  o.retry_interval_max = 100ms;
  o.on_connection = [](ConnectionState, std::string_view) {};
  return o;
}

void add_all(PushClient& client, const Records& records) {
  for (const auto& r : records) REQUIRE(client.add(bytes_of(r)).ok());
}

// What on_result reported: how often each record (by its bytes) and with
// which status.
struct Reported {
  std::map<std::vector<uint8_t>, int> times;
  std::map<RecordStatus, int> by_status;
  void attach(PushOptions& o) {
    o.on_result = [this](const RecordOutcome& r) {
      ++times[std::vector<uint8_t>(r.record.begin(), r.record.end())];
      ++by_status[r.status];
    };
  }
  bool each_once(const Records& records) const {
    if (times.size() != records.size()) return false;
    for (const auto& r : records) {
      auto it = times.find(r);
      if (it == times.end() || it->second != 1) return false;
    }
    return true;
  }
};

struct StateLog {
  std::vector<std::pair<ConnectionState, std::string>> changes;
  void attach(PushOptions& o) {
    o.on_connection = [this](ConnectionState s, std::string_view d) { changes.emplace_back(s, std::string(d)); };
  }
  std::vector<std::string> waiting() const {
    std::vector<std::string> out;
    for (const auto& [s, d] : changes) {
      if (s == ConnectionState::kWaiting) out.push_back(d);
    }
    return out;
  }
};

std::vector<std::filesystem::path> batch_files(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const auto name = e.path().filename().string();
    if (name.starts_with("batch-") && name.ends_with(".svb")) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The batch in a spool file (format in spool.h), read without the spool's lock.
ingest::v1::IngestBatch read_spooled(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string data = ss.str();
  REQUIRE(data.size() > Spool::kHeaderSize);
  ingest::v1::IngestBatch batch;
  REQUIRE(batch.ParseFromString(data.substr(Spool::kHeaderSize)));
  return batch;
}

template <class Pred>
void poll_until(PushClient& client, Pred pred) {
  const auto deadline = Clock::now() + 10s;
  while (!pred() && Clock::now() < deadline) REQUIRE(client.poll(20ms).ok());
  REQUIRE(pred());
}

}  // namespace

TEST_CASE("records refused INTERNAL are kept, resent and stored once each; the others are done at once",
          "[push_client][retry]") {
  AckPeerOptions po;
  po.transient_first = 1;  // the first batch: records 0, 3, 6, 9 refused INTERNAL
  po.transient_every = 3;
  AckPeer peer(po);
  const auto records = test::make_records(25);
  PushOptions o = options(peer.endpoint());
  Reported reported;
  reported.attach(o);
  auto client = PushClient::open(o);
  REQUIRE(client.ok());
  add_all(*client, records);
  REQUIRE(client->flush(10s).ok());

  const auto& stats = client->stats();
  CHECK(stats.stored == 25);
  CHECK(stats.duplicate == 0);
  CHECK(stats.rejected == 0);
  CHECK(stats.records_kept == 4);
  CHECK(stats.retries == 1);
  REQUIRE(stats.kept_by_cause.count("INTERNAL") == 1);
  CHECK(stats.kept_by_cause.at("INTERNAL").count == 4);
  CHECK_THAT(stats.kept_by_cause.at("INTERNAL").first_message, Catch::Contains("resend it"));
  CHECK(reported.each_once(records));  // the kept ones reported once, when finally stored
  CHECK(client->unacknowledged_records() == 0);

  const auto seen = peer.seen();
  CHECK(seen.records_stored == 25);
  CHECK(seen.store_attempts == 25);  // never sent again once stored: no DUPLICATE
  CHECK(seen.records_refused_transient == 4);
  // The kept four went again in a batch of their own, with a new id (and,
  // one batch being in flight at a time, before the next records).
  REQUIRE(seen.batch_ids.size() == 4);
  CHECK(seen.batch_records == std::vector<size_t>{10, 4, 10, 5});
  CHECK(std::set<uint64_t>(seen.batch_ids.begin(), seen.batch_ids.end()).size() == 4);
}

TEST_CASE("with a spool, records refused INTERNAL are in the spool once the ack is handled and survive the client",
          "[push_client][retry][spool]") {
  test::TempDir dir;
  AckPeerOptions po;
  po.transient_first = 1;  // records 0, 2, 4, 6, 8 of the first batch
  po.transient_every = 2;
  AckPeer peer(po);
  const auto records = test::make_records(10);
  uint64_t first_id = 0;
  {
    PushOptions o = options(peer.endpoint());
    o.spool_dir = dir.path();
    o.retry_interval = 1h;  // not resent by this client: the next one finds them in the spool
    o.retry_interval_max = 1h;
    auto client = PushClient::open(o);
    REQUIRE(client.ok());
    add_all(*client, records);
    // Seals and sends the batch; the records kept are not resent for an hour.
    CHECK(client->flush(0ms).code() == StatusCode::kDeadlineExceeded);
    poll_until(*client, [&] { return client->stats().retries == 1; });
    CHECK(client->stats().stored == 5);
    CHECK(client->stats().rejected == 0);
    CHECK(client->unacknowledged_records() == 5);
    first_id = peer.seen().batch_ids.at(0);

    // The old batch's file is gone and a new one holds exactly the kept records.
    const auto files = batch_files(dir.path());
    REQUIRE(files.size() == 1);
    CHECK(files[0].filename() != fmt::format("batch-{:020}.svb", first_id));
    const auto batch = read_spooled(files[0]);
    CHECK(batch.batch_id() > first_id);
    REQUIRE(batch.records_size() == 5);
    for (int i = 0; i < 5; ++i) {
      const auto& r = batch.records(i).mseed();
      CHECK(std::vector<uint8_t>(r.begin(), r.end()) == records[static_cast<size_t>(2 * i)]);
    }
  }
  // A new client on the spool delivers them.
  PushOptions o = options(peer.endpoint());
  o.spool_dir = dir.path();
  auto client = PushClient::open(o);
  REQUIRE(client.ok());
  REQUIRE(client->flush(10s).ok());
  CHECK(client->stats().records_recovered == 5);
  CHECK(client->stats().stored == 5);
  CHECK(batch_files(dir.path()).empty());
  CHECK(peer.seen().records_stored == 10);
  CHECK(peer.seen().store_attempts == 10);
}

TEST_CASE("a permanent rejection is still dropped and reported once, beside records kept for resend",
          "[push_client][retry]") {
  AckPeerOptions po;
  po.transient_first = 1;  // even positions of the first batch refused INTERNAL
  po.transient_every = 2;
  AckPeer peer(po);
  auto records = test::make_records(7);
  records.insert(records.begin() + 1, std::vector<uint8_t>(300, 'x'));  // position 1: NOT_MINISEED
  PushOptions o = options(peer.endpoint());
  Reported reported;
  reported.attach(o);
  auto client = PushClient::open(o);
  REQUIRE(client.ok());
  add_all(*client, records);
  REQUIRE(client->flush(10s).ok());

  const auto& stats = client->stats();
  CHECK(stats.stored == 7);
  CHECK(stats.rejected == 1);
  REQUIRE(stats.rejected_by_reason.size() == 1);
  CHECK(stats.rejected_by_reason.begin()->second.name == "NOT_MINISEED");
  CHECK(stats.records_kept == 4);
  CHECK(reported.each_once(records));
  CHECK(reported.by_status[RecordStatus::kRejected] == 1);
  // The rejected piece was not sent again: the resend holds the four kept records only.
  CHECK(peer.seen().batch_records == std::vector<size_t>{8, 4});
}

TEST_CASE("a record refused for a reason this client does not know is kept, not dropped", "[push_client][retry]") {
  AckPeerOptions po;
  po.transient_first = 1;
  po.transient_every = 5;
  po.transient_reason = 99;  // a reason from a newer server
  AckPeer peer(po);
  const auto records = test::make_records(10);
  auto client = PushClient::open(options(peer.endpoint()));
  REQUIRE(client.ok());
  add_all(*client, records);
  REQUIRE(client->flush(10s).ok());
  CHECK(client->stats().stored == 10);
  CHECK(client->stats().rejected == 0);
  CHECK(client->stats().kept_by_cause.at("REJECT_CODE_99").count == 2);
  CHECK(peer.seen().records_stored == 10);
}

TEST_CASE("a batch refused STORE_UNAVAILABLE is kept whole and resent no sooner than retry_after_ms",
          "[push_client][retry]") {
  AckPeerOptions po;
  po.batch_error_first = 2;  // the first batch is refused twice, then stored
  po.batch_error = kStoreUnavailable;
  po.retry_after_ms = 300;
  AckPeer peer(po);
  const auto records = test::make_records(20);
  PushOptions o = options(peer.endpoint());
  StateLog states;
  states.attach(o);
  Reported reported;
  reported.attach(o);
  auto client = PushClient::open(o);
  REQUIRE(client.ok());
  add_all(*client, records);
  REQUIRE(client->flush(10s).ok());

  const auto& stats = client->stats();
  CHECK(stats.stored == 20);
  CHECK(stats.rejected == 0);
  CHECK(stats.retries == 2);
  CHECK(stats.records_kept == 20);
  CHECK(stats.kept_by_cause.at("STORE_UNAVAILABLE").count == 20);
  CHECK(stats.batches_resent == 2);
  CHECK(reported.each_once(records));

  const auto seen = peer.seen();
  REQUIRE(seen.batch_ids.size() == 4);
  // The same batch three times (kept whole: same id), then the next one.
  CHECK(seen.batch_ids[0] == seen.batch_ids[1]);
  CHECK(seen.batch_ids[1] == seen.batch_ids[2]);
  CHECK(seen.batch_ids[3] > seen.batch_ids[2]);
  CHECK(seen.records_stored == 20);

  // Waiting, with the server's reason and the delay: the backoff's first
  // steps (20 ms) are shorter than the server's 300 ms, which wins.
  const auto waiting = states.waiting();
  REQUIRE_FALSE(waiting.empty());
  CHECK(waiting.front() ==
        "the server cannot store now: the disk is full (test); keeping 10 records, resending in 0.3 s");
  CHECK(states.changes.back().first == ConnectionState::kConnected);
  CHECK(client->connection_state() == ConnectionState::kConnected);
}

TEST_CASE("a batch refused BUSY is kept whole and resent", "[push_client][retry]") {
  AckPeerOptions po;
  po.batch_error_first = 1;
  po.batch_error = kBusy;
  po.retry_after_ms = 50;
  AckPeer peer(po);
  const auto records = test::make_records(10);
  PushOptions o = options(peer.endpoint());
  StateLog states;
  states.attach(o);
  auto client = PushClient::open(o);
  REQUIRE(client.ok());
  add_all(*client, records);
  REQUIRE(client->flush(10s).ok());
  CHECK(client->stats().stored == 10);
  CHECK(client->stats().rejected == 0);
  CHECK(client->stats().kept_by_cause.at("BUSY").count == 10);
  const auto seen = peer.seen();
  REQUIRE(seen.batch_ids.size() == 2);
  CHECK(seen.batch_ids[0] == seen.batch_ids[1]);
  CHECK(seen.records_stored == 10);
  REQUIRE_FALSE(states.waiting().empty());
  CHECK_THAT(states.waiting().front(), Catch::StartsWith("the server is busy") && Catch::Contains("keeping 10 records"));
}

TEST_CASE("a batch refused with a batch error this client does not know is kept and resent, not dropped",
          "[push_client][retry]") {
  AckPeerOptions po;
  po.batch_error_first = 1;
  po.batch_error = 42;  // from a newer server
  AckPeer peer(po);
  const auto records = test::make_records(10);
  auto client = PushClient::open(options(peer.endpoint()));
  REQUIRE(client.ok());
  add_all(*client, records);
  REQUIRE(client->flush(10s).ok());
  CHECK(client->stats().stored == 10);
  CHECK(client->stats().kept_by_cause.at("BATCH_ERROR_42").count == 10);
  CHECK(peer.seen().records_stored == 10);
}

TEST_CASE("a server that keeps answering STORE_UNAVAILABLE is given up after stall_timeout with nothing dropped",
          "[push_client][retry]") {
  AckPeerOptions po;
  po.batch_error_first = -1;  // every batch, for ever
  po.batch_error = kStoreUnavailable;
  AckPeer peer(po);
  PushOptions o = options(peer.endpoint());
  o.stall_timeout = 700ms;
  auto client = PushClient::open(o);
  REQUIRE(client.ok());
  add_all(*client, test::make_records(5));
  const Status s = client->flush(30s);
  CHECK(s.code() == StatusCode::kDeadlineExceeded);  // answers that store nothing are not progress
  CHECK_THAT(s.message(), Catch::Contains("stored nothing") && Catch::Contains("the server cannot store now") &&
                              Catch::Contains("5 records"));
  CHECK(client->stats().rejected == 0);
  CHECK(client->stats().stored == 0);
  CHECK(client->stats().retries >= 2);  // resent meanwhile
  CHECK(client->unacknowledged_records() == 5);
  CHECK(client->connection_state() == ConnectionState::kWaiting);
}

TEST_CASE("records refused BATCH_TOO_LARGE (older servers) are cut to the ack's limits and all delivered",
          "[push_client][retry]") {
  AckPeerOptions po;
  po.limit_records = 4;
  po.enforce = AckPeerOptions::Enforce::kPerRecord;
  AckPeer peer(po);
  const auto records = test::make_records(30);
  PushOptions o = options(peer.endpoint());
  o.max_in_flight = 2;
  Reported reported;
  reported.attach(o);
  auto client = PushClient::open(o);
  REQUIRE(client.ok());
  add_all(*client, records);
  REQUIRE(client->flush(10s).ok());

  const auto& stats = client->stats();
  CHECK(stats.stored == 30);
  CHECK(stats.rejected == 0);
  CHECK(stats.batches_split >= 1);
  CHECK(reported.each_once(records));
  const auto seen = peer.seen();
  CHECK(seen.records_stored == 30);
  CHECK(seen.store_attempts == 30);
  size_t refused = 0;
  for (size_t n : seen.batch_records) {
    if (n > 4) refused += n;
  }
  CHECK(refused > 0);
  CHECK(seen.records_refused_transient == refused);  // every batch over the limit was refused, none other
  CHECK(stats.records_kept == refused);
}

TEST_CASE("a batch refused OVERSIZED_BATCH is cut to the ack's limits through the spool and all delivered",
          "[push_client][retry][spool]") {
  test::TempDir dir;
  AckPeerOptions po;
  po.limit_records = 3;
  po.enforce = AckPeerOptions::Enforce::kBatchError;
  AckPeer peer(po);
  const auto records = test::make_records(20);
  PushOptions o = options(peer.endpoint());
  o.spool_dir = dir.path();
  Reported reported;
  reported.attach(o);
  auto client = PushClient::open(o);
  REQUIRE(client.ok());
  add_all(*client, records);
  REQUIRE(client->flush(10s).ok());
  CHECK(client->stats().stored == 20);
  CHECK(client->stats().rejected == 0);
  CHECK(client->stats().batches_split >= 1);
  CHECK(client->stats().kept_by_cause.at("OVERSIZED_BATCH").count >= 10);
  CHECK(reported.each_once(records));
  CHECK(batch_files(dir.path()).empty());
  const auto seen = peer.seen();
  CHECK(seen.records_stored == 20);
  CHECK(seen.batch_records.front() == 10);  // before the first ack told the limits
  CHECK(seen.batch_records[1] == 3);       // its first part
}

TEST_CASE("OVERSIZED_BATCH without a batch id cuts the batches over the limits", "[push_client][retry]") {
  AckPeerOptions po;
  po.limit_records = 4;
  po.enforce = AckPeerOptions::Enforce::kBatchError;
  po.oversized_without_id = true;
  AckPeer peer(po);
  const auto records = test::make_records(10);
  auto client = PushClient::open(options(peer.endpoint()));
  REQUIRE(client.ok());
  add_all(*client, records);
  REQUIRE(client->flush(10s).ok());
  CHECK(client->stats().stored == 10);
  CHECK(peer.seen().batch_records == std::vector<size_t>{10, 4, 4, 2});
}

TEST_CASE("a batch called too large although within the limits the server gave is halved until it is taken",
          "[push_client][retry]") {
  AckPeerOptions po;
  po.enforce_records = 3;  // enforced, while the acks say 10000
  po.enforce = AckPeerOptions::Enforce::kPerRecord;
  AckPeer peer(po);
  const auto records = test::make_records(10);
  auto client = PushClient::open(options(peer.endpoint()));
  REQUIRE(client.ok());
  add_all(*client, records);
  REQUIRE(client->flush(10s).ok());
  CHECK(client->stats().stored == 10);
  CHECK(client->stats().rejected == 0);
  const auto seen = peer.seen();
  CHECK(seen.records_stored == 10);
  // 10 -> 5 + 5 -> each 3 + 2
  CHECK(seen.batch_records == std::vector<size_t>{10, 5, 5, 3, 2, 3, 2});
}
