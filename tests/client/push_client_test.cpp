// PushClient against AckPeer: a real ZeroMQ ROUTER on 127.0.0.1 in this
// process (see ack_peer.h). Every wait is bounded.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <optional>

#include <zmq.hpp>

#include "ack_peer.h"
#include "seisvault/client/push_client.h"
#include "test_records.h"

using namespace seisvault;
using namespace seisvault::client;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using seisvault::test::AckPeer;
using seisvault::test::AckPeerOptions;
using seisvault::test::bytes_of;

using seisvault::test::unused_endpoint;

namespace {

PushOptions plain_options(const std::string& endpoint) {
  PushOptions o;
  o.endpoint = endpoint;
  o.max_batch_records = 10;
  o.ack_timeout = 500ms;
  o.reconnect_interval = 50ms;
  o.reconnect_interval_max = 200ms;
  o.on_connection = [](ConnectionState, std::string_view) {};  // keep test output quiet
  return o;
}


void add_all(PushClient& client, const std::vector<std::vector<uint8_t>>& records) {
  for (const auto& r : records) REQUIRE(client.add(bytes_of(r)).ok());
}

bool strictly_increasing(const std::vector<uint64_t>& ids) {
  return std::adjacent_find(ids.begin(), ids.end(), std::greater_equal<>()) == ids.end();
}

}  // namespace

TEST_CASE("every record is acknowledged once, reported through on_result, in batches of max_batch_records",
          "[push_client]") {
  AckPeer peer({});
  const auto records = test::make_records(25);
  PushOptions o = plain_options(peer.endpoint());
  std::vector<RecordStatus> outcomes;
  o.on_result = [&](const RecordOutcome& r) {
    outcomes.push_back(r.status);
    CHECK(r.record.size() == 512);
  };
  auto client = PushClient::open(o);
  REQUIRE(client.ok());
  add_all(*client, records);
  REQUIRE(client->flush(10s).ok());

  const auto& stats = client->stats();
  CHECK(stats.records_added == 25);
  CHECK(stats.stored == 25);
  CHECK(stats.rejected == 0);
  CHECK(stats.batches_acked == 3);
  CHECK(outcomes == std::vector<RecordStatus>(25, RecordStatus::kStored));
  CHECK(client->unacknowledged_records() == 0);
  CHECK(client->connection_state() == ConnectionState::kConnected);
  const auto seen = peer.seen();
  CHECK(seen.batch_records == std::vector<size_t>{10, 10, 5});
  CHECK(strictly_increasing(seen.batch_ids));
  CHECK(seen.batch_ids.front() != 0);
}

TEST_CASE("batches are cut so that their serialized size stays within max_batch_bytes", "[push_client]") {
  AckPeer peer({});
  const auto records = test::make_records(40);
  PushOptions o = plain_options(peer.endpoint());
  o.max_batch_records = 1000;
  o.max_batch_bytes = 8192;  // 14 records of 512 bytes (552 serialized)
  auto client = PushClient::open(o);
  REQUIRE(client.ok());
  add_all(*client, records);
  REQUIRE(client->flush(10s).ok());
  CHECK(client->stats().stored == 40);
  const auto seen = peer.seen();
  CHECK(seen.batch_records == std::vector<size_t>{14, 14, 12});
  for (size_t bytes : seen.batch_bytes) CHECK(bytes <= 8192);
}

TEST_CASE("a rejected record is counted by reason with the server's first message", "[push_client]") {
  AckPeer peer({});
  auto records = test::make_records(3);
  records.insert(records.begin() + 1, std::vector<uint8_t>(300, 'x'));
  records.push_back(std::vector<uint8_t>(10, 'y'));
  PushOptions o = plain_options(peer.endpoint());
  std::vector<std::string> messages;
  o.on_result = [&](const RecordOutcome& r) {
    if (r.status == RecordStatus::kRejected) messages.emplace_back(r.message);
  };
  auto client = PushClient::open(o);
  REQUIRE(client.ok());
  add_all(*client, records);
  REQUIRE(client->flush(10s).ok());
  const auto& stats = client->stats();
  CHECK(stats.stored == 3);
  CHECK(stats.rejected == 2);
  REQUIRE(stats.rejected_by_reason.size() == 1);
  const auto& tally = stats.rejected_by_reason.begin()->second;
  CHECK(tally.name == "NOT_MINISEED");
  CHECK(tally.count == 2);
  CHECK(tally.first_message == "not a miniSEED 2 record");
  CHECK(messages.size() == 2);
}

