// Record sequence numbers (schema 4): assigned at commit, stored with the
// records, found again by number after a reopen; the index from sequence
// number to record (the sequence CF) read in order, in chunks, skipping
// channels unread; a sequence number for a commit time. Real RocksDB in a
// temporary directory.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "seisvault/storage/record_store.h"
#include "store_test_records.h"
#include "support/temp_dir.h"

using namespace seisvault;
using namespace seisvault::storage;
using namespace seisvault::storage_test;
using seisvault::test::TempDir;

namespace {

struct Numbered {
  WriteResult result;
  std::vector<uint64_t> sequences;
};

Numbered write_numbered(RecordStore& store, const std::vector<Rec>& recs) {
  std::vector<NewRecord> in;
  for (const auto& r : recs) in.push_back(as_new(r));
  Numbered out;
  out.result.outcomes.assign(recs.size(), WriteOutcome::kDuplicate);
  out.sequences.assign(recs.size(), 12345);
  out.result.status = store.write(in, out.result.outcomes, false, &out.result.stats, out.sequences);
  INFO(out.result.status.to_string());
  REQUIRE(out.result.status.ok());
  return out;
}

struct BySequence {
  uint64_t sequence;
  std::string source_id;
  Sha256Digest sha;
  std::vector<uint8_t> bytes;
};

std::vector<BySequence> read_seq(const RecordStore& store, uint64_t from, uint64_t until,
                                 const std::set<std::string>& only = {}) {
  std::vector<BySequence> out;
  auto st = store.read_sequence(
      from, until, [&](uint32_t, std::string_view id) { return only.empty() || only.count(std::string(id)) > 0; },
      [&](const StoredRecord& r) {
        BySequence b{r.sequence, std::string(r.source_id), {}, {r.bytes.begin(), r.bytes.end()}};
        std::copy(r.sha256, r.sha256 + 32, b.sha.begin());
        out.push_back(std::move(b));
        return true;
      });
  INFO(st.to_string());
  REQUIRE(st.ok());
  return out;
}

// Three channels, `n` records each, interleaved as stations send them.
std::vector<Rec> interleaved(TimeNs t0, int n, uint32_t salt = 0) {
  std::vector<Rec> out;
  for (int i = 0; i < n; ++i) {
    for (const char* id : {"XX.AAA..BHZ", "XX.BBB..BHZ", "YY.CCC.00.HHZ"}) {
      out.push_back(rec(id, t0 + i * kSecond, 100, 100.0, salt));
    }
  }
  return out;
}

}  // namespace

TEST_CASE("every stored record gets a unique sequence number, increasing from write to write with no gap",
          "[store][sequence]") {
  TempDir tmp;
  auto store = open_store(tmp.path(), small_options(4));
  CHECK(store->next_sequence() == 1);
  CHECK(store->first_sequence().value() == 1);

  auto first = write_numbered(*store, interleaved(kT0, 10));
  std::vector<uint64_t> a = first.sequences;
  std::sort(a.begin(), a.end());
  std::vector<uint64_t> expected(30);
  for (size_t i = 0; i < expected.size(); ++i) expected[i] = i + 1;
  CHECK(a == expected);
  CHECK(store->next_sequence() == 31);

  SECTION("duplicates and refused records get none; the next write continues where the last ended") {
    auto batch = interleaved(kT0, 10);                       // all duplicates
    auto more = interleaved(kT0 + 100 * kSecond, 2, 1);      // 6 new
    batch.insert(batch.end(), more.begin(), more.end());
    auto second = write_numbered(*store, batch);
    for (size_t i = 0; i < 30; ++i) {
      CHECK(second.result.outcomes[i] == WriteOutcome::kDuplicate);
      CHECK(second.sequences[i] == 0);
    }
    std::vector<uint64_t> b(second.sequences.begin() + 30, second.sequences.end());
    std::sort(b.begin(), b.end());
    CHECK(b == std::vector<uint64_t>{31, 32, 33, 34, 35, 36});
    CHECK(store->next_sequence() == 37);
  }

  SECTION("within a write, numbers follow the blocks: channel by channel, by start time") {
    auto got = read_seq(*store, 1, 31);
    REQUIRE(got.size() == 30);
    for (size_t i = 1; i < got.size(); ++i) {
      CHECK(got[i].sequence == got[i - 1].sequence + 1);
      if (got[i].source_id == got[i - 1].source_id) {
        // start times increase within a channel's run
        CHECK(got[i].bytes != got[i - 1].bytes);
      }
    }
  }
}

