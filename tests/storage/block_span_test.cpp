// The bound on a block's time span (kMaxBlockSpanNs) and long records, with
// a real RocksDB: a record far from its neighbours starts a new block, so
// the channel's extent (and with it every later read and duplicate check)
// stays small; a record longer than the bound lives alone in the long column
// family and reads back merged in order with the others.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <string>
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

constexpr TimeNs kHour = 3600 * kSecond;
constexpr TimeNs kYear = 365 * 24 * kHour;

ChannelSummary summary_of(const RecordStore& store, std::string_view source_id) {
  auto r = store.list_channels(sel(source_id));
  INFO((r.ok() ? std::string("ok") : r.status().to_string()));
  REQUIRE(r.ok());
  REQUIRE(r.value().size() == 1);
  return r.value()[0].summary;
}

// A record of `samples` samples at 0.001 Hz (one per 1000 s): with 10 or
// more samples it spans more than kMaxBlockSpanNs.
Rec slow(std::string id, TimeNs start, int64_t samples, uint32_t salt) {
  return rec(std::move(id), start, samples, 0.001, salt, 300);
}

}  // namespace

TEST_CASE("a record years before the others in one write gets its own block, and the channel's extent stays small",
          "[store][blocks][span]") {
  TempDir tmp;
  auto store = open_store(tmp.path(), small_options(32));
  const std::string id = "XX.CLK.00.HHZ";
  std::vector<Rec> recs;
  for (int i = 0; i < 20; ++i) recs.push_back(rec(id, kT0 + i * 10 * kSecond, 100, 100.0, i + 1));
  // A bad clock: one record three years back, in the middle of the write.
  const Rec stray = rec(id, kT0 - 3 * kYear, 100, 100.0, 99);
  recs.insert(recs.begin() + 10, stray);

  const auto w = write_ok(*store, recs);
  CHECK(w.stats.stored == 21);
  CHECK(w.stats.blocks == 2);  // the stray record alone, the 20 good ones together
  const auto s = summary_of(*store, id);
  // The good block: 190 s from its first start to its last end (+0.99 s).
  CHECK(s.max_extent_ns == 190 * kSecond + 99 * kPeriod100Hz);
  CHECK(s.max_extent_ns <= kMaxBlockSpanNs);
  CHECK(s.max_long_extent_ns == 0);
  CHECK(s.first_start_ns == stray.start_ns);

  auto check_reads = [&](const RecordStore& st) {
    auto got = read(st);
    REQUIRE(got.size() == 21);
    check_same(got[0], stray);
    for (int i = 0; i < 20; ++i) check_same(got[static_cast<size_t>(i) + 1], recs[i < 10 ? i : i + 1]);
    got = read_window(st, stray.start_ns, stray.end_ns);
    REQUIRE(got.size() == 1);
    check_same(got[0], stray);
    got = read_window(st, kT0 + 55 * kSecond, kT0 + 70 * kSecond);
    REQUIRE(got.size() == 2);
    check_same(got[0], recs[6]);
    check_same(got[1], recs[7]);
    CHECK(read_window(st, kT0 - 2 * kYear, kT0 - kSecond).empty());
  };
  check_reads(*store);
  // Resends are still found, the stray one and a good one.
  const auto again = write_ok(*store, {stray, recs[15]});
  CHECK(count_of(again.outcomes, WriteOutcome::kDuplicate) == 2);
  store.reset();
  store = open_store(tmp.path(), small_options(32));
  check_reads(*store);
  CHECK(summary_of(*store, id).max_extent_ns == s.max_extent_ns);
}

TEST_CASE("a block ends where its next record would stretch it past the bound", "[store][blocks][span]") {
  TempDir tmp;
  auto store = open_store(tmp.path(), small_options(32));
  const std::string id = "XX.GAP.00.HHZ";
  // One record every 10 minutes, each 0.99 s long: a block takes the records
  // of 50 minutes (six); a seventh, at 60 minutes, would end 0.99 s past the
  // hour.
  std::vector<Rec> recs;
  for (int i = 0; i < 100; ++i) recs.push_back(rec(id, kT0 + i * 600 * kSecond, 100, 100.0, i + 1));
  const auto w = write_ok(*store, recs);
  CHECK(w.stats.stored == 100);
  CHECK(w.stats.blocks == 17);  // ceil(100 / 6)
  const auto s = summary_of(*store, id);
  CHECK(s.max_extent_ns == 3000 * kSecond + 99 * kPeriod100Hz);
  CHECK(s.max_long_extent_ns == 0);

  // A record that ends exactly at the bound still fits.
  TempDir tmp2;
  auto exact = open_store(tmp2.path(), small_options(32));
  const auto w2 = write_ok(*exact, {rec_span(id, kT0, kT0 + kSecond, 1),
                                    rec_span(id, kT0 + 100 * kSecond, kT0 + kMaxBlockSpanNs, 2),
                                    rec_span(id, kT0 + 200 * kSecond, kT0 + kMaxBlockSpanNs + 10 * kMs, 3)});
  CHECK(w2.stats.blocks == 2);
  CHECK(summary_of(*exact, id).max_extent_ns == kMaxBlockSpanNs);
  CHECK(hashes(read(*exact)).size() == 3);
}