TEST_CASE("a batch whose ack does not come is resent after ack_timeout and answered DUPLICATE", "[push_client]") {
  AckPeerOptions po;
  po.drop_first = 1;  // stores the first batch but loses its ack
  AckPeer peer(po);
  const auto records = test::make_records(30);
  PushOptions o = plain_options(peer.endpoint());
  o.ack_timeout = 300ms;
  auto client = PushClient::open(o);
  REQUIRE(client.ok());
  const auto start = Clock::now();
  add_all(*client, records);
  REQUIRE(client->flush(10s).ok());
  CHECK(Clock::now() - start < 5s);

  const auto& stats = client->stats();
  CHECK(stats.stored == 20);
  CHECK(stats.duplicate == 10);
  CHECK(stats.batches_acked == 3);
  CHECK(stats.batches_resent >= 1);
  const auto seen = peer.seen();
  CHECK(seen.records_stored == 30);
  CHECK(std::count(seen.batch_ids.begin(), seen.batch_ids.end(), seen.batch_ids.front()) >= 2);
}

TEST_CASE("acks that arrive out of order and twice count once each", "[push_client]") {
  AckPeerOptions po;
  po.reorder = 4;  // acks of four batches at a time, newest first
  po.ack_twice = true;
  AckPeer peer(po);
  const auto records = test::make_records(40);
  PushOptions o = plain_options(peer.endpoint());
  o.ack_timeout = 10s;  // no resends: every ack seen here comes from the peer's reordering
  size_t outcomes = 0;
  o.on_result = [&](const RecordOutcome&) { ++outcomes; };
  auto client = PushClient::open(o);
  REQUIRE(client.ok());
  add_all(*client, records);
  REQUIRE(client->flush(10s).ok());
  const auto& stats = client->stats();
  CHECK(stats.stored == 40);
  CHECK(stats.duplicate == 0);
  CHECK(outcomes == 40);
  CHECK(stats.batches_acked == 4);
  CHECK(stats.batches_resent == 0);
  const auto deadline = Clock::now() + 5s;  // the last second copies may still be on their way
  while (client->stats().late_acks < 4 && Clock::now() < deadline) REQUIRE(client->poll(20ms).ok());
  CHECK(client->stats().late_acks == 4);
  CHECK(client->stats().stored == 40);
}

TEST_CASE("a batch answered SERVER_STOPPING is resent later", "[push_client]") {
  AckPeerOptions po;
  po.stopping_first = 1;
  AckPeer peer(po);
  const auto records = test::make_records(10);
  auto client = PushClient::open(plain_options(peer.endpoint()));
  REQUIRE(client.ok());
  add_all(*client, records);
  REQUIRE(client->flush(10s).ok());
  CHECK(client->stats().stored == 10);
  CHECK(client->stats().batches_resent == 1);
  CHECK(peer.seen().batch_ids.size() == 2);
}

TEST_CASE("add() waits while max_in_flight batches are unacknowledged, so memory stays bounded", "[push_client]") {
  AckPeerOptions po;
  po.hold_all = true;
  AckPeer peer(po);
  const auto records = test::make_records(60);
  PushOptions o = plain_options(peer.endpoint());
  o.max_in_flight = 2;
  o.ack_timeout = 30s;
  auto give_up = Clock::now() + 700ms;
  o.keep_waiting = [&] { return Clock::now() < give_up; };
  auto client = PushClient::open(o);
  REQUIRE(client.ok());

  size_t accepted = 0;
  Status s;
  for (const auto& r : records) {
    s = client->add(bytes_of(r));
    if (!s.ok()) break;
    ++accepted;
  }
  CHECK(s.code() == StatusCode::kCancelled);
  CHECK(accepted == 30);  // two batches in flight and one full batch waiting
  CHECK(client->unacknowledged_records() == 30);
  CHECK(peer.seen().batch_ids.size() == 2);

  peer.release();
  give_up = Clock::now() + 10s;
  for (size_t i = accepted; i < records.size(); ++i) REQUIRE(client->add(bytes_of(records[i])).ok());
  REQUIRE(client->flush(10s).ok());
  CHECK(client->stats().stored == 60);
}

TEST_CASE("the server's limits on an ack lower the batch size", "[push_client]") {
  AckPeerOptions po;
  po.limit_records = 4;
  AckPeer peer(po);
  const auto records = test::make_records(40);
  PushOptions o = plain_options(peer.endpoint());
  o.max_in_flight = 1;
  auto client = PushClient::open(o);
  REQUIRE(client.ok());
  add_all(*client, records);
  REQUIRE(client->flush(10s).ok());
  CHECK(client->stats().stored == 40);
  const auto seen = peer.seen();
  REQUIRE(seen.batch_records.size() > 3);
  CHECK(seen.batch_records.front() == 10);  // before the first ack
  CHECK(*std::max_element(seen.batch_records.begin() + 2, seen.batch_records.end()) <= 4);
}

