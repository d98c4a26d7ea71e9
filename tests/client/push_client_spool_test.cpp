// PushClient with a spool: nothing is lost across a client crash or a
// server outage. Network tests on 127.0.0.1 against AckPeer, bounded in time.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <chrono>
#include <fstream>

#include <zmq.hpp>

#include "ack_peer.h"
#include "seisvault/client/batch_builder.h"
#include "seisvault/client/push_client.h"
#include "seisvault/client/spool.h"
#include "support/temp_dir.h"
#include "test_records.h"

using namespace seisvault;
using namespace seisvault::client;
using namespace std::chrono_literals;
using seisvault::test::AckPeer;
using seisvault::test::AckPeerOptions;
using seisvault::test::bytes_of;

using seisvault::test::unused_endpoint;

namespace {

PushOptions spooled_options(const std::string& endpoint, const std::filesystem::path& spool) {
  PushOptions o;
  o.endpoint = endpoint;
  o.spool_dir = spool;
  o.max_batch_records = 10;
  o.ack_timeout = 500ms;
  o.reconnect_interval = 50ms;
  o.reconnect_interval_max = 200ms;
  o.on_connection = [](ConnectionState, std::string_view) {};
  return o;
}

size_t batch_files(const std::filesystem::path& dir) {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const auto name = e.path().filename().string();
    if (name.starts_with("batch-") && name.ends_with(".svb")) ++n;
  }
  return n;
}

}  // namespace

TEST_CASE("batches a run could not deliver stay in the spool and the next run sends them first",
          "[spool][push_client]") {
  test::TempDir dir;
  const auto spool = dir.path() / "spool";
  const std::string endpoint = unused_endpoint();
  const auto records = test::make_records(40);
  {
    // The server is down: 25 records make 2 full batches and a partial one,
    // which flush() seals; 5 more stay unsealed until the client goes.
    auto client = PushClient::open(spooled_options(endpoint, spool));
    REQUIRE(client.ok());
    for (size_t i = 0; i < 25; ++i) REQUIRE(client->add(bytes_of(records[i])).ok());
    CHECK(client->flush(300ms).code() == StatusCode::kDeadlineExceeded);
    for (size_t i = 25; i < 30; ++i) REQUIRE(client->add(bytes_of(records[i])).ok());
  }
  CHECK(batch_files(spool) == 4);

  AckPeerOptions po;
  po.endpoint = endpoint;
  AckPeer peer(po);
  auto client = PushClient::open(spooled_options(endpoint, spool));
  REQUIRE(client.ok());
  CHECK(client->unacknowledged_batches() == 4);
  for (size_t i = 30; i < 40; ++i) REQUIRE(client->add(bytes_of(records[i])).ok());
  REQUIRE(client->flush(10s).ok());

  const auto& stats = client->stats();
  CHECK(stats.batches_recovered == 4);
  CHECK(stats.records_recovered == 30);
  CHECK(stats.stored == 40);
  CHECK(batch_files(spool) == 0);
  const auto seen = peer.seen();
  CHECK(seen.records_stored == 40);
  REQUIRE(seen.batch_ids.size() == 5);
  CHECK(std::is_sorted(seen.batch_ids.begin(), seen.batch_ids.end()));  // the spooled ones first
  CHECK(seen.batch_records == std::vector<size_t>{10, 10, 5, 5, 10});
}

TEST_CASE("after a crash, whole spooled batches are resent and a half-written one is not", "[spool][push_client]") {
  test::TempDir dir;
  const auto records = test::make_records(20);
  {
    // What a client killed between writing and sending leaves behind.
    auto spool = Spool::open(dir.path());
    REQUIRE(spool.ok());
    BatchBuilder builder({});
    for (size_t i = 0; i < 20; ++i) builder.add(bytes_of(records[i]));
    const uint64_t id = *spool->allocate_batch_id();
    const std::string frame = builder.take(id, nullptr)->SerializeAsString();
    REQUIRE(spool->write(id, {reinterpret_cast<const uint8_t*>(frame.data()), frame.size()}).ok());
  }
  std::ofstream(dir.path() / ".batch-99.tmp") << "torn";

  AckPeer peer({});
  auto client = PushClient::open(spooled_options(peer.endpoint(), dir.path()));
  REQUIRE(client.ok());
  REQUIRE(client->flush(10s).ok());
  CHECK(client->stats().records_recovered == 20);
  CHECK(client->stats().stored == 20);
  CHECK(peer.seen().batch_ids.size() == 1);
  CHECK_FALSE(std::filesystem::exists(dir.path() / ".batch-99.tmp"));
  CHECK(batch_files(dir.path()) == 0);
}

TEST_CASE("every batch is in the spool before it is sent and until it is acknowledged", "[spool][push_client]") {
  test::TempDir dir;
  AckPeer peer({});
  PushOptions o = spooled_options(peer.endpoint(), dir.path());
  size_t checked = 0;
  o.on_result = [&](const RecordOutcome& r) {
    if (r.index == 0) {
      CHECK(std::filesystem::exists(dir.path() / fmt::format("batch-{:020}.svb", r.batch_id)));
      ++checked;
    }
  };
  auto client = PushClient::open(o);
  REQUIRE(client.ok());
  for (const auto& r : test::make_records(30)) REQUIRE(client->add(bytes_of(r)).ok());
  REQUIRE(client->flush(10s).ok());
  CHECK(checked == 3);
  CHECK(batch_files(dir.path()) == 0);
}

TEST_CASE("a damaged spool file is set aside, not sent, and the others are delivered", "[spool][push_client]") {
  test::TempDir dir;
  const auto records = test::make_records(20);
  {
    auto spool = Spool::open(dir.path());
    REQUIRE(spool.ok());
    for (uint64_t id : {1, 2}) {
      BatchBuilder builder({});
      for (size_t i = (id - 1) * 10; i < id * 10; ++i) builder.add(bytes_of(records[i]));
      const std::string frame = builder.take(id, nullptr)->SerializeAsString();
      REQUIRE(spool->write(id, {reinterpret_cast<const uint8_t*>(frame.data()), frame.size()}).ok());
    }
    std::filesystem::resize_file(spool->batch_path(1), Spool::kHeaderSize + 10);
  }
  AckPeer peer({});
  auto client = PushClient::open(spooled_options(peer.endpoint(), dir.path()));
  REQUIRE(client.ok());
  REQUIRE(client->flush(10s).ok());
  CHECK(client->stats().spool_files_quarantined == 1);
  CHECK(client->stats().stored == 10);
  CHECK(peer.seen().batch_ids == std::vector<uint64_t>{2});
  CHECK(std::filesystem::exists(dir.path() / fmt::format("batch-{:020}.svb.corrupt", 1)));
}

TEST_CASE("batch ids keep increasing across runs sharing a spool", "[spool][push_client]") {
  test::TempDir dir;
  AckPeer peer({});
  const auto records = test::make_records(20);
  for (int run = 0; run < 2; ++run) {
    auto client = PushClient::open(spooled_options(peer.endpoint(), dir.path()));
    REQUIRE(client.ok());
    for (size_t i = 0; i < 10; ++i) REQUIRE(client->add(bytes_of(records[run * 10 + i])).ok());
    REQUIRE(client->flush(10s).ok());
  }
  const auto ids = peer.seen().batch_ids;
  REQUIRE(ids.size() == 2);
  CHECK(ids[0] < ids[1]);
}