TEST_CASE("a record longer than the bound is stored alone, keeps the channel's extent small, and reads back",
          "[store][blocks][span][long]") {
  TempDir tmp;
  auto store = open_store(tmp.path(), small_options(32));
  const std::string id = "XX.SOH.00.VMZ";
  // 0.001 Hz, 20 samples: 19,000 s. Between short records of the same channel.
  const Rec a = rec(id, kT0, 100, 100.0, 1);
  const Rec lng = slow(id, kT0 + 10 * kSecond, 20, 2);
  const Rec b = rec(id, kT0 + 20 * kSecond, 100, 100.0, 3);
  const Rec c = rec(id, kT0 + 30 * kSecond, 100, 100.0, 4);
  REQUIRE(lng.end_ns - lng.start_ns == 19'000 * kSecond);
  const auto w = write_ok(*store, {c, lng, a, b});
  CHECK(w.stats.stored == 4);
  CHECK(w.stats.blocks == 3);  // a | lng (long CF) | b, c
  const auto s = summary_of(*store, id);
  CHECK(s.max_long_extent_ns == 19'000 * kSecond);
  CHECK(s.max_extent_ns == 10 * kSecond + 99 * kPeriod100Hz);
  CHECK(s.last_end_ns == lng.end_ns);

  auto check_reads = [&](const RecordStore& st) {
    auto got = read(st);
    REQUIRE(got.size() == 4);
    check_same(got[0], a);
    check_same(got[1], lng);
    check_same(got[2], b);
    check_same(got[3], c);
    // Windows that cut the long record: after its start, across its end,
    // at its last instant, just past it.
    got = read_window(st, kT0 + 5 * kHour, kT0 + 5 * kHour);
    REQUIRE(got.size() == 1);
    check_same(got[0], lng);
    got = read_window(st, lng.end_ns, lng.end_ns + kHour);
    REQUIRE(got.size() == 1);
    check_same(got[0], lng);
    CHECK(read_window(st, lng.end_ns + 1, lng.end_ns + kHour).empty());
    got = read_window(st, kT0 + 15 * kSecond, kT0 + 25 * kSecond);
    REQUIRE(got.size() == 2);
    check_same(got[0], lng);
    check_same(got[1], b);
  };
  check_reads(*store);
  store.reset();
  store = open_store(tmp.path(), small_options(32));
  check_reads(*store);
}

TEST_CASE("long records are found as duplicates, also after reopening, and the same start with other bytes is kept",
          "[store][dedup][long]") {
  TempDir tmp;
  const std::string id = "XX.SOH.00.VM1";
  std::vector<Rec> longs;
  for (int i = 0; i < 5; ++i) longs.push_back(slow(id, kT0 + i * 20'000 * kSecond, 20, i + 1));
  std::vector<Rec> shorts;
  for (int i = 0; i < 50; ++i) shorts.push_back(rec(id, kT0 + i * 2000 * kSecond, 100, 100.0, 100 + i));
  {
    auto store = open_store(tmp.path(), small_options(8));
    write_ok(*store, longs);
    write_ok(*store, shorts);
    // Resends of every long record, one of them twice in the batch.
    auto w = write_ok(*store, {longs[3], longs[0], longs[4], longs[1], longs[2], longs[0]});
    CHECK(count_of(w.outcomes, WriteOutcome::kDuplicate) == 6);
  }
  auto store = open_store(tmp.path(), small_options(8));
  auto w = write_ok(*store, {longs[2], shorts[7], longs[4]});
  CHECK(count_of(w.outcomes, WriteOutcome::kDuplicate) == 3);
  // Same start as a stored long record, other bytes (a real overlap): kept.
  const Rec other = slow(id, longs[1].start_ns, 20, 77);
  const Rec other_short = rec(id, longs[1].start_ns, 100, 100.0, 78);
  w = write_ok(*store, {other, other_short});
  CHECK(count_of(w.outcomes, WriteOutcome::kStored) == 2);
  const auto got = read_window(*store, longs[1].start_ns, longs[1].start_ns);
  // Arrival order among equal starts, across the two column families:
  // longs[1], shorts[10] (written later), then other and other_short.
  REQUIRE(got.size() == 4);
  check_same(got[0], longs[1]);
  check_same(got[1], shorts[10]);
  check_same(got[2], other);
  check_same(got[3], other_short);
  CHECK(read(*store).size() == longs.size() + shorts.size() + 2);
}

TEST_CASE("reads with long and short records in several channels agree with a brute-force filter",
          "[store][window][model][long]") {
  TempDir tmp;
  auto store = open_store(tmp.path(), small_options(4, 3000));
  std::mt19937 rng(20261130);
  const std::vector<std::string> source_ids = {"XX.L1.00.LHZ", "XX.L2..VMZ", "YY.L1.00.LHZ"};
  StoreModel model;
  const auto& sent = model.stored();  // for resends
  uint32_t salt = 0;
  auto uniform = [&](TimeNs a, TimeNs b) { return std::uniform_int_distribution<TimeNs>(a, b)(rng); };

  for (int batch = 0; batch < 40; ++batch) {
    std::vector<Rec> recs;
    const int n = std::uniform_int_distribution<int>(1, 20)(rng);
    for (int i = 0; i < n; ++i) {
      const int kind = std::uniform_int_distribution<int>(0, 9)(rng);
      if (kind == 0 && !sent.empty()) {  // a resend
        recs.push_back(sent[std::uniform_int_distribution<size_t>(0, sent.size() - 1)(rng)]);
        continue;
      }
      const auto& id = source_ids[std::uniform_int_distribution<size_t>(0, source_ids.size() - 1)(rng)];
      // Starts over three days; a few far away (bad clocks).
      TimeNs start = kT0 + uniform(0, 3 * 86'400) * kSecond;
      if (kind == 1) start += (uniform(0, 1) ? 1 : -1) * uniform(1, 5) * kYear;
      if (kind == 2 || kind == 3) {  // long: 1 h 1 s to 2 days
        recs.push_back(rec_span(id, start, start + uniform(3601, 2 * 86'400) * kSecond, ++salt));
      } else if (kind == 4) {  // just within the bound
        recs.push_back(rec_span(id, start, start + uniform(3000, 3600) * kSecond, ++salt));
      } else if (kind == 5 && !sent.empty()) {  // same start as a stored record, other bytes
        const Rec& o = sent[std::uniform_int_distribution<size_t>(0, sent.size() - 1)(rng)];
        recs.push_back(rec_span(o.source_id, o.start_ns, o.end_ns, ++salt));
      } else {
        recs.push_back(rec(id, start, std::uniform_int_distribution<int64_t>(1, 6000)(rng), 1.0, ++salt,
                           std::uniform_int_distribution<size_t>(64, 700)(rng)));
      }
    }
    model.check_write(recs, write_ok(*store, recs), batch);
  }
  auto check_all = [&](const RecordStore& s) {
    CHECK(hashes(read(s)) == model.expect({}));
    for (int i = 0; i < 80; ++i) {
      const TimeNs a = kT0 + uniform(-86'400, 4 * 86'400) * kSecond;
      const TimeNs b = a + uniform(0, 6 * 3600) * kSecond;
      INFO("window " << format_iso8601(a) << " .. " << format_iso8601(b));
      CHECK(hashes(read(s, {}, {a, b})) == model.expect({a, b}));
    }
    for (const auto& id : source_ids) {
      const auto sm = summary_of(s, id);
      INFO(id);
      CHECK(sm.max_extent_ns <= kMaxBlockSpanNs);
      TimeNs longest = 0;
      for (const auto& r : model.stored()) {
        if (r.source_id == id && r.end_ns - r.start_ns > kMaxBlockSpanNs) {
          longest = std::max(longest, r.end_ns - r.start_ns);
        }
      }
      CHECK(sm.max_long_extent_ns == longest);
    }
  };
  check_all(*store);
  // Everything sent is a duplicate now.
  const auto again = write_ok(*store, sent);
  CHECK(count_of(again.outcomes, WriteOutcome::kDuplicate) == sent.size());
  store.reset();
  store = open_store(tmp.path(), small_options(4, 3000));
  check_all(*store);
}