TEST_CASE("a partial batch is sent by poll() once it has waited max_batch_delay", "[push_client]") {
  AckPeer peer({});
  const auto records = test::make_records(3);
  PushOptions o = plain_options(peer.endpoint());
  o.max_batch_delay = 200ms;
  auto client = PushClient::open(o);
  REQUIRE(client.ok());
  add_all(*client, records);
  const auto deadline = Clock::now() + 5s;
  while (client->stats().stored < 3 && Clock::now() < deadline) REQUIRE(client->poll(50ms).ok());
  CHECK(client->stats().stored == 3);
  CHECK(peer.seen().batch_records == std::vector<size_t>{3});
}

TEST_CASE("the connection is reported up when the handshake succeeds, before any ack", "[push_client]") {
  AckPeerOptions po;
  po.hold_all = true;
  AckPeer peer(po);
  PushOptions o = plain_options(peer.endpoint());
  std::vector<ConnectionState> states;
  o.on_connection = [&](ConnectionState s, std::string_view) { states.push_back(s); };
  auto client = PushClient::open(o);
  REQUIRE(client.ok());
  CHECK(client->connection_state() == ConnectionState::kConnecting);
  const auto deadline = Clock::now() + 5s;
  while (client->connection_state() != ConnectionState::kConnected && Clock::now() < deadline) {
    REQUIRE(client->poll(20ms).ok());
  }
  CHECK(client->connection_state() == ConnectionState::kConnected);
  CHECK(states == std::vector<ConnectionState>{ConnectionState::kConnected});
  CHECK(client->stats().batches_acked == 0);
}

TEST_CASE("an authorized station key delivers over CURVE", "[push_client][curve]") {
  const auto server = *generate_curve_key_pair();
  const auto station = *generate_curve_key_pair();
  AckPeerOptions po;
  po.curve = true;
  po.server_keys = server;
  po.authorized = {station.public_key};
  AckPeer peer(po);
  PushOptions o = plain_options(peer.endpoint());
  o.server_public_key = server.public_key;
  o.client_keys = station;
  auto client = PushClient::open(o);
  REQUIRE(client.ok());
  add_all(*client, test::make_records(20));
  REQUIRE(client->flush(10s).ok());
  CHECK(client->stats().stored == 20);
  CHECK(client->connection_state() == ConnectionState::kConnected);
  CHECK(peer.seen().zap_refusals == 0);
}

TEST_CASE("a station key the server refuses fails clearly after three attempts instead of hanging",
          "[push_client][curve]") {
  const auto server = *generate_curve_key_pair();
  const auto station = *generate_curve_key_pair();
  AckPeerOptions po;
  po.curve = true;
  po.server_keys = server;  // nobody authorized
  AckPeer peer(po);
  PushOptions o = plain_options(peer.endpoint());
  o.server_public_key = server.public_key;
  o.client_keys = station;
  std::vector<ConnectionState> states;
  o.on_connection = [&](ConnectionState s, std::string_view) { states.push_back(s); };
  auto client = PushClient::open(o);
  REQUIRE(client.ok());
  add_all(*client, test::make_records(5));
  const auto start = Clock::now();
  const Status s = client->flush(30s);
  CHECK(Clock::now() - start < 5s);
  CHECK(s.code() == StatusCode::kPermissionDenied);
  CHECK_THAT(s.message(), Catch::Contains("the server refused this station key") &&
                              Catch::Contains("authorized_stations") && Catch::Contains("seisvault authorize") &&
                              Catch::Contains(station.public_key));
  CHECK(client->connection_state() == ConnectionState::kRefused);
  CHECK(states.back() == ConnectionState::kRefused);
  CHECK(peer.seen().zap_refusals == 3);
  // The failure sticks: nothing more is accepted.
  CHECK(client->add(bytes_of(test::make_records(1)[0])).code() == StatusCode::kPermissionDenied);
}

TEST_CASE("a wrong server key fails clearly instead of hanging", "[push_client][curve]") {
  const auto server = *generate_curve_key_pair();
  const auto impostor = *generate_curve_key_pair();
  const auto station = *generate_curve_key_pair();
  AckPeerOptions po;
  po.curve = true;
  po.server_keys = server;
  po.authorized = {station.public_key};
  AckPeer peer(po);
  PushOptions o = plain_options(peer.endpoint());
  o.server_public_key = impostor.public_key;
  o.client_keys = station;
  auto client = PushClient::open(o);
  REQUIRE(client.ok());
  add_all(*client, test::make_records(5));
  const auto start = Clock::now();
  const Status s = client->flush(30s);
  CHECK(Clock::now() - start < 5s);
  CHECK(s.code() == StatusCode::kPermissionDenied);
  CHECK_THAT(s.message(), Catch::Contains("server key"));
}

