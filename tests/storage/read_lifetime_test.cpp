// The lifetime of a read's snapshot and iterators
// (StoreOptions::max_read_snapshot_age), with a real RocksDB: a read whose
// visitor is slow lets go of its snapshot between two records and goes on
// from a fresh one, delivering every record exactly once and in order, and
// without pinning files that compactions have made obsolete.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "seisvault/storage/record_store.h"
#include "store_test_records.h"
#include "support/temp_dir.h"

using namespace seisvault;
using namespace seisvault::storage;
using seisvault::test::TempDir;
using namespace seisvault::storage_test;

namespace {

constexpr auto kShortLifetime = std::chrono::milliseconds(20);

std::set<std::string> table_files(const std::filesystem::path& dir) {
  std::set<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".sst") out.insert(e.path().filename().string());
  }
  return out;
}

}  // namespace

TEST_CASE("a read whose visitor is slow while writes go on renews its snapshot and still delivers every record "
          "exactly once, in order",
          "[store][read][lifetime]") {
  TempDir tmp;
  auto o = small_options(8);
  o.max_read_snapshot_age = kShortLifetime;
  auto store = open_store(tmp.path(), o);
  std::mt19937 rng(11);

  // Channel A: 240 records in three writes whose blocks overlap in time (a
  // backfill), records with equal starts, and long records; channel B: 60.
  struct Stored {
    Rec r;
    size_t arrival;
  };
  std::vector<Stored> model;
  size_t arrival = 0;
  auto put = [&](const std::vector<Rec>& recs) {
    const auto w = write_ok(*store, recs);
    REQUIRE(w.stats.stored == recs.size());
    for (const auto& r : recs) model.push_back({r, arrival++});
  };
  for (int pass = 0; pass < 3; ++pass) {
    std::vector<Rec> recs;
    for (int i = pass; i < 240; i += 3) {
      recs.push_back(rec("XX.A.00.HHZ", kT0 + (i / 2) * 10 * kSecond, 100, 100.0, i + 1));
    }
    recs.push_back(rec_span("XX.A.00.HHZ", kT0 + pass * 300 * kSecond, kT0 + (pass + 2) * 3600 * kSecond, 500 + pass));
    std::shuffle(recs.begin(), recs.end(), rng);
    put(recs);
  }
  {
    std::vector<Rec> recs;
    for (int i = 0; i < 60; ++i) recs.push_back(rec("XX.B.00.HHZ", kT0 + i * 10 * kSecond, 100, 100.0, 1000 + i));
    put(recs);
  }
  std::sort(model.begin(), model.end(), [](const Stored& a, const Stored& b) {
    return std::tie(a.r.source_id, a.r.start_ns, a.arrival) < std::tie(b.r.source_id, b.r.start_ns, b.arrival);
  });

  // The visitor takes 3 ms per record (past the lifetime every seven or so)
  // and writes now and then: records of A and B far ahead of the read (they
  // may appear), records of A behind it (they may not), and a new channel.
  std::vector<Got> got;
  std::set<Sha256Digest> written_during;
  uint32_t salt = 50'000;
  auto st = store->read_records(ChannelSelection(), {}, [&](const StoredRecord& r) {
    got.push_back(copy_of(r));
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
    if (got.size() % 10 == 0) {
      salt += 4;
      const TimeNs ahead = kT0 + 100'000 * kSecond + salt * kSecond;
      std::vector<Rec> more = {rec("XX.A.00.HHZ", ahead, 100, 100.0, salt),
                               rec("XX.A.00.HHZ", kT0 + 5 * kSecond, 100, 100.0, salt + 1),
                               rec("XX.B.00.HHZ", ahead, 100, 100.0, salt + 2),
                               rec("XX.C.00.HHZ", kT0, 100, 100.0, salt + 3)};
      for (const auto& m : more) written_during.insert(m.sha);
      write_ok(*store, more);
    }
    return true;
  });
  INFO(st.to_string());
  REQUIRE(st.ok());

  // Never a record twice; within a channel, by start time.
  std::set<Sha256Digest> seen;
  for (size_t i = 0; i < got.size(); ++i) {
    INFO(i);
    CHECK(seen.insert(got[i].sha).second);
    if (i > 0 && got[i].source_id == got[i - 1].source_id) CHECK(got[i].start_ns >= got[i - 1].start_ns);
    if (i > 0) CHECK(got[i].source_id >= got[i - 1].source_id);
  }
  // Everything that was there before the read, once each, in the store's order.
  std::vector<Sha256Digest> before_read;
  size_t during = 0;
  for (const auto& g : got) {
    if (written_during.count(g.sha)) {
      ++during;
      CHECK(g.source_id != "XX.C.00.HHZ");  // channels are listed when the read starts
    } else {
      before_read.push_back(g.sha);
    }
  }
  std::vector<Sha256Digest> expected;
  for (const auto& m : model) expected.push_back(m.r.sha);
  CHECK(before_read == expected);
  // The read did take fresh snapshots: records written ahead of it showed up.
  CHECK(during > 0);
}

TEST_CASE("a slow read does not keep table files that compactions made obsolete", "[store][read][lifetime]") {
  TempDir tmp;
  auto o = small_options(8);
  o.memtable_mib = 1;          // every MiB written makes a table file
  o.delete_rate_mib_per_s = 0; // obsolete files are deleted at once
  o.max_read_snapshot_age = kShortLifetime;
  auto store = open_store(tmp.path(), o);
  int filler_batch = 0;
  auto write_filler = [&](int batches) {
    for (int b = 0; b < batches; ++b, ++filler_batch) {
      std::vector<Rec> recs;
      for (int i = 0; i < 1000; ++i) {
        recs.push_back(rec("XX.Z.00.HHZ", kT0 + (filler_batch * 1000 + i) * kSecond, 100, 100.0, 7, 512));
      }
      write_ok(*store, recs);
    }
  };
  std::vector<Rec> a;
  for (int i = 0; i < 2000; ++i) a.push_back(rec("XX.A.00.HHZ", kT0 + i * kSecond, 100, 100.0, 1, 512));
  write_ok(*store, a);
  // 1,000 records put ~90 KiB into RocksDB (their bytes go to segment files).
  write_filler(48);  // ~4 MiB more: the data of A is in table files now
  // Until flushes and compactions are done (the table files stay the same
  // for a while), so that every file there when the read starts is live.
  std::set<std::string> at_start = table_files(tmp.path());
  for (int still = 0, i = 0; still < 5 && i < 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto now = table_files(tmp.path());
    still = now == at_start ? still + 1 : 0;
    at_start = std::move(now);
  }
  REQUIRE_FALSE(at_start.empty());

  // A read of A that takes 25 ms per record while ~0.5 MiB is written each
  // time: flushes and compactions go on, and merge the files that were there
  // when the read started. Once one of them is gone, no snapshot or iterator
  // of the read held on to it.
  bool one_gone = false;
  size_t visited = 0;
  auto st = store->read_records(sel("XX.A"), {}, [&](const StoredRecord& r) {
    CHECK(r.start_ns == a[visited].start_ns);
    ++visited;
    const auto now = table_files(tmp.path());
    one_gone = std::any_of(at_start.begin(), at_start.end(), [&](const std::string& f) { return !now.count(f); });
    if (one_gone || visited >= 400) return false;  // A has 2,000 records
    write_filler(6);
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    return true;
  });
  INFO(st.to_string());
  REQUIRE(st.ok());
  INFO("records visited: " << visited << ", table files at the start: " << at_start.size());
  CHECK(one_gone);
}
