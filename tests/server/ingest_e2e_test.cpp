// seisvaultd end to end: a real server process, real CURVE sockets on
// loopback, raw protocol peers sending exactly what each test needs.
#include <catch2/catch.hpp>

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <numeric>
#include <random>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "seisvault/common/sha256.h"
#include "seisvault/proto/waveform.grpc.pb.h"
#include "seisvault/common/station_access_list.h"
#include "seisvault/storage/record_store.h"
#include "support/corpus.h"
#include "support/record_factory.h"
#include "support/process.h"
#include "support/server_data.h"
#include "support/server_process.h"
#include "support/temp_dir.h"
#include "support/test_station.h"

using namespace seisvault;
using namespace seisvault::test;
namespace v1 = seisvault::ingest::v1;

namespace {

size_t count_status(const v1::IngestAck& ack, v1::RecordStatus s) {
  size_t n = 0;
  for (const auto& r : ack.results()) n += r.status() == s;
  return n;
}

}  // namespace

TEST_CASE("records from an authorized key are stored, acknowledged, and a resend comes back as duplicate",
          "[server][ingest]") {
  TempDir tmp;
  const auto keys = new_station_keys();
  ServerProcess probe(tmp.path());  // creates the data directory and server key
  REQUIRE(probe.stop() == 0);
  authorize_key(tmp.path(), keys, {"XX.ANMO"});
  ServerProcess server(tmp.path());
  TestStation station(server.endpoint(), server.public_key(), keys);

  const auto records = station_records("ANMO", 5000);
  auto ack = station.call(TestStation::make_batch(1, records));
  REQUIRE(ack);
  CHECK(ack->batch_id() == 1);
  CHECK(ack->error() == v1::BATCH_ERROR_UNSPECIFIED);
  REQUIRE(ack->results_size() == static_cast<int>(records.size()));
  CHECK(count_status(*ack, v1::STORED) == records.size());
  CHECK(ack->limits().max_records_per_batch() == 10000);

  auto again = station.call(TestStation::make_batch(2, records));
  REQUIRE(again);
  CHECK(count_status(*again, v1::DUPLICATE) == records.size());

  REQUIRE(server.stop() == 0);
  const auto stored = stored_records(tmp.path());
  CHECK((stored == std::multiset<std::vector<uint8_t>>(records.begin(), records.end())));
  CHECK_THAT(server.log(), Catch::Contains("station connected"));
}

TEST_CASE("a key may write only its own stations, and a wrong SHA-256 is rejected", "[server][ingest]") {
  TempDir tmp;
  const auto keys = new_station_keys();
  { ServerProcess probe(tmp.path()); REQUIRE(probe.stop() == 0); }
  authorize_key(tmp.path(), keys, {"XX.ANMO", "XX.CO*"});
  ServerProcess server(tmp.path());
  TestStation station(server.endpoint(), server.public_key(), keys);

  auto own = station_records("COLA", 1000);
  auto other = station_records("KIEV", 1000, 2);
  auto batch = TestStation::make_batch(7, {own[0], other[0], own[1]});
  batch.mutable_records(2)->mutable_sha256()->at(0) ^= 1;  // a hash that does not match
  auto ack = station.call(batch);
  REQUIRE(ack);
  REQUIRE(ack->results_size() == 3);
  CHECK(ack->results(0).status() == v1::STORED);
  CHECK(ack->results(1).status() == v1::REJECTED);
  CHECK(ack->results(1).reason() == v1::NOT_AUTHORIZED);
  CHECK_THAT(ack->results(1).message(), Catch::Contains("XX.KIEV"));
  CHECK(ack->results(2).status() == v1::REJECTED);
  CHECK(ack->results(2).reason() == v1::HASH_MISMATCH);

  REQUIRE(server.stop() == 0);
  CHECK((stored_records(tmp.path()) == std::multiset<std::vector<uint8_t>>{own[0]}));
  CHECK_THAT(server.log(), Catch::Contains("not_authorized") && Catch::Contains("hash_mismatch"));
}

TEST_CASE("a key that is not listed cannot deliver anything", "[server][ingest]") {
  TempDir tmp;
  ServerProcess server(tmp.path());
  TestStation stranger(server.endpoint(), server.public_key(), new_station_keys());
  stranger.send(TestStation::make_batch(1, station_records("ANMO", 500)));
  CHECK_FALSE(stranger.receive(std::chrono::seconds(2)));
  REQUIRE(server.stop() == 0);
  CHECK(stored_records(tmp.path()).empty());
  CHECK_THAT(server.log(), Catch::Contains("refused a station key"));
}