TEST_CASE("read_sequence returns each record once, byte-identical, in number order, from any point",
          "[store][sequence]") {
  TempDir tmp;
  auto store = open_store(tmp.path(), small_options(4));
  std::map<uint64_t, Rec> by_number;
  for (int w = 0; w < 5; ++w) {
    auto recs = interleaved(kT0 + w * 1000 * kSecond, 7, static_cast<uint32_t>(w));
    auto n = write_numbered(*store, recs);
    for (size_t i = 0; i < recs.size(); ++i) by_number[n.sequences[i]] = recs[i];
  }
  REQUIRE(by_number.size() == 105);
  REQUIRE(store->next_sequence() == 106);

  auto all = read_seq(*store, 1, store->next_sequence());
  REQUIRE(all.size() == 105);
  for (size_t i = 0; i < all.size(); ++i) {
    CHECK(all[i].sequence == i + 1);
    const Rec& r = by_number.at(all[i].sequence);
    CHECK(all[i].source_id == r.source_id);
    CHECK(all[i].bytes == r.bytes);
    CHECK(all[i].sha == r.sha);
  }

  SECTION("a window starting and ending inside blocks and writes") {
    for (uint64_t from : {1u, 2u, 20u, 21u, 22u, 50u, 104u, 105u}) {
      for (uint64_t until : {from + 1, from + 3, from + 30, uint64_t{106}, uint64_t{1000}}) {
        auto part = read_seq(*store, from, until);
        const uint64_t end = std::min<uint64_t>(until, 106);
        REQUIRE(part.size() == end - from);
        for (size_t i = 0; i < part.size(); ++i) CHECK(part[i].sequence == from + i);
      }
    }
    CHECK(read_seq(*store, 106, 200).empty());
    CHECK(read_seq(*store, 5, 5).empty());
  }

  SECTION("channels not wanted are skipped; the others keep their order") {
    auto some = read_seq(*store, 1, 106, {"XX.BBB..BHZ"});
    REQUIRE(some.size() == 35);
    for (size_t i = 1; i < some.size(); ++i) CHECK(some[i].sequence > some[i - 1].sequence);
    for (const auto& s : some) CHECK(s.source_id == "XX.BBB..BHZ");
  }

  SECTION("the visitor stops the read") {
    int seen = 0;
    auto st = store->read_sequence(
        1, 106, [](uint32_t, std::string_view) { return true; },
        [&](const StoredRecord&) { return ++seen < 4; });
    CHECK(st.ok());
    CHECK(seen == 4);
  }

  SECTION("time reads carry the same numbers") {
    std::map<Sha256Digest, uint64_t> numbers;
    for (const auto& s : all) numbers[s.sha] = s.sequence;
    auto st = store->read_records({}, {}, [&](const StoredRecord& r) {
      Sha256Digest d;
      std::copy(r.sha256, r.sha256 + 32, d.begin());
      CHECK(r.sequence == numbers.at(d));
      return true;
    });
    CHECK(st.ok());
  }
}

TEST_CASE("sequence numbers and the index survive a reopen; numbering goes on after the last", "[store][sequence]") {
  TempDir tmp;
  std::vector<BySequence> before;
  {
    auto store = open_store(tmp.path());
    write_numbered(*store, interleaved(kT0, 5));
    REQUIRE(store->sync_wal().ok());
    before = read_seq(*store, 1, store->next_sequence());
  }
  auto store = open_store(tmp.path());
  CHECK(store->next_sequence() == 16);
  CHECK(store->first_sequence().value() == 1);
  auto after = read_seq(*store, 1, 100);
  REQUIRE(after.size() == before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    CHECK(after[i].sequence == before[i].sequence);
    CHECK(after[i].bytes == before[i].bytes);
  }
  auto next = write_numbered(*store, interleaved(kT0 + 500 * kSecond, 1));
  std::vector<uint64_t> s = next.sequences;
  std::sort(s.begin(), s.end());
  CHECK(s == std::vector<uint64_t>{16, 17, 18});
}

TEST_CASE("sequence_at finds the first number written at or after a commit time", "[store][sequence]") {
  TempDir tmp;
  auto store = open_store(tmp.path());
  std::vector<std::pair<TimeNs, uint64_t>> marks;  // (time before the write, its first number)
  for (int w = 0; w < 12; ++w) {
    const TimeNs before = now_ns();
    marks.emplace_back(before, store->next_sequence());
    write_numbered(*store, interleaved(kT0 + w * 100 * kSecond, 2, static_cast<uint32_t>(w)));
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
  }
  for (const auto& [t, first] : marks) CHECK(store->sequence_at(t).value() == first);
  CHECK(store->sequence_at(0).value() == 1);
  CHECK(store->sequence_at(now_ns() + kSecond).value() == store->next_sequence());
}

TEST_CASE("an empty store and a store without numbered records answer sensibly", "[store][sequence]") {
  TempDir tmp;
  auto store = open_store(tmp.path());
  CHECK(read_seq(*store, 1, 1000).empty());
  CHECK(store->sequence_at(now_ns()).value() == 1);
  CHECK(store->first_sequence().value() == 1);
}
