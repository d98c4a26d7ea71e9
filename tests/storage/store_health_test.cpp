// What the store does when its disk fails: a full disk, a failed write, a
// failed fsync (injected through StoreOptions::faults into a real RocksDB in
// a temporary directory). It refuses writes with Unavailable instead of
// aborting or claiming success, says why in health(), and resumes by itself
// when the cause clears; a failed fsync stays failed until it is reopened.
#include <catch2/catch.hpp>

#include <thread>

#include "store_test_records.h"
#include "support/process.h"
#include "support/temp_dir.h"

using namespace seisvault;
using namespace seisvault::storage;
using namespace seisvault::storage_test;
using seisvault::test::eventually;
using seisvault::test::TempDir;

namespace {

std::vector<Rec> records_of(const std::string& id, TimeNs from, int n, uint32_t salt = 0) {
  std::vector<Rec> out;
  for (int i = 0; i < n; ++i) out.push_back(rec(id, from + i * kSecond, 100, 100.0, salt));
  return out;
}

std::vector<Sha256Digest> stored_hashes(const RecordStore& store) {
  std::vector<Sha256Digest> out;
  REQUIRE(store.read_records({}, {}, [&](const StoredRecord& r) {
    Sha256Digest d;
    std::copy(r.sha256, r.sha256 + 32, d.begin());
    out.push_back(d);
    return true;
  }).ok());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<Sha256Digest> hashes_of(std::initializer_list<const std::vector<Rec>*> sets) {
  std::vector<Sha256Digest> out;
  for (const auto* s : sets) {
    for (const auto& r : *s) out.push_back(r.sha);
  }
  std::sort(out.begin(), out.end());
  return out;
}

StoreOptions faulty_options(std::shared_ptr<FaultInjection> faults) {
  auto o = small_options();
  o.min_free_bytes = 0;
  o.faults = std::move(faults);
  return o;
}

}  // namespace

TEST_CASE("a failed append to the write-ahead log pauses the store; it refuses syncs and writes instead of aborting, "
          "and resumes by itself once the fault clears",
          "[store][health]") {
  TempDir tmp;
  auto faults = std::make_shared<FaultInjection>();
  const auto a = records_of("XX.A..HHZ", kT0, 50);
  const auto b = records_of("XX.A..HHZ", kT0 + 100 * kSecond, 50);
  const auto c = records_of("XX.A..HHZ", kT0 + 200 * kSecond, 50);
  {
    auto store = open_store(tmp.path(), faulty_options(faults));
    CHECK(store->health().state == StoreState::kOk);
    write_ok(*store, a);
    REQUIRE(store->sync_wal().ok());
    write_ok(*store, b);  // written, not yet synced

    faults->set_fail_wal_writes(true);
    auto failed = write(*store, c);
    CHECK(failed.status.code() == StatusCode::kUnavailable);
    const auto health = store->health();
    CHECK(health.state == StoreState::kPaused);
    CHECK_THAT(health.message, Catch::Contains("write to the store failed"));
    CHECK(faults->failures() > 0);

    // RocksDB's log writer remembers the failed append: a SyncWAL() reaching
    // it aborts the process (Debian's RocksDB asserts). The store refuses.
    CHECK(store->sync_wal().code() == StatusCode::kUnavailable);
    CHECK(write(*store, c).status.code() == StatusCode::kUnavailable);

    faults->set_fail_wal_writes(false);
    REQUIRE(eventually([&] { return store->try_resume().state == StoreState::kOk; }, std::chrono::seconds(20)));
    CHECK(store->health().message.empty());
    write_ok(*store, c);
    REQUIRE(store->sync_wal().ok());
  }
  // b was in memory when the append failed: RocksDB's recovery flushed it.
  auto store = open_store(tmp.path(), small_options());
  CHECK(stored_hashes(*store) == hashes_of({&a, &b, &c}));
}

TEST_CASE("a failed fsync of the write-ahead log fails the store until it is reopened", "[store][health]") {
  TempDir tmp;
  auto faults = std::make_shared<FaultInjection>();
  const auto a = records_of("XX.B..HHZ", kT0, 50);
  const auto b = records_of("XX.B..HHZ", kT0 + 100 * kSecond, 50);
  const auto c = records_of("XX.B..HHZ", kT0 + 200 * kSecond, 50);
  {
    auto store = open_store(tmp.path(), faulty_options(faults));
    write_ok(*store, a);
    REQUIRE(store->sync_wal().ok());
    write_ok(*store, b);
    faults->set_fail_wal_syncs(true);
    CHECK(store->sync_wal().code() == StatusCode::kUnavailable);
    CHECK(store->health().state == StoreState::kFailed);
    CHECK_THAT(store->health().message, Catch::Contains("fsync") && Catch::Contains("restart"));

    // The fault clearing changes nothing: the unsynced pages may be gone.
    faults->set_fail_wal_syncs(false);
    CHECK(store->try_resume().state == StoreState::kFailed);
    CHECK(write(*store, c).status.code() == StatusCode::kUnavailable);
    CHECK(store->sync_wal().code() == StatusCode::kUnavailable);
  }
  auto store = open_store(tmp.path(), small_options());
  CHECK(store->health().state == StoreState::kOk);
  const auto stored = stored_hashes(*store);
  for (const auto& r : a) CHECK(std::binary_search(stored.begin(), stored.end(), r.sha));
  write_ok(*store, c, true);
}

TEST_CASE("under --sync every-batch a failed fsync fails the store too", "[store][health]") {
  TempDir tmp;
  auto faults = std::make_shared<FaultInjection>();
  auto store = open_store(tmp.path(), faulty_options(faults));
  write_ok(*store, records_of("XX.C..HHZ", kT0, 10), true);
  faults->set_fail_wal_syncs(true);
  CHECK(write(*store, records_of("XX.C..HHZ", kT0 + 100 * kSecond, 10), true).status.code() ==
        StatusCode::kUnavailable);
  CHECK(store->health().state == StoreState::kFailed);
}

TEST_CASE("a failed table write (a flush on a full disk) pauses the store, which resumes once it clears",
          "[store][health]") {
  TempDir tmp;
  auto faults = std::make_shared<FaultInjection>();
  auto o = faulty_options(faults);
  o.memtable_mib = 1;  // flushes early
  auto store = open_store(tmp.path(), o);
  std::vector<Rec> written;
  faults->set_fail_table_writes(true);
  // Write until RocksDB's failed flush stops writes (bounded: 64 MiB of records).
  bool paused = false;
  for (int i = 0; i < 4096 && !paused; ++i) {
    auto part = records_of("XX.D..HHZ", kT0 + i * 100 * kSecond, 64, 1);
    for (auto& r : part) {
      r.bytes.resize(256);
      rehash(r);
    }
    auto w = write(*store, part);
    if (w.status.ok()) {
      written.insert(written.end(), part.begin(), part.end());
    } else {
      CHECK(w.status.code() == StatusCode::kUnavailable);
      paused = true;
    }
  }
  REQUIRE(paused);
  CHECK(store->health().state == StoreState::kPaused);
  faults->set_fail_table_writes(false);
  REQUIRE(eventually([&] { return store->try_resume().state == StoreState::kOk; }, std::chrono::seconds(30)));
  const auto more = records_of("XX.D..HHZ", kT0 + 1'000'000 * kSecond, 10, 2);
  write_ok(*store, more, true);
  std::vector<const std::vector<Rec>*> sets{&written, &more};
  CHECK(stored_hashes(*store).size() == written.size() + more.size());
}

TEST_CASE("below the free-space reserve the store refuses writes and says how much is free", "[store][health]") {
  TempDir tmp;
  auto o = small_options();
  o.min_free_bytes = uint64_t{1} << 60;  // more than any disk has
  auto store = open_store(tmp.path(), o);
  auto w = write(*store, records_of("XX.E..HHZ", kT0, 5));
  CHECK(w.status.code() == StatusCode::kUnavailable);
  const auto health = store->health();
  CHECK(health.state == StoreState::kPaused);
  CHECK(health.free_bytes > 0);
  CHECK_THAT(health.message, Catch::Contains("--min-free-space") && Catch::Contains("MiB free"));
  CHECK(store->try_resume().state == StoreState::kPaused);
  store.reset();

  o.min_free_bytes = 1 << 20;
  store = open_store(tmp.path(), o);
  write_ok(*store, records_of("XX.E..HHZ", kT0, 5));
  CHECK(store->health().state == StoreState::kOk);
  CHECK(store->health().free_bytes > 0);
}

TEST_CASE("a full disk (every file write failing) pauses the store without aborting, and it resumes once space "
          "is back",
          "[store][health]") {
  TempDir tmp;
  auto faults = std::make_shared<FaultInjection>();
  auto o = faulty_options(faults);
  o.memtable_mib = 1;
  std::vector<Rec> acknowledged;
  {
    auto store = open_store(tmp.path(), o);
    const auto first = records_of("XX.F..HHZ", kT0, 20);
    write_ok(*store, first);
    REQUIRE(store->sync_wal().ok());
    acknowledged = first;
    faults->set_fail_all_writes(true);
    // Writes, syncs and RocksDB's own flushes and logging all meet the full
    // disk; the store must refuse, never abort.
    bool refused = false;
    for (int i = 1; i < 200 && !refused; ++i) {
      const auto part = records_of("XX.F..HHZ", kT0 + i * 100 * kSecond, 20);
      auto w = write(*store, part);
      if (!w.status.ok()) {
        CHECK(w.status.code() == StatusCode::kUnavailable);
        refused = true;
        break;
      }
      if (store->sync_wal().ok()) acknowledged.insert(acknowledged.end(), part.begin(), part.end());
    }
    REQUIRE(refused);
    CHECK(store->health().state == StoreState::kPaused);
    // The refused write stopped at its first file write, the append of its
    // records' bytes to a segment: nothing of it reached RocksDB, whose log
    // holds only writes that returned, and syncing that log makes them
    // durable (they are acknowledged, and must be there below).
    CHECK(store->sync_wal().ok());
    // The disk stays full for a while: RocksDB retries its recovery (and
    // logs about it), the store keeps refusing.
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (std::chrono::steady_clock::now() < until) {
      CHECK(store->try_resume().state != StoreState::kOk);
      CHECK(write(*store, records_of("XX.F..HHZ", kT0 + 900 * kSecond, 5)).status.code() == StatusCode::kUnavailable);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    faults->set_fail_all_writes(false);
    if (store->health().state == StoreState::kPaused) {
      REQUIRE(eventually([&] { return store->try_resume().state == StoreState::kOk; }, std::chrono::seconds(20)));
      const auto after = records_of("XX.F..HHZ", kT0 + 1'000'000 * kSecond, 20);
      write_ok(*store, after, true);
      acknowledged.insert(acknowledged.end(), after.begin(), after.end());
    }
  }
  // Everything that was acknowledged (written and synced) is there.
  auto store = open_store(tmp.path(), small_options());
  const auto stored = stored_hashes(*store);
  for (const auto& r : acknowledged) CHECK(std::binary_search(stored.begin(), stored.end(), r.sha));
}