TEST_CASE("garbage, hostile and oversized messages get clear errors while another station's push completes",
          "[server][ingest]") {
  TempDir tmp;
  const auto good_keys = new_station_keys(), bad_keys = new_station_keys();
  { ServerProcess probe(tmp.path()); REQUIRE(probe.stop() == 0); }
  authorize_key(tmp.path(), good_keys, {"XX.GOOD"});
  authorize_key(tmp.path(), bad_keys, {"XX.BAD"});
  ServerProcess server(tmp.path(), "tcp://127.0.0.1:*", {"--max-batch-records", "100"});

  // A well-behaved station pushes 40 batches in parallel with the attacker.
  const auto good = station_records("GOOD", 40 * 50 * 80);
  std::atomic<size_t> good_stored{0};
  std::thread pusher([&] {
    TestStation station(server.endpoint(), server.public_key(), good_keys);
    for (size_t b = 0; b * 50 < good.size(); ++b) {
      std::vector<std::vector<uint8_t>> part(good.begin() + b * 50,
                                             good.begin() + std::min(good.size(), (b + 1) * 50));
      if (auto ack = station.call(TestStation::make_batch(b + 1, part))) good_stored += count_status(*ack, v1::STORED);
    }
  });

  TestStation bad(server.endpoint(), server.public_key(), bad_keys);
  {
    bad.send_raw({"this is not a protobuf at all \xff\xff\xff"});
    auto ack = bad.receive(std::chrono::seconds(10));
    REQUIRE(ack);
    CHECK(ack->error() == v1::MALFORMED);
    CHECK_THAT(ack->error_message(), Catch::Contains("not an IngestBatch"));

    auto batch = TestStation::make_batch(5, station_records("BAD", 1000));
    auto bytes = batch.SerializeAsString();
    bad.send_raw({bytes.substr(0, bytes.size() / 2)});  // truncated in the middle of a record
    ack = bad.receive(std::chrono::seconds(10));
    REQUIRE(ack);
    CHECK(ack->error() == v1::MALFORMED);

    bad.send_raw({std::string("\x1a\xff\xff\xff\xff\x0f", 6)});  // a record claiming 4 GiB
    ack = bad.receive(std::chrono::seconds(10));
    REQUIRE(ack);
    CHECK(ack->error() == v1::MALFORMED);

    bad.send_raw({bytes, bytes});  // two frames
    ack = bad.receive(std::chrono::seconds(10));
    REQUIRE(ack);
    CHECK(ack->error() == v1::MALFORMED);
    CHECK_THAT(ack->error_message(), Catch::Contains("got 2"));

    ack = bad.call(TestStation::make_batch(9, {}));  // empty batch
    REQUIRE(ack);
    CHECK(ack->batch_id() == 9);
    CHECK(ack->results_size() == 0);
    CHECK(ack->error() == v1::BATCH_ERROR_UNSPECIFIED);

    auto future = TestStation::make_batch(10, {});
    future.set_protocol_version(99);
    ack = bad.call(future);
    REQUIRE(ack);
    CHECK(ack->error() == v1::UNSUPPORTED_PROTOCOL);

    // Over the limits: one answer for the whole batch (the station splits
    // it), not a rejection per record.
    const auto many = station_records("BAD", 100000, 3);  // more than 100 records
    REQUIRE(many.size() > 100);
    ack = bad.call(TestStation::make_batch(11, many));
    REQUIRE(ack);
    CHECK(ack->batch_id() == 11);
    CHECK(ack->error() == v1::OVERSIZED_BATCH);
    CHECK(ack->results_size() == 0);
    CHECK(ack->limits().max_records_per_batch() == 100);
    CHECK_THAT(ack->error_message(), Catch::Contains("limit of 100 records"));
  }
  pusher.join();
  CHECK(good_stored == good.size());
  REQUIRE(server.stop() == 0);
  const auto stored = stored_records(tmp.path());
  CHECK(stored.size() == good.size());
  CHECK((stored == std::multiset<std::vector<uint8_t>>(good.begin(), good.end())));
}