TEST_CASE("a CURVE client meeting a plain server is told the server runs --insecure", "[push_client][curve]") {
  AckPeer peer({});
  const auto station = *generate_curve_key_pair();
  PushOptions o = plain_options(peer.endpoint());
  o.server_public_key = generate_curve_key_pair()->public_key;
  o.client_keys = station;
  auto client = PushClient::open(o);
  REQUIRE(client.ok());
  add_all(*client, test::make_records(2));
  const Status s = client->flush(30s);
  CHECK(s.code() == StatusCode::kPermissionDenied);
  CHECK_THAT(s.message(), Catch::Contains("--insecure"));
}

TEST_CASE("an unreachable server is waited for, reported, and bounded by flush's timeout", "[push_client]") {
  PushOptions o = plain_options(unused_endpoint());
  std::vector<std::string> details;
  o.on_connection = [&](ConnectionState s, std::string_view d) {
    if (s == ConnectionState::kWaiting) details.emplace_back(d);
  };
  auto client = PushClient::open(o);
  REQUIRE(client.ok());
  add_all(*client, test::make_records(5));
  const auto start = Clock::now();
  const Status s = client->flush(1500ms);
  const auto took = Clock::now() - start;
  CHECK(took >= 1400ms);
  CHECK(took < 4s);
  CHECK(s.code() == StatusCode::kDeadlineExceeded);
  CHECK_THAT(s.message(), Catch::Contains("waiting for server") && Catch::Contains("5 records"));
  CHECK(client->connection_state() == ConnectionState::kWaiting);
  REQUIRE_FALSE(details.empty());
  CHECK_THAT(details.front(), Catch::Contains("waiting for server"));
  CHECK(client->unacknowledged_records() == 5);
}

TEST_CASE("stall_timeout makes a blocked add() give up when nothing is acknowledged", "[push_client]") {
  PushOptions o = plain_options(unused_endpoint());
  o.max_in_flight = 1;
  o.stall_timeout = 600ms;
  auto client = PushClient::open(o);
  REQUIRE(client.ok());
  const auto records = test::make_records(30);
  const auto start = Clock::now();
  Status s;
  for (const auto& r : records) {
    s = client->add(bytes_of(r));
    if (!s.ok()) break;
  }
  CHECK(s.code() == StatusCode::kDeadlineExceeded);
  CHECK_THAT(s.message(), Catch::Contains("no acknowledgement"));
  CHECK(Clock::now() - start < 4s);
}

TEST_CASE("a server that comes up later gets everything that waited", "[push_client]") {
  const std::string endpoint = unused_endpoint();
  auto client = PushClient::open(plain_options(endpoint));
  REQUIRE(client.ok());
  add_all(*client, test::make_records(15));
  REQUIRE(client->poll(300ms).ok());
  CHECK(client->stats().stored == 0);
  AckPeerOptions po;
  po.endpoint = endpoint;
  AckPeer peer(po);
  REQUIRE(client->flush(10s).ok());
  CHECK(client->stats().stored == 15);
}

TEST_CASE("batches unacknowledged when the connection drops are resent on the next connection", "[push_client]") {
  const auto records = test::make_records(20);
  std::string endpoint;
  std::optional<PushClient> client;
  {
    AckPeerOptions po;
    po.hold_all = true;  // receives, stores, never answers: then goes away
    AckPeer first(po);
    endpoint = first.endpoint();
    PushOptions o = plain_options(endpoint);
    o.ack_timeout = 30s;  // so that only the reconnection can explain a resend
    auto opened = PushClient::open(o);
    REQUIRE(opened.ok());
    client.emplace(std::move(*opened));
    add_all(*client, records);
    CHECK(client->flush(500ms).code() == StatusCode::kDeadlineExceeded);
    CHECK(first.seen().batch_ids.size() == 2);
  }
  AckPeerOptions po;
  po.endpoint = endpoint;
  AckPeer second(po);
  REQUIRE(client->flush(10s).ok());
  CHECK(client->stats().stored == 20);
  CHECK(client->stats().batches_resent == 2);
  CHECK(second.seen().records_stored == 20);
}

TEST_CASE("bad options are refused before anything is sent", "[push_client]") {
  PushOptions o = plain_options("tcp://127.0.0.1:1");
  o.max_batch_records = 0;
  CHECK(PushClient::open(o).status().code() == StatusCode::kInvalidArgument);
  o = plain_options("");
  CHECK(PushClient::open(o).status().code() == StatusCode::kInvalidArgument);
  o = plain_options("not an endpoint");
  CHECK(PushClient::open(o).status().code() == StatusCode::kInvalidArgument);
  o = plain_options("tcp://127.0.0.1:1");
  o.server_public_key = generate_curve_key_pair()->public_key;
  auto a = *generate_curve_key_pair(), b = *generate_curve_key_pair();
  o.client_keys = {a.public_key, b.secret_key};
  auto mismatched = PushClient::open(o);
  REQUIRE_FALSE(mismatched.ok());
  CHECK_THAT(mismatched.status().message(), Catch::Contains("does not belong"));
}
