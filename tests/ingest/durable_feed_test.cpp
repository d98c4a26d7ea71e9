// What the pipeline hands on_durable (the live feed of Subscribe and
// SeedLink): every stored record once, duplicates never, each with the
// sequence number the store gave it, groups covering consecutive ranges of
// numbers. A real IngestServer in the process over a real store, fed by a
// raw protocol peer.
#include <catch2/catch.hpp>

#include <map>
#include <mutex>
#include <set>

#include "in_process_server.h"
#include "seisvault/common/sha256.h"
#include "support/server_data.h"
#include "support/temp_dir.h"
#include "support/test_station.h"

using namespace seisvault;
using namespace seisvault::test;
namespace v1 = seisvault::ingest::v1;

TEST_CASE("durable groups carry each stored record's sequence number, in consecutive ranges", "[ingest][sequence]") {
  TempDir tmp;
  const bool group_commit = GENERATE(true, false);
  INFO((group_commit ? "group commit" : "fsync every batch"));
  std::mutex mutex;
  std::vector<std::shared_ptr<const ingest::DurableRecords>> groups;
  InProcessServer server(tmp.path(), group_commit ? ingest::SyncPolicy::kGroupCommit : ingest::SyncPolicy::kEveryBatch,
                         [&](std::shared_ptr<const ingest::DurableRecords> g) {
                           std::lock_guard lock(mutex);
                           groups.push_back(std::move(g));
                         });
  TestStation station(server.ingest->endpoint(), "", new_station_keys());
  const auto anmo = station_records("ANMO", 20'000);
  const auto cola = station_records("COLA", 8'000, 2);
  uint64_t batch_id = 1;
  size_t stored = 0;
  for (size_t i = 0; i < anmo.size(); i += 7) {
    std::vector<std::vector<uint8_t>> part(anmo.begin() + i, anmo.begin() + std::min(anmo.size(), i + 7));
    if (i / 7 < cola.size()) part.push_back(cola[i / 7]);
    auto ack = station.call(TestStation::make_batch(batch_id++, part));
    REQUIRE(ack);
    for (const auto& r : ack->results()) stored += r.status() == v1::STORED;
  }
  // A resend: all duplicates, published nowhere.
  auto again = station.call(TestStation::make_batch(batch_id++, {anmo[0], anmo[1]}));
  REQUIRE(again);
  for (const auto& r : again->results()) CHECK(r.status() == v1::DUPLICATE);
  server.ingest.reset();  // drains and stops: every group published

  std::map<uint64_t, Sha256Digest> by_number;
  uint64_t expected_first = 1;
  for (const auto& g : groups) {
    REQUIRE(g->sequences.size() == g->records.size());
    CHECK(g->first_sequence() == expected_first);
    CHECK(g->end_sequence() - g->first_sequence() == g->records.size());
    expected_first = g->end_sequence();
    for (size_t i = 0; i < g->records.size(); ++i) {
      CHECK(by_number.emplace(g->sequences[i], g->records[i].sha256).second);
    }
  }
  CHECK(by_number.size() == stored);
  CHECK(expected_first == server.store->next_sequence());
  // The store says the same about every record.
  size_t checked = 0;
  auto st = server.store->read_records({}, {}, [&](const storage::StoredRecord& r) {
    Sha256Digest d;
    std::copy(r.sha256, r.sha256 + 32, d.begin());
    auto f = by_number.find(r.sequence);
    REQUIRE(f != by_number.end());
    CHECK(f->second == d);
    ++checked;
    return true;
  });
  CHECK(st.ok());
  CHECK(checked == stored);
}