TEST_CASE("SIGHUP after editing the list admits a new key, and closes a revoked key's open connection",
          "[server][ingest]") {
  TempDir tmp;
  const auto a = new_station_keys(), b = new_station_keys();
  { ServerProcess probe(tmp.path()); REQUIRE(probe.stop() == 0); }
  authorize_key(tmp.path(), a, {"XX.*"});
  ServerProcess server(tmp.path());
  const auto records = station_records("HUP", 20000);
  REQUIRE(records.size() >= 4);

  TestStation station_a(server.endpoint(), server.public_key(), a);
  auto ack = station_a.call(TestStation::make_batch(1, {records[0]}));
  REQUIRE(ack);
  CHECK(ack->results(0).status() == v1::STORED);
  {
    TestStation station_b(server.endpoint(), server.public_key(), b);
    CHECK_FALSE(station_b.call(TestStation::make_batch(1, {records[1]}), std::chrono::seconds(2)));
  }

  auto list = StationAccessList::load(tmp.path() / "authorized_stations");
  REQUIRE(list.ok());
  list->remove(a.public_key);
  list->upsert({b.public_key, {"XX.HUP"}, "added later", "", /*allow_unsigned=*/true});
  REQUIRE(list->save(tmp.path() / "authorized_stations").ok());
  server.process().signal(SIGHUP);
  REQUIRE(eventually([&] { return server.log().find("SIGHUP: reloaded") != std::string::npos; },
                     std::chrono::seconds(10)));

  TestStation station_b(server.endpoint(), server.public_key(), b);
  ack = station_b.call(TestStation::make_batch(2, {records[2]}));
  REQUIRE(ack);
  CHECK(ack->results(0).status() == v1::STORED);
  // A's open connection is closed: nothing it sends is taken any more (its
  // socket reconnects, and the handshake is refused).
  REQUIRE(eventually([&] { return server.log().find("no longer in the authorized-stations list") != std::string::npos; },
                     std::chrono::seconds(10)));
  CHECK_FALSE(station_a.call(TestStation::make_batch(3, {records[3]}), std::chrono::seconds(2)));
  // And a new connection with A's key is refused at the handshake.
  TestStation again_a(server.endpoint(), server.public_key(), a);
  CHECK_FALSE(again_a.call(TestStation::make_batch(4, {records[3]}), std::chrono::seconds(2)));

  REQUIRE(server.stop() == 0);
  CHECK((stored_records(tmp.path()) == std::multiset<std::vector<uint8_t>>{records[0], records[2]}));
}

TEST_CASE("after SIGKILL and a restart every acknowledged record is there and nothing is stored twice",
          "[server][ingest][durability]") {
  TempDir tmp;
  const auto keys = new_station_keys();
  const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(free_loopback_port());
  { ServerProcess probe(tmp.path(), endpoint); REQUIRE(probe.stop() == 0); }
  authorize_key(tmp.path(), keys, {"XX.KILL"});
  auto server = std::make_unique<ServerProcess>(tmp.path(), endpoint);
  const auto public_key = server->public_key();

  const auto records = station_records("KILL", 20000 * 420);
  constexpr size_t kPerBatch = 100;
  const size_t batches = (records.size() + kPerBatch - 1) / kPerBatch;
  auto batch = [&](size_t i) {
    std::vector<std::vector<uint8_t>> part(records.begin() + i * kPerBatch,
                                           records.begin() + std::min(records.size(), (i + 1) * kPerBatch));
    return TestStation::make_batch(i + 1, part);
  };

  TestStation station(endpoint, public_key, keys);
  std::vector<bool> acked(batches, false);
  std::map<size_t, std::chrono::steady_clock::time_point> in_flight;  // batch index -> sent at
  size_t next = 0, acked_count = 0, acked_before_kill = 0;
  bool killed = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
  while (acked_count < batches && std::chrono::steady_clock::now() < deadline) {
    while (in_flight.size() < 8 && next < batches) {
      station.send(batch(next));
      in_flight[next++] = std::chrono::steady_clock::now();
    }
    if (auto ack = station.receive(std::chrono::milliseconds(200))) {
      const size_t i = ack->batch_id() - 1;
      REQUIRE(i < batches);
      if (!acked[i]) {
        CHECK(ack->results_size() == static_cast<int>(batch(i).records_size()));
        for (const auto& r : ack->results()) CHECK((r.status() == v1::STORED || r.status() == v1::DUPLICATE));
        acked[i] = true;
        ++acked_count;
        in_flight.erase(i);
      }
    }
    if (!killed && acked_count >= batches / 3) {
      server->kill9();  // mid-push, with batches in flight
      killed = true;
      acked_before_kill = acked_count;
      server = std::make_unique<ServerProcess>(tmp.path(), endpoint);
    }
    // Resend what has waited too long (lost with the old connection).
    for (auto& [i, sent] : in_flight) {
      if (std::chrono::steady_clock::now() - sent > std::chrono::seconds(2)) {
        station.send(batch(i));
        sent = std::chrono::steady_clock::now();
      }
    }
  }
  REQUIRE(killed);
  CHECK(acked_before_kill > 0);
  REQUIRE(acked_count == batches);
  REQUIRE(server->stop() == 0);
  const auto stored = stored_records(tmp.path());
  CHECK(stored.size() == records.size());
  CHECK((stored == std::multiset<std::vector<uint8_t>>(records.begin(), records.end())));
}

