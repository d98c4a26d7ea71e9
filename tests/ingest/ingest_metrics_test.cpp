// The ingest pipeline's figures for /metrics, from a real IngestServer in
// this process (insecure, on 127.0.0.1) over a real store, fed by a raw
// protocol peer: the ack latency, store write and WAL fsync histograms
// count what happened, records and bytes are totalled per station (not
// duplicates), and the queue gauges are back at zero once every batch is
// acknowledged. No time is asserted beyond "more than zero".
#include <catch2/catch.hpp>

#include <numeric>

#include "seisvault/ingest/access_control.h"
#include "seisvault/ingest/ingest_server.h"
#include "seisvault/storage/record_store.h"
#include "support/server_data.h"
#include "in_process_server.h"
#include "support/temp_dir.h"
#include "support/test_station.h"

using namespace seisvault;
using namespace seisvault::test;
namespace v1 = seisvault::ingest::v1;

namespace {


size_t stored_count(const v1::IngestAck& ack) {
  size_t n = 0;
  for (const auto& r : ack.results()) n += r.status() == v1::STORED;
  return n;
}

uint64_t bytes_of(const std::vector<std::vector<uint8_t>>& records) {
  return std::accumulate(records.begin(), records.end(), uint64_t{0},
                         [](uint64_t sum, const auto& r) { return sum + r.size(); });
}

}  // namespace

TEST_CASE("each acknowledged batch is timed, store writes and fsyncs are timed, stored records are totalled per "
          "station, and the queues are empty afterwards",
          "[ingest][metrics]") {
  TempDir tmp;
  const bool group_commit = GENERATE(true, false);
  INFO((group_commit ? "group commit" : "fsync every batch"));
  InProcessServer server(tmp.path(), group_commit ? ingest::SyncPolicy::kGroupCommit : ingest::SyncPolicy::kEveryBatch);
  TestStation station(server.ingest->endpoint(), "", new_station_keys());

  const auto anmo = station_records("ANMO", 20'000);  // 50 records
  const auto cola = station_records("COLA", 4'000, 2);
  REQUIRE(anmo.size() > 10);
  // ANMO in 5 batches, COLA in 1, and one batch holding both.
  const size_t fifth = anmo.size() / 5;
  uint64_t batch_id = 1;
  size_t batches = 0;
  for (size_t i = 0; i < 5; ++i) {
    const std::vector<std::vector<uint8_t>> part(anmo.begin() + i * fifth, anmo.begin() + (i + 1) * fifth);
    auto ack = station.call(TestStation::make_batch(batch_id++, part));
    REQUIRE(ack);
    CHECK(stored_count(*ack) == part.size());
    ++batches;
  }
  const std::vector<std::vector<uint8_t>> anmo_rest(anmo.begin() + 5 * fifth, anmo.end());
  const std::vector<std::vector<uint8_t>> cola_head(cola.begin(), cola.begin() + 2);
  const std::vector<std::vector<uint8_t>> cola_tail(cola.begin() + 2, cola.end());
  auto ack = station.call(TestStation::make_batch(batch_id++, cola_head));
  REQUIRE(ack);
  CHECK(stored_count(*ack) == cola_head.size());
  ++batches;
  // Two stations interleaved in one batch.
  std::vector<std::vector<uint8_t>> mixed;
  for (size_t i = 0; i < std::max(anmo_rest.size(), cola_tail.size()); ++i) {
    if (i < anmo_rest.size()) mixed.push_back(anmo_rest[i]);
    if (i < cola_tail.size()) mixed.push_back(cola_tail[i]);
  }
  ack = station.call(TestStation::make_batch(batch_id++, mixed));
  REQUIRE(ack);
  CHECK(stored_count(*ack) == mixed.size());
  ++batches;

  const auto& s = server.ingest->stats();
  const auto ack_latency = s.ack_latency.snapshot();
  CHECK(ack_latency.count == batches);
  CHECK(ack_latency.sum_seconds > 0);
  const auto writes = s.store_write_duration.snapshot();
  CHECK(writes.count == s.store_writes.load());
  CHECK(writes.count >= 1);
  CHECK(writes.count <= batches);
  CHECK(writes.sum_seconds > 0);
  const auto syncs = s.wal_sync_duration.snapshot();
  if (group_commit) {
    CHECK(syncs.count >= 1);
    CHECK(syncs.count <= batches);
    CHECK(syncs.sum_seconds > 0);
  } else {
    CHECK(syncs.count == 0);  // the fsync is part of each write
  }

  auto totals = s.stored_by_station.snapshot();
  REQUIRE(totals.size() == 2);
  CHECK(totals[0].station == "XX.ANMO");
  CHECK(totals[0].records == anmo.size());
  CHECK(totals[0].bytes == bytes_of(anmo));
  CHECK(totals[1].station == "XX.COLA");
  CHECK(totals[1].records == cola.size());
  CHECK(totals[1].bytes == bytes_of(cola));
  CHECK(s.records_stored.load() == anmo.size() + cola.size());

  // Every batch was acknowledged (the receiver counts a batch out before it
  // sends its ack): nothing waits anywhere.
  CHECK(s.batches_in_flight.load() == 0);
  CHECK(s.validate_queue_batches.load() == 0);
  CHECK(s.commit_queue_batches.load() == 0);
  CHECK(s.sync_queue_batches.load() == 0);

  SECTION("a resent batch is timed too, but its duplicates add nothing to the station's totals") {
    ack = station.call(TestStation::make_batch(batch_id++, cola));
    REQUIRE(ack);
    CHECK(stored_count(*ack) == 0);
    CHECK(s.ack_latency.snapshot().count == batches + 1);
    totals = s.stored_by_station.snapshot();
    REQUIRE(totals.size() == 2);
    CHECK(totals[1].records == cola.size());
    CHECK(totals[1].bytes == bytes_of(cola));
    CHECK(s.batches_in_flight.load() == 0);
  }
}