TEST_CASE("the corpus pushed through the server: parsing files stored byte-identical, the rest rejected with reasons",
          "[server][ingest][corpus]") {
  const auto dir = corpus_dir_or_skip();
  TempDir tmp;
  const auto keys = new_station_keys();
  { ServerProcess probe(tmp.path()); REQUIRE(probe.stop() == 0); }
  authorize_key(tmp.path(), keys, {"*.*"});
  ServerProcess server(tmp.path());
  TestStation station(server.endpoint(), server.public_key(), keys);

  std::set<std::vector<uint8_t>> expected;
  uint64_t id = 0;
  for (const auto& row : read_manifest(dir)) {
    INFO(row.file);
    const auto pieces = split_file(read_file(dir / row.file));
    std::vector<std::vector<uint8_t>> bytes;
    for (const auto& p : pieces) bytes.push_back(p.bytes);
    auto ack = station.call(TestStation::make_batch(++id, bytes));
    REQUIRE(ack);
    REQUIRE(ack->results_size() == static_cast<int>(pieces.size()));
    size_t accepted = 0;
    for (size_t i = 0; i < pieces.size(); ++i) {
      const auto& r = ack->results(static_cast<int>(i));
      INFO("piece at byte " << pieces[i].where.offset << ": " << r.message());
      if (r.status() == v1::REJECTED) {
        CHECK(r.reason() != v1::REJECT_CODE_UNSPECIFIED);
        CHECK(r.message().size() > 10);
        if (row.parses()) CHECK(pieces[i].where.kind == PieceKind::kNotData);  // trailing bytes only
        if (row.mseed_version == 3) CHECK(r.reason() == v1::UNSUPPORTED_VERSION);
      } else {
        ++accepted;
        expected.insert(pieces[i].bytes);
      }
    }
    if (row.parses()) CHECK(accepted == row.records);
    if (!row.parses()) CHECK(accepted < pieces.size());
  }
  REQUIRE(server.stop() == 0);
  const auto stored = stored_records(tmp.path());
  CHECK(stored.size() == expected.size());
  CHECK((std::set<std::vector<uint8_t>>(stored.begin(), stored.end()) == expected));
}

TEST_CASE("a second stop signal during shutdown does not kill the server: it still drains and exits 0",
          "[server][ingest]") {
  TempDir tmp;
  const auto keys = new_station_keys();
  { ServerProcess probe(tmp.path()); REQUIRE(probe.stop() == 0); }
  authorize_key(tmp.path(), keys, {"XX.*"});
  ServerProcess server(tmp.path());
  TestStation station(server.endpoint(), server.public_key(), keys);
  const auto records = station_records("TWICE", 200000);
  REQUIRE(station.call(TestStation::make_batch(1, records)));
  for (int round = 0; round < 3; ++round) {
    server.process().signal(SIGINT);
    server.process().signal(SIGTERM);
  }
  CHECK(server.process().wait(std::chrono::seconds(30)) == 0);
  CHECK_THAT(server.log(), Catch::Contains("seisvaultd stopped"));
  CHECK_FALSE(std::filesystem::exists(tmp.path() / "ingest.endpoint"));
  CHECK(stored_records(tmp.path()).size() == records.size());
}

// The loop mode of the kill tests: one `seisvault push` (a real process,
// with a spool) follows a file that keeps growing while seisvaultd is
// SIGKILLed at random moments and restarted, SEISVAULT_KILLS times (default
// 6; scripts/kill-loop.sh runs this test many times with more). The push is
// never rerun on its input: at the end it is stopped (SIGINT, which flushes),
// and only its spool is flushed by a second push with no records of its
// own. Every record must then be stored exactly once.
TEST_CASE("many SIGKILLs of the server at random moments during one push: every record is stored exactly once",
          "[server][ingest][durability][kill-loop]") {
  const char* env = std::getenv("SEISVAULT_KILLS");
  const int kills = env ? std::max(1, std::atoi(env)) : 6;
  const auto seed = std::random_device{}();
  INFO("kills " << kills << ", seed " << seed);
  std::mt19937 rng(seed);

  TempDir tmp;
  const auto keys = new_station_keys();
  const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(free_loopback_port());
  { ServerProcess probe(tmp.path(), endpoint); REQUIRE(probe.stop() == 0); }
  authorize_key(tmp.path(), keys, {"XX.LOOP"});
  REQUIRE(write_key_files(tmp.path() / "station", keys).ok());
  auto server = std::make_unique<ServerProcess>(tmp.path(), endpoint);

  // The input arrives in chunks, as from a datalogger, over about a second
  // per kill.
  const size_t chunks = static_cast<size_t>(kills) * 8;
  const auto records = station_records("LOOP", chunks * 150 * 800, seed);
  const size_t per_chunk = records.size() / chunks;
  const auto input = tmp.path() / "loop.mseed";
  { std::ofstream create(input, std::ios::binary); }
  const auto spool = tmp.path() / "spool";
  const auto push_log = tmp.path() / "push.log";
  auto push_args = [&](const std::filesystem::path& file, bool follow) {
    std::vector<std::string> a = {built_program("client/seisvault").string(), "push", "--server", endpoint,
                                  "--server-key", (tmp.path() / "server.pub").string(), "--key",
                                  (tmp.path() / "station").string(), "--spool", spool.string(), "--timeout", "0",
                                  "--batch-records", "100", "--ack-timeout", "2"};
    if (follow) a.push_back("--follow");
    a.push_back(file.string());
    return a;
  };
  ChildProcess push(push_args(input, true), push_log);

  // Kill moments: `kills` distinct chunks, at a random delay inside each.
  std::vector<size_t> kill_at(chunks);
  std::iota(kill_at.begin(), kill_at.end(), 0);
  std::shuffle(kill_at.begin(), kill_at.end(), rng);
  kill_at.resize(static_cast<size_t>(kills));
  std::sort(kill_at.begin(), kill_at.end());
  std::uniform_int_distribution<int> pause_ms(20, 200);
  size_t next_kill = 0;
  for (size_t c = 0; c < chunks; ++c) {
    {
      std::ofstream out(input, std::ios::binary | std::ios::app);
      const size_t end = c + 1 == chunks ? records.size() : (c + 1) * per_chunk;
      for (size_t i = c * per_chunk; i < end; ++i) {
        out.write(reinterpret_cast<const char*>(records[i].data()), static_cast<std::streamsize>(records[i].size()));
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(rng)));
    if (next_kill < kill_at.size() && kill_at[next_kill] == c) {
      ++next_kill;
      server->kill9();
      server = std::make_unique<ServerProcess>(tmp.path(), endpoint);
    }
    REQUIRE(push.running());
  }
  // The last chunk is written: once the server holds every record (the push
  // follows the file every 200 ms), the push is stopped; it flushes what it
  // read, then exits. (A push stopped earlier would leave records unread.)
  auto api = waveform::v1::Waveforms::NewStub(grpc::CreateChannel(server->api(), grpc::InsecureChannelCredentials()));
  eventually(
      [&] {
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
        waveform::v1::Stats stats;
        return api->GetStats(&ctx, {}, &stats).ok() && stats.records_stored() >= records.size();
      },
      std::chrono::seconds(60));
  push.signal(SIGINT);
  const auto code = push.wait(std::chrono::seconds(120));
  INFO(read_text(push_log));
  REQUIRE(code.has_value());
  CHECK(*code == 0);
  // Only the spool, never the input again.
  const auto nothing = tmp.path() / "nothing.mseed";
  { std::ofstream create(nothing, std::ios::binary); }
  ChildProcess flush(push_args(nothing, false), tmp.path() / "flush.log");
  REQUIRE(flush.wait(std::chrono::seconds(60)) == std::optional<int>(0));
  REQUIRE(server->stop() == 0);
  const auto stored = stored_records(tmp.path());
  CHECK(stored.size() == records.size());
  CHECK((stored == std::multiset<std::vector<uint8_t>>(records.begin(), records.end())));
}
