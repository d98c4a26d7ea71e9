// RecordStore against a real RocksDB in a temporary directory: what is written
// reads back byte-identical and in order, duplicates are stored once, time
// windows, block packing, the channel catalog and summaries, availability,
// reopening and the schema check. ChannelSelection and SpanMerger are tested
// on their own too.
//
// Records are synthetic byte strings: the store does not parse miniSEED, it
// trusts the metadata that the ingest validator hands it.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include "seisvault/common/sha256.h"
#include "seisvault/common/time.h"
#include "seisvault/storage/availability.h"
#include "seisvault/storage/channel_selection.h"
#include "seisvault/storage/record_store.h"
#include "raw_store.h"
#include "store_test_records.h"
#include "support/temp_dir.h"

using namespace seisvault;
using namespace seisvault::storage;
using seisvault::test::TempDir;
using namespace seisvault::storage_test;

namespace {

std::vector<ChannelInfo> channels(const RecordStore& store, const ChannelSelection& s = {}) {
  auto r = store.list_channels(s);
  INFO((r.ok() ? std::string("ok") : r.status().to_string()));
  REQUIRE(r.ok());
  return r.value();
}

std::vector<ChannelAvailability> avail(const RecordStore& store, TimeWindow w = {},
                                       std::optional<TimeNs> tolerance = {}, const ChannelSelection& s = {}) {
  auto r = store.availability(s, w, tolerance);
  INFO((r.ok() ? std::string("ok") : r.status().to_string()));
  REQUIRE(r.ok());
  return r.value();
}

// Sets or deletes one key of the default column family.
void poke_default_cf(const std::filesystem::path& dir, std::string_view key, std::optional<std::string> value) {
  RawStore raw(dir);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  const rocksdb::Slice k(key.data(), key.size());
  const auto s = value ? raw.db->Put(wo, raw.handles[0], k, *value) : raw.db->Delete(wo, raw.handles[0], k);
  CHECK(s.ok());
}

}  // namespace

// ---------------------------------------------------------------------------
// Writing and reading back
// ---------------------------------------------------------------------------

TEST_CASE("a written record reads back byte-identical with its hash, times, sender and source id", "[store]") {
  TempDir tmp;
  auto store = open_store(tmp.path());
  Rec r = rec("IU.ANMO.00.BHZ", kT0, 400, 40.0, 7, 512);
  r.receive_ns = kT0 + 12 * kSecond + 345;
  r.sender = "anmo-datalogger";

  auto w = write_ok(*store, {r});
  CHECK(w.outcomes == std::vector<WriteOutcome>{WriteOutcome::kStored});
  CHECK(w.stats.stored == 1);
  CHECK(w.stats.duplicates == 0);
  CHECK(w.stats.blocks == 1);

  auto got = read(*store);
  REQUIRE(got.size() == 1);
  check_same(got[0], r);
  CHECK(got[0].channel_id != 0);
}

TEST_CASE("a record without a sender reads back with an empty sender, and senders are kept per record", "[store]") {
  TempDir tmp;
  auto store = open_store(tmp.path());
  Rec a = rec("XX.STA..HHZ", kT0, 100, 100.0, 1);
  a.sender = "";
  Rec b = rec("XX.STA..HHZ", kT0 + kSecond, 100, 100.0, 2);
  b.sender = "station-b";
  Rec c = rec("XX.STA..HHZ", kT0 + 2 * kSecond, 100, 100.0, 3);
  c.sender = "station-c";
  Rec d = rec("XX.STA..HHZ", kT0 + 3 * kSecond, 100, 100.0, 4);
  d.sender = "station-b";
  write_ok(*store, {a, b});
  write_ok(*store, {c, d});

  auto got = read(*store);
  REQUIRE(got.size() == 4);
  check_same(got[0], a);
  check_same(got[1], b);
  check_same(got[2], c);
  check_same(got[3], d);
}

TEST_CASE("records come back by start time within a channel and by source id across channels, "
          "whatever the write order",
          "[store][order]") {
  TempDir tmp;
  // Small blocks so that one write makes several blocks per channel.
  auto store = open_store(tmp.path(), small_options(3));

  const std::vector<std::string> source_ids = {"IU.ANMO.00.BHZ", "CH.DAVOX..HHZ", "IU.ANMO..BHZ", "IU.ANMO.00.BHN",
                                               "AA.ZZZ.10.LHZ"};
  // Each channel: 12 records of 1 s at 100 Hz, back to back.
  std::vector<Rec> all;
  for (size_t c = 0; c < source_ids.size(); ++c) {
    for (int i = 0; i < 12; ++i) {
      all.push_back(rec(source_ids[c], kT0 + i * kSecond, 100, 100.0, static_cast<uint32_t>(c * 100 + i)));
    }
  }

  // Write 1: records 4..7 of every channel, shuffled.
  // Write 2: records 8..11, shuffled (later than everything stored).
  // Write 3: records 0..3 (backfill: older than everything stored), shuffled,
  //          together with a record that falls between stored ones.
  std::mt19937 rng(42);
  auto pick = [&](int from, int to, std::vector<int> extra = {}) {
    std::vector<Rec> out;
    for (size_t c = 0; c < source_ids.size(); ++c) {
      for (int i = from; i <= to; ++i) out.push_back(all[c * 12 + i]);
      for (int i : extra) out.push_back(all[c * 12 + i]);
    }
    std::shuffle(out.begin(), out.end(), rng);
    return out;
  };
  // Leave record 6 out of write 1; it arrives with the backfill in write 3.
  auto w1 = pick(4, 5, {7});
  auto w2 = pick(8, 11);
  auto w3 = pick(0, 3, {6});
  CHECK(write_ok(*store, w1).stats.stored == w1.size());
  CHECK(write_ok(*store, w2).stats.stored == w2.size());
  CHECK(write_ok(*store, w3).stats.stored == w3.size());

  std::vector<Rec> expected = all;
  std::stable_sort(expected.begin(), expected.end(), [](const Rec& a, const Rec& b) {
    return std::tie(a.source_id, a.start_ns) < std::tie(b.source_id, b.start_ns);
  });

  auto got = read(*store);
  REQUIRE(got.size() == expected.size());
  for (size_t i = 0; i < got.size(); ++i) check_same(got[i], expected[i]);

  // Channels come in source-id order, each once.
  auto order = ids(got);
  CHECK(std::is_sorted(order.begin(), order.end()));

  // The same holds in a window that starts in the backfilled blocks and ends
  // in the newest ones.
  auto mid = read_window(*store, kT0 + 2 * kSecond + 500 * kMs, kT0 + 9 * kSecond);
  std::vector<Rec> expected_mid;
  for (const auto& r : expected) {
    if (r.start_ns <= kT0 + 9 * kSecond && r.end_ns >= kT0 + 2 * kSecond + 500 * kMs) expected_mid.push_back(r);
  }
  REQUIRE(mid.size() == expected_mid.size());
  for (size_t i = 0; i < mid.size(); ++i) check_same(mid[i], expected_mid[i]);
}

TEST_CASE("records in overlapping blocks from several writes are merged into start-time order", "[store][order]") {
  TempDir tmp;
  auto store = open_store(tmp.path(), small_options(32));
  const std::string id = "XX.OVL.00.HHZ";
  // Write 1: a block with records at 10, 20, 30 s.
  // Write 2: a block with records at 5, 15, 25, 35 s: it starts before write
  //          1's block and interleaves with it.
  // Write 3: a block with records at 12, 22 s, inside both.
  std::vector<Rec> w1 = {rec(id, kT0 + 10 * kSecond, 100, 100.0, 1), rec(id, kT0 + 20 * kSecond, 100, 100.0, 2),
                         rec(id, kT0 + 30 * kSecond, 100, 100.0, 3)};
  std::vector<Rec> w2 = {rec(id, kT0 + 35 * kSecond, 100, 100.0, 4), rec(id, kT0 + 5 * kSecond, 100, 100.0, 5),
                         rec(id, kT0 + 25 * kSecond, 100, 100.0, 6), rec(id, kT0 + 15 * kSecond, 100, 100.0, 7)};
  std::vector<Rec> w3 = {rec(id, kT0 + 22 * kSecond, 100, 100.0, 8), rec(id, kT0 + 12 * kSecond, 100, 100.0, 9)};
  CHECK(write_ok(*store, w1).stats.blocks == 1);
  CHECK(write_ok(*store, w2).stats.blocks == 1);
  CHECK(write_ok(*store, w3).stats.blocks == 1);

  const std::vector<TimeNs> expected = {5, 10, 12, 15, 20, 22, 25, 30, 35};
  auto to_ns = [](const std::vector<TimeNs>& secs) {
    std::vector<TimeNs> out;
    for (auto s : secs) out.push_back(kT0 + s * kSecond);
    return out;
  };
  CHECK(starts(read(*store)) == to_ns(expected));
  CHECK(starts(read_window(*store, kT0 + 13 * kSecond, kT0 + 26 * kSecond)) == to_ns({15, 20, 22, 25}));
  // A window that begins inside a record (22 s .. 22.99 s) includes it.
  CHECK(starts(read_window(*store, kT0 + 22 * kSecond + 500 * kMs, kT0 + 24 * kSecond)) == to_ns({22}));
}

TEST_CASE("records with the same start read back in arrival order", "[store][order]") {
  TempDir tmp;
  auto store = open_store(tmp.path(), small_options(2));
  const std::string id = "XX.EQ.00.HHZ";
  // Same start, different bytes: a real overlap, both kept.
  Rec a = rec(id, kT0 + 5 * kSecond, 100, 100.0, 1);
  Rec b = rec(id, kT0 + 5 * kSecond, 100, 100.0, 2);
  Rec c = rec(id, kT0 + 5 * kSecond, 100, 100.0, 3);
  Rec early = rec(id, kT0, 100, 100.0, 4);
  Rec d = rec(id, kT0 + 5 * kSecond, 100, 100.0, 5);
  Rec e = rec(id, kT0 + 5 * kSecond, 100, 100.0, 6);

  write_ok(*store, {a, b, c});
  // A later write whose block starts before the earlier ones.
  write_ok(*store, {e, early, d});  // e arrives before d in this batch

  auto got = read(*store);
  REQUIRE(got.size() == 6);
  CHECK(hashes(got) == hashes(std::vector<Rec>{early, a, b, c, e, d}));
}

TEST_CASE("times before 1970 and at the ends of the time range sort and read back correctly", "[store][order]") {
  TempDir tmp;
  auto store = open_store(tmp.path(), small_options(2));
  const std::string id = "XX.EDGE.00.LOG";
  Rec min = rec(id, kTimeMin, 1, 0.0, 1, 64);
  Rec old = rec(id, -2'208'988'800 * kSecond, 100, 100.0, 2);  // 1900-01-01
  Rec before_epoch = rec(id, -kSecond, 100, 100.0, 3);          // straddles the epoch
  Rec epoch = rec(id, 0, 100, 100.0, 4);
  Rec now = rec(id, kT0, 100, 100.0, 5);
  Rec max = rec(id, kTimeMax, 1, 0.0, 6, 64);
  write_ok(*store, {now, max, epoch});
  write_ok(*store, {before_epoch, min, old});

  CHECK(hashes(read(*store)) == hashes(std::vector<Rec>{min, old, before_epoch, epoch, now, max}));
  CHECK(hashes(read_window(*store, -500 * kMs, -500 * kMs)) == hashes(std::vector<Rec>{before_epoch}));
  CHECK(hashes(read_window(*store, kTimeMax, kTimeMax)) == hashes(std::vector<Rec>{max}));
  CHECK(hashes(read_window(*store, kTimeMin, kTimeMin)) == hashes(std::vector<Rec>{min}));
  auto w = write_ok(*store, {max, min, before_epoch});
  CHECK(count_of(w.outcomes, WriteOutcome::kDuplicate) == 3);
}

// ---------------------------------------------------------------------------
// Duplicates
// ---------------------------------------------------------------------------

TEST_CASE("a record written twice in one batch is stored once and reported as duplicate", "[store][dedup]") {
  TempDir tmp;
  auto store = open_store(tmp.path());
  Rec a = rec("XX.DUP.00.HHZ", kT0, 100, 100.0, 1);
  Rec b = rec("XX.DUP.00.HHZ", kT0 + kSecond, 100, 100.0, 2);

  auto w = write_ok(*store, {a, b, a});
  CHECK(w.outcomes == std::vector<WriteOutcome>{WriteOutcome::kStored, WriteOutcome::kStored, WriteOutcome::kDuplicate});
  CHECK(w.stats.stored == 2);
  CHECK(w.stats.duplicates == 1);

  auto got = read(*store);
  REQUIRE(got.size() == 2);
  check_same(got[0], a);
  check_same(got[1], b);
  auto ch = channels(*store);
  REQUIRE(ch.size() == 1);
  CHECK(ch[0].summary.record_count == 2);
  CHECK(ch[0].summary.byte_count == a.bytes.size() + b.bytes.size());
}

TEST_CASE("a record resent in a later write is reported as duplicate and not stored again", "[store][dedup]") {
  TempDir tmp;
  auto store = open_store(tmp.path(), small_options(4));
  const std::string id = "XX.DUP.00.HHZ";
  std::vector<Rec> first;
  for (int i = 0; i < 10; ++i) first.push_back(rec(id, kT0 + i * kSecond, 100, 100.0, static_cast<uint32_t>(i)));
  write_ok(*store, first);

  // The whole batch again (a station resending what it had no ack for), plus
  // one new record, in another order.
  std::vector<Rec> again(first.rbegin(), first.rend());
  Rec fresh = rec(id, kT0 + 10 * kSecond, 100, 100.0, 10);
  again.insert(again.begin() + 3, fresh);
  auto w = write_ok(*store, again);
  CHECK(w.stats.stored == 1);
  CHECK(w.stats.duplicates == 10);
  CHECK(w.stats.blocks == 1);
  for (size_t i = 0; i < again.size(); ++i) {
    INFO("record " << i);
    CHECK(w.outcomes[i] == (i == 3 ? WriteOutcome::kStored : WriteOutcome::kDuplicate));
  }

  auto got = read(*store);
  REQUIRE(got.size() == 11);
  auto ch = channels(*store);
  REQUIRE(ch.size() == 1);
  CHECK(ch[0].summary.record_count == 11);
}

TEST_CASE("a resent record is a duplicate after the store is closed and reopened", "[store][dedup][reopen]") {
  TempDir tmp;
  const std::string id = "XX.DUP.00.HHZ";
  std::vector<Rec> recs;
  for (int i = 0; i < 6; ++i) recs.push_back(rec(id, kT0 + i * kSecond, 100, 100.0, static_cast<uint32_t>(i)));
  {
    auto store = open_store(tmp.path(), small_options(4));
    write_ok(*store, recs);
  }
  auto store = open_store(tmp.path(), small_options(4));
  auto w = write_ok(*store, recs);
  CHECK(count_of(w.outcomes, WriteOutcome::kDuplicate) == recs.size());
  CHECK(w.stats.stored == 0);
  CHECK(w.stats.blocks == 0);
  CHECK(read(*store).size() == recs.size());
}

TEST_CASE("a backfilled record older than the channel's last start is still recognised as a duplicate",
          "[store][dedup]") {
  TempDir tmp;
  auto store = open_store(tmp.path(), small_options(5));
  const std::string id = "XX.BKF.00.HHZ";
  std::vector<Rec> recs;
  for (int i = 0; i < 20; ++i) recs.push_back(rec(id, kT0 + i * kSecond, 100, 100.0, static_cast<uint32_t>(i)));
  // Newer records first, then older ones (backfill after an outage).
  write_ok(*store, std::vector<Rec>(recs.begin() + 10, recs.end()));
  write_ok(*store, std::vector<Rec>(recs.begin(), recs.begin() + 10));

  // Resend some from the middle of blocks, from the first block, from the
  // backfilled blocks, each alone and together.
  for (int i : {0, 3, 7, 9, 10, 12, 14, 19}) {
    INFO("record " << i);
    auto w = write_ok(*store, {recs[static_cast<size_t>(i)]});
    CHECK(w.outcomes[0] == WriteOutcome::kDuplicate);
  }
  auto w = write_ok(*store, {recs[2], recs[13], recs[5], recs[18]});
  CHECK(count_of(w.outcomes, WriteOutcome::kDuplicate) == 4);

  // After reopen too.
  store.reset();
  store = open_store(tmp.path(), small_options(5));
  w = write_ok(*store, {recs[1], recs[11]});
  CHECK(count_of(w.outcomes, WriteOutcome::kDuplicate) == 2);
  CHECK(read(*store).size() == 20);
}

TEST_CASE("a long record is recognised as a duplicate even when later records follow it", "[store][dedup]") {
  TempDir tmp;
  auto store = open_store(tmp.path(), small_options(4));
  const std::string id = "XX.LONG.00.LHZ";
  // One record spanning a day in a block with a short one before it.
  Rec shorter = rec(id, kT0, 100, 100.0, 1);
  Rec day = rec_span(id, kT0 + kSecond, kT0 + 86'400 * kSecond, 2);
  write_ok(*store, {shorter, day});
  std::vector<Rec> later;
  for (int i = 0; i < 12; ++i) later.push_back(rec(id, kT0 + (100 + i) * kSecond, 100, 100.0, 10 + i));
  write_ok(*store, later);

  auto w = write_ok(*store, {day, later[5], shorter});
  CHECK(count_of(w.outcomes, WriteOutcome::kDuplicate) == 3);
}

TEST_CASE("two records with the same channel and start but different bytes are both stored and both read back",
          "[store][dedup]") {
  TempDir tmp;
  auto store = open_store(tmp.path());
  const std::string id = "XX.OVL.00.HHZ";
  Rec a = rec(id, kT0, 100, 100.0, 1);
  Rec b = rec(id, kT0, 100, 100.0, 2);  // same start and length, other bytes
  Rec c = rec(id, kT0, 150, 100.0, 3, 300);  // same start, another length

  SECTION("in one batch") {
    auto w = write_ok(*store, {a, b, c});
    CHECK(count_of(w.outcomes, WriteOutcome::kStored) == 3);
  }
  SECTION("in separate writes") {
    CHECK(write_ok(*store, {a}).outcomes[0] == WriteOutcome::kStored);
    CHECK(write_ok(*store, {b}).outcomes[0] == WriteOutcome::kStored);
    CHECK(write_ok(*store, {c}).outcomes[0] == WriteOutcome::kStored);
  }
  auto got = read(*store);
  REQUIRE(got.size() == 3);
  check_same(got[0], a);
  check_same(got[1], b);
  check_same(got[2], c);
  CHECK(channels(*store)[0].summary.record_count == 3);

  // Each is still deduplicated against itself.
  auto w = write_ok(*store, {c, a, b});
  CHECK(count_of(w.outcomes, WriteOutcome::kDuplicate) == 3);
}

TEST_CASE("the same bytes in another channel are not a duplicate", "[store][dedup]") {
  TempDir tmp;
  auto store = open_store(tmp.path());
  Rec a = rec("XX.ONE.00.HHZ", kT0, 100, 100.0, 1);
  Rec b = a;
  b.source_id = "XX.TWO.00.HHZ";
  write_ok(*store, {a});
  auto w = write_ok(*store, {b, a});
  CHECK(w.outcomes == std::vector<WriteOutcome>{WriteOutcome::kStored, WriteOutcome::kDuplicate});
  auto got = read(*store);
  REQUIRE(got.size() == 2);
  CHECK(got[0].source_id == "XX.ONE.00.HHZ");
  CHECK(got[1].source_id == "XX.TWO.00.HHZ");
}

// ---------------------------------------------------------------------------
// Time windows
// ---------------------------------------------------------------------------

TEST_CASE("a window read includes overlapping records whole and leaves out records outside it", "[store][window]") {
  TempDir tmp;
  auto store = open_store(tmp.path());
  const std::string id = "XX.WIN.00.HHZ";
  const TimeNs begin = kT0 + 100 * kSecond;
  const TimeNs end = kT0 + 200 * kSecond;
  Rec before = rec_span(id, kT0, kT0 + 50 * kSecond, 1);                           // entirely before
  Rec into = rec_span(id, kT0 + 60 * kSecond, kT0 + 110 * kSecond, 2);             // starts before, ends inside
  Rec inside = rec_span(id, kT0 + 120 * kSecond, kT0 + 130 * kSecond, 3);          // inside
  Rec spanning = rec_span(id, kT0 + 90 * kSecond, kT0 + 250 * kSecond, 4);         // covers the whole window
  Rec out_of = rec_span(id, kT0 + 190 * kSecond, kT0 + 260 * kSecond, 5);          // starts inside, ends after
  Rec after = rec_span(id, kT0 + 210 * kSecond, kT0 + 300 * kSecond, 6);           // entirely after
  write_ok(*store, {after, inside, before});
  write_ok(*store, {out_of, spanning, into});

  auto got = read_window(*store, begin, end);
  REQUIRE(got.size() == 4);
  check_same(got[0], into);
  check_same(got[1], spanning);
  check_same(got[2], inside);
  check_same(got[3], out_of);
}

TEST_CASE("window bounds are inclusive", "[store][window]") {
  TempDir tmp;
  auto store = open_store(tmp.path());
  const std::string id = "XX.WIN.00.HHZ";
  const TimeNs begin = kT0 + 100 * kSecond;
  const TimeNs end = kT0 + 200 * kSecond;
  Rec ends_at_begin = rec_span(id, kT0 + 90 * kSecond, begin, 1);
  Rec ends_before_begin = rec_span(id, kT0 + 80 * kSecond, begin - 1, 2);
  Rec starts_at_end = rec_span(id, end, end + 10 * kSecond, 3);
  Rec starts_after_end = rec_span(id, end + 1, end + 10 * kSecond, 4);
  write_ok(*store, {ends_at_begin, ends_before_begin, starts_at_end, starts_after_end});

  auto got = read_window(*store, begin, end);
  REQUIRE(got.size() == 2);
  check_same(got[0], ends_at_begin);
  check_same(got[1], starts_at_end);

  // A window of a single instant.
  CHECK(hashes(read_window(*store, begin, begin)) == hashes(std::vector<Rec>{ends_at_begin}));
  CHECK(hashes(read_window(*store, end, end)) == hashes(std::vector<Rec>{starts_at_end}));
  CHECK(read_window(*store, begin - 1, begin - 1).size() == 2);  // ends_before_begin and ends_at_begin
}

TEST_CASE("a window or selection without data gives an empty result and OK", "[store][window]") {
  TempDir tmp;
  auto store = open_store(tmp.path());

  SECTION("empty store") {
    CHECK(read(*store).empty());
    CHECK(channels(*store).empty());
    CHECK(avail(*store).empty());
  }
  SECTION("window before, between and after the data") {
    const std::string id = "XX.WIN.00.HHZ";
    write_ok(*store, {rec(id, kT0, 100, 100.0, 1), rec(id, kT0 + 100 * kSecond, 100, 100.0, 2)});
    CHECK(read_window(*store, kT0 - 100 * kSecond, kT0 - 1).empty());
    CHECK(read_window(*store, kT0 + 2 * kSecond, kT0 + 99 * kSecond).empty());
    CHECK(read_window(*store, kT0 + 101 * kSecond, kT0 + 1000 * kSecond).empty());
    CHECK(avail(*store, {kT0 + 2 * kSecond, kT0 + 99 * kSecond}).empty());
  }
  SECTION("no channel selected") {
    write_ok(*store, {rec("XX.WIN.00.HHZ", kT0)});
    CHECK(read(*store, sel("IU.*")).empty());
    CHECK(channels(*store, sel("IU.*")).empty());
    CHECK(avail(*store, {}, {}, sel("IU.*")).empty());
  }
}

TEST_CASE("a visitor returning false stops the read", "[store][window]") {
  TempDir tmp;
  auto store = open_store(tmp.path(), small_options(3));
  std::vector<Rec> recs;
  for (const char* id : {"XX.A.00.HHZ", "XX.B.00.HHZ", "XX.C.00.HHZ"}) {
    for (int i = 0; i < 10; ++i) recs.push_back(rec(id, kT0 + i * kSecond, 100, 100.0, static_cast<uint32_t>(i)));
  }
  write_ok(*store, recs);

  for (size_t stop_after : {size_t{1}, size_t{2}, size_t{3}, size_t{4}, size_t{10}, size_t{11}, size_t{25}}) {
    INFO("stop after " << stop_after);
    std::vector<Got> seen;
    auto st = store->read_records({}, {}, [&](const StoredRecord& r) {
      seen.push_back(copy_of(r));
      return seen.size() < stop_after;
    });
    CHECK(st.ok());
    REQUIRE(seen.size() == stop_after);
    for (size_t i = 0; i < seen.size(); ++i) check_same(seen[i], recs[i]);
  }
}

// ---------------------------------------------------------------------------
// Blocks
// ---------------------------------------------------------------------------

TEST_CASE("records are packed into blocks of at most block_max_records per channel", "[store][blocks]") {
  TempDir tmp;
  auto store = open_store(tmp.path(), small_options(4));
  std::vector<Rec> recs;
  for (int i = 0; i < 10; ++i) recs.push_back(rec("XX.A.00.HHZ", kT0 + i * kSecond, 100, 100.0, i));
  for (int i = 0; i < 8; ++i) recs.push_back(rec("XX.B.00.HHZ", kT0 + i * kSecond, 100, 100.0, i));
  recs.push_back(rec("XX.C.00.HHZ", kT0, 100, 100.0, 0));
  std::shuffle(recs.begin(), recs.end(), std::mt19937(7));

  auto w = write_ok(*store, recs);
  CHECK(w.stats.stored == 19);
  CHECK(w.stats.duplicates == 0);
  CHECK(w.stats.blocks == 3 + 2 + 1);  // ceil(10/4) + ceil(8/4) + 1

  // 200 more records of A in one write: 50 blocks.
  std::vector<Rec> more;
  for (int i = 10; i < 210; ++i) more.push_back(rec("XX.A.00.HHZ", kT0 + i * kSecond, 100, 100.0, i));
  w = write_ok(*store, more);
  CHECK(w.stats.blocks == 50);

  auto got = read(*store, sel("XX.A"));
  REQUIRE(got.size() == 210);
  for (int i = 0; i < 210; ++i) CHECK(got[static_cast<size_t>(i)].start_ns == kT0 + i * kSecond);
  CHECK(read(*store).size() == 219);
}

TEST_CASE("records are packed into blocks of at most block_max_bytes, an oversized record alone",
          "[store][blocks]") {
  TempDir tmp;
  auto store = open_store(tmp.path(), small_options(32, 1000));
  const std::string id = "XX.BYT.00.HHZ";
  std::vector<Rec> recs;
  // 6 x 400 bytes: two fit in 1000 bytes, three do not -> 3 blocks.
  for (int i = 0; i < 6; ++i) recs.push_back(rec(id, kT0 + i * kSecond, 100, 100.0, i, 400));
  // A 3000-byte record still gets stored, in a block of its own.
  Rec big = rec(id, kT0 + 6 * kSecond, 100, 100.0, 6, 3000);
  recs.push_back(big);
  recs.push_back(rec(id, kT0 + 7 * kSecond, 100, 100.0, 7, 400));

  auto w = write_ok(*store, recs);
  CHECK(w.stats.stored == 8);
  CHECK(w.stats.blocks == 5);
  auto got = read(*store);
  REQUIRE(got.size() == 8);
  for (size_t i = 0; i < got.size(); ++i) check_same(got[i], recs[i]);
}

TEST_CASE("a long record is found by windows far after its start", "[store][blocks][window]") {
  TempDir tmp;
  auto store = open_store(tmp.path(), small_options(4));
  const std::string id = "XX.LONG.00.LHZ";
  // A record spanning a day, sharing its block with a short record before it,
  // then many short records written later (other blocks, other writes).
  Rec shorter = rec(id, kT0, 100, 100.0, 1);
  Rec day = rec_span(id, kT0 + kSecond, kT0 + 86'400 * kSecond, 2);
  write_ok(*store, {day, shorter});
  std::vector<Rec> later;
  for (int i = 0; i < 40; ++i) later.push_back(rec(id, kT0 + (3600 + i * 600) * kSecond, 100, 100.0, 10 + i));
  write_ok(*store, later);

  auto check_windows = [&](const RecordStore& s) {
    // Noon: only the long record and the short ones that overlap noon.
    auto got = read(s, {}, {kT0 + 43'200 * kSecond, kT0 + 43'200 * kSecond});
    REQUIRE(got.size() == 1);
    check_same(got[0], day);
    // Its last instant.
    got = read(s, {}, {kT0 + 86'400 * kSecond, kT0 + 90'000 * kSecond});
    REQUIRE(got.size() == 1);
    check_same(got[0], day);
    // Just after its end: nothing.
    CHECK(read(s, {}, {kT0 + 86'400 * kSecond + 1, kT0 + 90'000 * kSecond}).empty());
    // A window covering some of the later records: they and the long one, in start order.
    got = read(s, {}, {kT0 + 3600 * kSecond, kT0 + 4800 * kSecond});
    REQUIRE(got.size() == 4);
    check_same(got[0], day);
    check_same(got[1], later[0]);
    check_same(got[2], later[1]);
    check_same(got[3], later[2]);
    // Availability sees it too.
    auto a = avail(s, {kT0 + 50'000 * kSecond, kT0 + 50'001 * kSecond});
    REQUIRE(a.size() == 1);
    REQUIRE(a[0].spans.size() == 1);
    CHECK(a[0].spans[0].start_ns == day.start_ns);
    CHECK(a[0].spans[0].end_ns == day.end_ns);
  };
  check_windows(*store);
  store.reset();
  store = open_store(tmp.path(), small_options(4));
  check_windows(*store);
}

TEST_CASE("window reads agree with a brute-force filter over everything written", "[store][window][model]") {
  TempDir tmp;
  auto store = open_store(tmp.path(), small_options(3, 2000));
  std::mt19937 rng(20240601);
  const std::vector<std::string> source_ids = {"XX.M1.00.HHZ", "XX.M2..HHZ", "YY.M1.00.LHZ"};

  StoreModel model;
  const auto& sent = model.stored();  // for resends
  uint32_t salt = 0;

  for (int batch = 0; batch < 40; ++batch) {
    std::vector<Rec> recs;
    const int n = std::uniform_int_distribution<int>(1, 25)(rng);
    for (int i = 0; i < n; ++i) {
      const int kind = std::uniform_int_distribution<int>(0, 19)(rng);
      if (kind == 0 && !sent.empty()) {  // a resend
        recs.push_back(sent[std::uniform_int_distribution<size_t>(0, sent.size() - 1)(rng)]);
        continue;
      }
      const auto& id = source_ids[std::uniform_int_distribution<size_t>(0, source_ids.size() - 1)(rng)];
      const TimeNs start = kT0 + std::uniform_int_distribution<TimeNs>(0, 1000)(rng) * kSecond +
                           std::uniform_int_distribution<TimeNs>(0, 99)(rng) * kPeriod100Hz;
      Rec r;
      if (kind == 1) {
        r = rec_span(id, start, start + std::uniform_int_distribution<TimeNs>(100, 3000)(rng) * kSecond, ++salt);
      } else if (kind == 2) {
        r = rec(id, start, 1, 0.0, ++salt, 64);  // a log record: no rate, start == end
      } else if (kind == 3 && !sent.empty()) {  // same start as a stored record, other bytes
        const Rec& o = sent[std::uniform_int_distribution<size_t>(0, sent.size() - 1)(rng)];
        r = rec(o.source_id, o.start_ns, 200, 100.0, ++salt);
      } else {
        r = rec(id, start, std::uniform_int_distribution<int64_t>(1, 3000)(rng), 100.0, ++salt,
                std::uniform_int_distribution<size_t>(64, 700)(rng));
      }
      recs.push_back(std::move(r));
    }
    model.check_write(recs, write_ok(*store, recs), batch);
  }

  auto check_all = [&](const RecordStore& s) {
    CHECK(hashes(read(s)) == model.expect({}));
    for (int i = 0; i < 60; ++i) {
      TimeNs a = kT0 + std::uniform_int_distribution<TimeNs>(-100, 4200)(rng) * kSecond;
      TimeNs b = a + std::uniform_int_distribution<TimeNs>(0, 300)(rng) * kSecond;
      INFO("window " << format_iso8601(a) << " .. " << format_iso8601(b));
      CHECK(hashes(read(s, {}, {a, b})) == model.expect({a, b}));
    }
    // The summaries agree with the model.
    for (const auto& info : channels(s)) {
      uint64_t count = 0, bytes = 0;
      TimeNs first = kTimeMax, last = kTimeMin;
      for (const auto& r : model.stored()) {
        if (r.source_id != info.source_id) continue;
        ++count;
        bytes += r.bytes.size();
        first = std::min(first, r.start_ns);
        last = std::max(last, r.end_ns);
      }
      INFO(info.source_id);
      CHECK(info.summary.record_count == count);
      CHECK(info.summary.byte_count == bytes);
      CHECK(info.summary.first_start_ns == first);
      CHECK(info.summary.last_end_ns == last);
    }
  };
  check_all(*store);
  store.reset();
  store = open_store(tmp.path(), small_options(3, 2000));
  check_all(*store);
}

// ---------------------------------------------------------------------------
// Channel selection
// ---------------------------------------------------------------------------

TEST_CASE("SEED patterns match with ? for one character and * for any run", "[selection]") {
  CHECK(seed_pattern_matches("BHZ", "BHZ"));
  CHECK_FALSE(seed_pattern_matches("BHZ", "BHN"));
  CHECK(seed_pattern_matches("BH?", "BHZ"));
  CHECK_FALSE(seed_pattern_matches("BH?", "BH"));
  CHECK_FALSE(seed_pattern_matches("BH?", "BHZZ"));
  CHECK(seed_pattern_matches("?H?", "LHZ"));
  CHECK(seed_pattern_matches("*", "BHZ"));
  CHECK(seed_pattern_matches("*", ""));
  CHECK(seed_pattern_matches("", ""));
  CHECK_FALSE(seed_pattern_matches("", "00"));
  CHECK_FALSE(seed_pattern_matches("?", ""));
  CHECK(seed_pattern_matches("*Z", "BHZ"));
  CHECK_FALSE(seed_pattern_matches("*Z", "BHN"));
  CHECK(seed_pattern_matches("B*", "BHZ"));
  CHECK(seed_pattern_matches("A*M*", "ANMO"));
  CHECK(seed_pattern_matches("*N*O", "ANMO"));
  CHECK(seed_pattern_matches("A**O", "ANMO"));
  CHECK_FALSE(seed_pattern_matches("A*X", "ANMO"));
  CHECK(seed_pattern_matches("*?", "A"));
  CHECK_FALSE(seed_pattern_matches("*??", "A"));
  CHECK_FALSE(seed_pattern_matches("bhz", "BHZ"));  // case-sensitive
}

TEST_CASE("a selection parses wildcards, comma lists, several patterns and -- for an empty location",
          "[selection]") {
  SECTION("a full id") {
    auto s = sel("IU.ANMO.00.BHZ");
    CHECK(s.matches("IU.ANMO.00.BHZ"));
    CHECK_FALSE(s.matches("IU.ANMO..BHZ"));
    CHECK_FALSE(s.matches("IU.ANMO.10.BHZ"));
    CHECK_FALSE(s.matches("IU.COLA.00.BHZ"));
    CHECK_FALSE(s.matches("IU.ANMO.00.BHZ.X"));
    CHECK_FALSE(s.matches("IU.ANMO.00"));
  }
  SECTION("wildcards in every field") {
    auto s = sel("I?.AN*.*.BH?");
    CHECK(s.matches("IU.ANMO.00.BHZ"));
    CHECK(s.matches("IU.ANMO..BHZ"));
    CHECK(s.matches("II.ANTO.10.BHN"));
    CHECK_FALSE(s.matches("IU.ANMO.00.LHZ"));
    CHECK_FALSE(s.matches("GE.ANMO.00.BHZ"));
    CHECK_FALSE(s.matches("IU.COLA.00.BHZ"));
  }
  SECTION("comma lists") {
    auto s = sel("IU.ANMO,COLA.00,10.BHZ,LH?");
    CHECK(s.matches("IU.ANMO.00.BHZ"));
    CHECK(s.matches("IU.COLA.10.LHN"));
    CHECK_FALSE(s.matches("IU.MAJO.00.BHZ"));
    CHECK_FALSE(s.matches("IU.ANMO.20.BHZ"));
    CHECK_FALSE(s.matches("IU.ANMO.00.BHN"));
    REQUIRE(s.patterns().size() == 1);
    CHECK(s.patterns()[0].station == std::vector<std::string>{"ANMO", "COLA"});
  }
  SECTION("several patterns separated by spaces or ;") {
    auto s = sel("IU.ANMO.00.BHZ  CH.*.--.LH*;GE.WLF");
    CHECK(s.patterns().size() == 3);
    CHECK(s.matches("IU.ANMO.00.BHZ"));
    CHECK(s.matches("CH.DAVOX..LHZ"));
    CHECK_FALSE(s.matches("CH.DAVOX.00.LHZ"));
    CHECK(s.matches("GE.WLF..BHZ"));
    CHECK(s.matches("GE.WLF.00.HHN"));
    CHECK_FALSE(s.matches("GE.APE..BHZ"));
  }
  SECTION("-- and an empty field select only the empty location") {
    for (const char* text : {"IU.ANMO.--.BHZ", "IU.ANMO..BHZ"}) {
      INFO(text);
      auto s = sel(text);
      CHECK(s.matches("IU.ANMO..BHZ"));
      CHECK_FALSE(s.matches("IU.ANMO.00.BHZ"));
      CHECK_FALSE(s.matches("IU.ANMO.--.BHZ"));
    }
    auto s = sel("IU.ANMO.--,00.BHZ");
    CHECK(s.matches("IU.ANMO..BHZ"));
    CHECK(s.matches("IU.ANMO.00.BHZ"));
    CHECK_FALSE(s.matches("IU.ANMO.10.BHZ"));
  }
  SECTION("missing trailing fields mean any") {
    auto s = sel("IU");
    CHECK(s.matches("IU.ANMO.00.BHZ"));
    CHECK(s.matches("IU.COLA..LHN"));
    CHECK_FALSE(s.matches("II.ANMO.00.BHZ"));
    auto t = sel("IU.ANMO");
    CHECK(t.matches("IU.ANMO..BHZ"));
    CHECK_FALSE(t.matches("IU.COLA..BHZ"));
    auto u = sel("IU.ANMO.00");
    CHECK(u.matches("IU.ANMO.00.LHZ"));
    CHECK_FALSE(u.matches("IU.ANMO..LHZ"));
  }
  SECTION("matching is case-sensitive") {
    auto s = sel("iu.anmo");
    CHECK_FALSE(s.matches("IU.ANMO.00.BHZ"));
    CHECK(s.matches("iu.anmo.00.BHZ"));
  }
  SECTION("the default selection selects everything") {
    ChannelSelection s;
    CHECK(s.matches("IU.ANMO.00.BHZ"));
    CHECK(s.matches("IU.ANMO..BHZ"));
    CHECK(s.matches("..."));
  }
}

TEST_CASE("a malformed selection is refused with InvalidArgument", "[selection]") {
  for (const char* text : {"IU.ANMO.00.BHZ.X", "IU.ANMO.00.BHZ.", "IU..00.BHZ", "IU.,ANMO.00.BHZ", ".ANMO",
                           "IU.ANMO.00.", "IU.AN/MO", "IU.ANMO.00.BH#", "IU.ANMO.0\".BHZ",
                           "IU.ANMOANMOANMOANMOANMO", "", "   ", ";", "IU.ANMO.00.BHZ extra.a.b.c.d"}) {
    INFO("'" << text << "'");
    auto s = ChannelSelection::parse(text);
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().code() == StatusCode::kInvalidArgument);
    CHECK_FALSE(s.status().message().empty());
  }
}

TEST_CASE("reads, channel lists and availability apply the selection", "[store][selection]") {
  TempDir tmp;
  auto store = open_store(tmp.path());
  const std::vector<std::string> source_ids = {"IU.ANMO.00.BHZ", "IU.ANMO..BHZ", "IU.ANMO.00.BHN", "IU.COLA.00.BHZ",
                                               "CH.DAVOX..LHZ"};
  std::vector<Rec> recs;
  for (size_t i = 0; i < source_ids.size(); ++i) recs.push_back(rec(source_ids[i], kT0, 100, 100.0, i));
  write_ok(*store, recs);

  auto ids_of = [](const std::vector<ChannelInfo>& v) {
    std::vector<std::string> out;
    for (const auto& c : v) out.push_back(c.source_id);
    return out;
  };
  auto avail_ids = [](const std::vector<ChannelAvailability>& v) {
    std::vector<std::string> out;
    for (const auto& c : v) out.push_back(c.source_id);
    return out;
  };
  struct Case {
    const char* selection;
    std::vector<std::string> expected;
  };
  for (const auto& c : {Case{"IU.ANMO.00.BHZ", {"IU.ANMO.00.BHZ"}},
                        Case{"IU.ANMO..BHZ", {"IU.ANMO..BHZ"}},
                        Case{"IU.ANMO.--.BHZ", {"IU.ANMO..BHZ"}},
                        Case{"IU.ANMO.*.BHZ", {"IU.ANMO..BHZ", "IU.ANMO.00.BHZ"}},
                        Case{"IU.*.00.BH?", {"IU.ANMO.00.BHN", "IU.ANMO.00.BHZ", "IU.COLA.00.BHZ"}},
                        Case{"*.*.*.?HZ", {"CH.DAVOX..LHZ", "IU.ANMO..BHZ", "IU.ANMO.00.BHZ", "IU.COLA.00.BHZ"}},
                        Case{"CH IU.COLA", {"CH.DAVOX..LHZ", "IU.COLA.00.BHZ"}},
                        Case{"GE", {}}}) {
    INFO(c.selection);
    auto s = sel(c.selection);
    CHECK(ids(read(*store, s)) == c.expected);
    CHECK(ids_of(channels(*store, s)) == c.expected);
    CHECK(avail_ids(avail(*store, {}, {}, s)) == c.expected);
  }
}

// ---------------------------------------------------------------------------
// Channel catalog and summaries
// ---------------------------------------------------------------------------

TEST_CASE("list_channels gives each channel's summary after several writes and after reopen", "[store][catalog]") {
  TempDir tmp;
  std::vector<Rec> a1 = {rec("XX.A.00.HHZ", kT0 + 10 * kSecond, 100, 100.0, 1, 300),
                         rec("XX.A.00.HHZ", kT0 + 11 * kSecond, 100, 100.0, 2, 400)};
  a1[0].receive_ns = kT0 + 100 * kSecond;
  a1[1].receive_ns = kT0 + 90 * kSecond;  // arrival times need not follow start times
  std::vector<Rec> b1 = {rec("XX.B.00.HHZ", kT0, 50, 50.0, 3, 200)};
  b1[0].receive_ns = kT0 + 5 * kSecond;
  // Later: A backfills older data (first start moves back, last end stays),
  // then goes on with a different sample rate (last end moves on).
  std::vector<Rec> a2 = {rec("XX.A.00.HHZ", kT0 + 2 * kSecond, 100, 100.0, 4, 500)};
  a2[0].receive_ns = kT0 + 200 * kSecond;
  std::vector<Rec> a3 = {rec("XX.A.00.HHZ", kT0 + 20 * kSecond, 400, 40.0, 5, 600)};
  a3[0].receive_ns = kT0 + 150 * kSecond;

  auto check_summaries = [&](const RecordStore& store) {
    auto ch = channels(store);
    REQUIRE(ch.size() == 2);
    CHECK(ch[0].source_id == "XX.A.00.HHZ");
    CHECK(ch[1].source_id == "XX.B.00.HHZ");
    CHECK(ch[0].channel_id != ch[1].channel_id);
    const auto& a = ch[0].summary;
    CHECK(a.first_start_ns == kT0 + 2 * kSecond);
    CHECK(a.last_end_ns == a3[0].end_ns);
    CHECK(a3[0].end_ns == kT0 + 20 * kSecond + 399 * 25 * kMs);
    CHECK(a.last_start_ns == kT0 + 20 * kSecond);
    CHECK(a.record_count == 4);
    CHECK(a.byte_count == 300 + 400 + 500 + 600);
    CHECK(a.sample_rate == 40.0);
    CHECK(a.last_receive_ns == kT0 + 200 * kSecond);
    const auto& b = ch[1].summary;
    CHECK(b.first_start_ns == kT0);
    CHECK(b.last_end_ns == kT0 + 49 * 20 * kMs);
    CHECK(b.last_start_ns == kT0);
    CHECK(b.record_count == 1);
    CHECK(b.byte_count == 200);
    CHECK(b.sample_rate == 50.0);
    CHECK(b.last_receive_ns == kT0 + 5 * kSecond);
    // The channel id of a record matches the catalog's.
    auto got = read(store, sel("XX.A"));
    REQUIRE_FALSE(got.empty());
    CHECK(got[0].channel_id == ch[0].channel_id);
  };

  std::vector<ChannelInfo> before;
  {
    auto store = open_store(tmp.path());
    write_ok(*store, {a1[0], b1[0], a1[1]});
    auto ch = channels(*store);
    REQUIRE(ch.size() == 2);
    CHECK(ch[0].summary.first_start_ns == kT0 + 10 * kSecond);
    CHECK(ch[0].summary.last_end_ns == a1[1].end_ns);
    CHECK(ch[0].summary.record_count == 2);
    CHECK(ch[0].summary.byte_count == 700);
    CHECK(ch[0].summary.last_receive_ns == kT0 + 100 * kSecond);
    write_ok(*store, a2);
    write_ok(*store, a3);
    // Duplicates change nothing.
    write_ok(*store, {a1[0], a2[0], b1[0]});
    check_summaries(*store);
    before = channels(*store);
  }
  auto store = open_store(tmp.path());
  check_summaries(*store);
  auto after = channels(*store);
  REQUIRE(after.size() == before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    CHECK(after[i].channel_id == before[i].channel_id);
    CHECK(after[i].summary.max_extent_ns == before[i].summary.max_extent_ns);
  }
}

TEST_CASE("list_channels with a pattern lists the matching channels in source-id order", "[store][catalog]") {
  TempDir tmp;
  auto store = open_store(tmp.path());
  write_ok(*store, {rec("ZZ.Z..HHZ", kT0), rec("AA.A..HHZ", kT0), rec("MM.M.00.HHZ", kT0)});
  write_ok(*store, {rec("BB.B..HHZ", kT0)});
  auto ch = channels(*store);
  REQUIRE(ch.size() == 4);
  CHECK(ch[0].source_id == "AA.A..HHZ");
  CHECK(ch[1].source_id == "BB.B..HHZ");
  CHECK(ch[2].source_id == "MM.M.00.HHZ");
  CHECK(ch[3].source_id == "ZZ.Z..HHZ");
  auto some = channels(*store, sel("?A,?B"));
  REQUIRE(some.size() == 2);
  CHECK(some[0].source_id == "AA.A..HHZ");
  CHECK(some[1].source_id == "BB.B..HHZ");
}

// ---------------------------------------------------------------------------
// Availability
// ---------------------------------------------------------------------------

TEST_CASE("contiguous records merge into one span", "[store][availability]") {
  TempDir tmp;
  auto store = open_store(tmp.path(), small_options(3));
  const std::string id = "XX.AV.00.HHZ";
  // 10 records of 100 samples at 100 Hz: each starts one sample period after
  // the previous one's last sample. Written in two writes, out of order.
  std::vector<Rec> recs;
  for (int i = 0; i < 10; ++i) recs.push_back(rec(id, kT0 + i * kSecond, 100, 100.0, i));
  write_ok(*store, std::vector<Rec>(recs.begin() + 5, recs.end()));
  write_ok(*store, std::vector<Rec>(recs.begin(), recs.begin() + 5));

  auto a = avail(*store);
  REQUIRE(a.size() == 1);
  CHECK(a[0].source_id == id);
  REQUIRE(a[0].spans.size() == 1);
  CHECK(a[0].spans[0].start_ns == kT0);
  CHECK(a[0].spans[0].end_ns == kT0 + 9 * kSecond + 990 * kMs);
  CHECK(a[0].spans[0].sample_rate == 100.0);
  CHECK(a[0].gap_count == 0);
  CHECK(a[0].overlap_count == 0);
}

TEST_CASE("a gap and an overlap split the spans and are counted", "[store][availability]") {
  TempDir tmp;
  auto store = open_store(tmp.path());
  const std::string id = "XX.AV.00.HHZ";
  std::vector<Rec> recs = {
      rec(id, kT0, 100, 100.0, 1),                           // [0, 0.99]
      rec(id, kT0 + kSecond, 100, 100.0, 2),                 // [1, 1.99]  contiguous
      rec(id, kT0 + 5 * kSecond, 100, 100.0, 3),             // [5, 5.99]  after a gap
      rec(id, kT0 + 5 * kSecond + 500 * kMs, 100, 100.0, 4), // [5.5, 6.49] overlaps the previous
  };
  write_ok(*store, recs);

  auto a = avail(*store);
  REQUIRE(a.size() == 1);
  REQUIRE(a[0].spans.size() == 3);
  CHECK(a[0].spans[0].start_ns == kT0);
  CHECK(a[0].spans[0].end_ns == kT0 + kSecond + 990 * kMs);
  CHECK(a[0].spans[1].start_ns == kT0 + 5 * kSecond);
  CHECK(a[0].spans[1].end_ns == kT0 + 5 * kSecond + 990 * kMs);
  CHECK(a[0].spans[2].start_ns == kT0 + 5 * kSecond + 500 * kMs);
  CHECK(a[0].spans[2].end_ns == kT0 + 6 * kSecond + 490 * kMs);
  CHECK(a[0].gap_count == 1);
  CHECK(a[0].overlap_count == 1);
}

TEST_CASE("records within the default tolerance of half a sample period continue a span",
          "[store][availability]") {
  TempDir tmp;
  auto store = open_store(tmp.path());
  const std::string id = "XX.AV.00.HHZ";
  // Expected next start after [0, 0.99 s] at 100 Hz: 1.000 s; tolerance 5 ms.
  Rec a = rec(id, kT0, 100, 100.0, 1);
  Rec late_ok = rec(id, kT0 + kSecond + 5 * kMs, 100, 100.0, 2);           // +5 ms: joins
  Rec late_gap = rec(id, kT0 + 2 * kSecond + 5 * kMs + 5 * kMs + 1, 100, 100.0, 3);  // +5 ms + 1 ns: gap
  write_ok(*store, {a, late_ok, late_gap});

  auto v = avail(*store);
  REQUIRE(v.size() == 1);
  REQUIRE(v[0].spans.size() == 2);
  CHECK(v[0].spans[0].start_ns == kT0);
  CHECK(v[0].spans[0].end_ns == late_ok.end_ns);
  CHECK(v[0].spans[1].start_ns == late_gap.start_ns);
  CHECK(v[0].gap_count == 1);
  CHECK(v[0].overlap_count == 0);

  // Early by up to the tolerance also joins.
  TempDir tmp2;
  auto store2 = open_store(tmp2.path());
  Rec early_ok = rec(id, kT0 + kSecond - 5 * kMs, 100, 100.0, 4);
  write_ok(*store2, {a, early_ok});
  v = avail(*store2);
  REQUIRE(v.size() == 1);
  CHECK(v[0].spans.size() == 1);
}

TEST_CASE("an explicit tolerance decides which records continue a span", "[store][availability]") {
  TempDir tmp;
  auto store = open_store(tmp.path());
  const std::string id = "XX.AV.00.HHZ";
  Rec a = rec(id, kT0, 100, 100.0, 1);                            // [0, 0.99], next expected at 1.000
  Rec b = rec(id, kT0 + kSecond + 50 * kMs, 100, 100.0, 2);       // 50 ms late
  Rec c = rec(id, kT0 + 2 * kSecond + 50 * kMs + 1, 100, 100.0, 3); // 1 ns late after b
  write_ok(*store, {a, b, c});

  SECTION("zero tolerance: only exact continuations") {
    auto v = avail(*store, {}, TimeNs{0});
    REQUIRE(v.size() == 1);
    CHECK(v[0].spans.size() == 3);
    CHECK(v[0].gap_count == 2);
  }
  SECTION("default tolerance (5 ms): b leaves a gap, c joins b") {
    auto v = avail(*store);
    REQUIRE(v.size() == 1);
    REQUIRE(v[0].spans.size() == 2);
    CHECK(v[0].spans[1].start_ns == b.start_ns);
    CHECK(v[0].spans[1].end_ns == c.end_ns);
    CHECK(v[0].gap_count == 1);
  }
  SECTION("100 ms tolerance: one span") {
    auto v = avail(*store, {}, 100 * kMs);
    REQUIRE(v.size() == 1);
    REQUIRE(v[0].spans.size() == 1);
    CHECK(v[0].spans[0].start_ns == kT0);
    CHECK(v[0].spans[0].end_ns == c.end_ns);
    CHECK(v[0].gap_count == 0);
  }
}

TEST_CASE("records without a sample rate join a span only where it ends exactly", "[store][availability]") {
  TempDir tmp;
  auto store = open_store(tmp.path());
  const std::string id = "XX.LOG..LOG";
  Rec a = rec(id, kT0, 1, 0.0, 1, 64);                 // [0, 0]
  Rec b = rec(id, kT0, 1, 0.0, 2, 64);                 // starts exactly where a ends: joins
  Rec c = rec(id, kT0 + 10 * kSecond, 1, 0.0, 3, 64);  // 10 s later: new span
  Rec d = rec(id, kT0 + 10 * kSecond + 1, 1, 0.0, 4, 64);  // 1 ns later: new span
  write_ok(*store, {a, b, c, d});
  REQUIRE(a.end_ns == a.start_ns);

  auto v = avail(*store);
  REQUIRE(v.size() == 1);
  REQUIRE(v[0].spans.size() == 3);
  CHECK(v[0].spans[0].start_ns == kT0);
  CHECK(v[0].spans[0].end_ns == kT0);
  CHECK(v[0].spans[0].sample_rate == 0.0);
  CHECK(v[0].spans[1].start_ns == kT0 + 10 * kSecond);
  CHECK(v[0].spans[2].start_ns == kT0 + 10 * kSecond + 1);
  CHECK(v[0].gap_count == 2);
  CHECK(v[0].overlap_count == 0);
}

// availability.h: "Records without a sample rate never join a span unless they
// start exactly where it ends", whatever the tolerance.
TEST_CASE("records without a sample rate do not join a span within an explicit tolerance",
          "[store][availability]") {
  TempDir tmp;
  auto store = open_store(tmp.path());
  const std::string id = "XX.LOG..LOG";
  Rec a = rec(id, kT0, 1, 0.0, 1, 64);
  Rec b = rec(id, kT0 + 1, 1, 0.0, 2, 64);                      // 1 ns after a
  Rec c = rec(id, kT0 + 500 * kMs, 1, 0.0, 3, 64);              // 0.5 s after b
  write_ok(*store, {a, b, c});

  auto v = avail(*store, {}, kSecond);
  REQUIRE(v.size() == 1);
  CHECK(v[0].spans.size() == 3);
  CHECK(v[0].gap_count == 2);

  SpanMerger m(kSecond);
  m.add(0, 0, 0.0);
  m.add(0, 0, 0.0);  // exactly where the span ends: joins
  m.add(1, 1, 0.0);
  m.add(kMs, kMs, 0.0);
  CHECK(m.take("XX.LOG..LOG").spans.size() == 3);
}

TEST_CASE("the availability window restricts channels and records, counting overlapping records whole",
          "[store][availability]") {
  TempDir tmp;
  auto store = open_store(tmp.path());
  std::vector<Rec> recs;
  // A: records at 0..9 s contiguous, then 20..29 s contiguous.
  for (int i = 0; i < 10; ++i) recs.push_back(rec("XX.A.00.HHZ", kT0 + i * kSecond, 100, 100.0, i));
  for (int i = 20; i < 30; ++i) recs.push_back(rec("XX.A.00.HHZ", kT0 + i * kSecond, 100, 100.0, i));
  // B: only at 100 s.
  recs.push_back(rec("XX.B.00.HHZ", kT0 + 100 * kSecond, 100, 100.0, 0));
  write_ok(*store, recs);

  SECTION("a window inside the first run") {
    auto v = avail(*store, {kT0 + 3 * kSecond + 500 * kMs, kT0 + 5 * kSecond + 500 * kMs});
    REQUIRE(v.size() == 1);
    CHECK(v[0].source_id == "XX.A.00.HHZ");
    REQUIRE(v[0].spans.size() == 1);
    // Records 3, 4 and 5 overlap the window and count whole.
    CHECK(v[0].spans[0].start_ns == kT0 + 3 * kSecond);
    CHECK(v[0].spans[0].end_ns == kT0 + 5 * kSecond + 990 * kMs);
  }
  SECTION("a window over the gap") {
    auto v = avail(*store, {kT0 + 9 * kSecond, kT0 + 20 * kSecond});
    REQUIRE(v.size() == 1);
    REQUIRE(v[0].spans.size() == 2);
    CHECK(v[0].spans[0].start_ns == kT0 + 9 * kSecond);
    CHECK(v[0].spans[0].end_ns == kT0 + 9 * kSecond + 990 * kMs);
    CHECK(v[0].spans[1].start_ns == kT0 + 20 * kSecond);
    CHECK(v[0].spans[1].end_ns == kT0 + 20 * kSecond + 990 * kMs);
    CHECK(v[0].gap_count == 1);
  }
  SECTION("a window holding both channels") {
    auto v = avail(*store, {kT0 + 25 * kSecond, kT0 + 100 * kSecond});
    REQUIRE(v.size() == 2);
    CHECK(v[0].source_id == "XX.A.00.HHZ");
    CHECK(v[1].source_id == "XX.B.00.HHZ");
    REQUIRE(v[0].spans.size() == 1);
    CHECK(v[0].spans[0].start_ns == kT0 + 25 * kSecond);
    REQUIRE(v[1].spans.size() == 1);
    CHECK(v[1].spans[0].start_ns == kT0 + 100 * kSecond);
  }
  SECTION("everything") {
    auto v = avail(*store);
    REQUIRE(v.size() == 2);
    CHECK(v[0].spans.size() == 2);
    CHECK(v[1].spans.size() == 1);
  }
}

TEST_CASE("SpanMerger merges, splits and counts gaps and overlaps on its own", "[availability]") {
  CHECK(sample_period_ns(100.0) == 10 * kMs);
  CHECK(sample_period_ns(40.0) == 25 * kMs);
  CHECK(sample_period_ns(3.0) == 333'333'333);
  CHECK(sample_period_ns(0.0) == 0);
  CHECK(sample_period_ns(-1.0) == 0);

  SpanMerger m(std::nullopt);
  m.add(0, 990 * kMs, 100.0);
  m.add(kSecond, kSecond + 990 * kMs, 100.0);                // contiguous
  m.add(3 * kSecond, 3 * kSecond + 990 * kMs, 100.0);        // gap
  m.add(3 * kSecond + 10 * kMs, 4 * kSecond, 100.0);         // overlap
  m.add(4 * kSecond + 10 * kMs, 5 * kSecond, 40.0);          // other rate: not continued
  auto a = m.take("XX.S..HHZ");
  CHECK(a.source_id == "XX.S..HHZ");
  REQUIRE(a.spans.size() == 4);
  CHECK(a.spans[0].end_ns == kSecond + 990 * kMs);
  CHECK(a.spans[1].start_ns == 3 * kSecond);
  CHECK(a.spans[2].start_ns == 3 * kSecond + 10 * kMs);
  CHECK(a.spans[3].sample_rate == 40.0);
  CHECK(a.gap_count == 2);      // 3.00 after 1.99; 4.01 after 4.00
  CHECK(a.overlap_count == 1);  // 3.01 before 3.99

  // A record may continue an older span than the newest one.
  SpanMerger n(std::nullopt);
  n.add(0, 990 * kMs, 100.0);
  n.add(500 * kMs, 800 * kMs, 100.0);  // overlap
  n.add(kSecond, kSecond + 990 * kMs, 100.0);  // continues the first span
  auto b = n.take("XX.S..HHZ");
  REQUIRE(b.spans.size() == 2);
  CHECK(b.spans[0].end_ns == kSecond + 990 * kMs);
  CHECK(b.overlap_count == 1);

  // take() leaves the merger empty.
  CHECK(n.take("XX.S..HHZ").spans.empty());
}

// ---------------------------------------------------------------------------
// Reopen, schema, errors, durability
// ---------------------------------------------------------------------------

TEST_CASE("reopening the store keeps records, catalog, senders and summaries, and goes on from there",
          "[store][reopen]") {
  TempDir tmp;
  std::vector<Rec> first;
  for (int i = 0; i < 9; ++i) {
    Rec r = rec(i % 2 ? "XX.ODD.00.HHZ" : "XX.EVEN.00.HHZ", kT0 + i * kSecond, 100, 100.0, i);
    r.sender = i % 3 ? "key-a" : "key-b";
    first.push_back(r);
  }
  Rec same_start_a = rec("XX.ODD.00.HHZ", kT0 + 50 * kSecond, 100, 100.0, 100);
  first.push_back(same_start_a);
  {
    auto store = open_store(tmp.path(), small_options(2));
    write_ok(*store, first);
  }
  auto store = open_store(tmp.path(), small_options(2));
  auto got = read(*store);
  std::vector<Rec> expected = first;
  std::stable_sort(expected.begin(), expected.end(), [](const Rec& a, const Rec& b) {
    return std::tie(a.source_id, a.start_ns) < std::tie(b.source_id, b.start_ns);
  });
  REQUIRE(got.size() == expected.size());
  for (size_t i = 0; i < got.size(); ++i) check_same(got[i], expected[i]);

  // New writes after reopen: a new channel and a new sender get their own ids,
  // a record with the same start as a stored one (other bytes) is kept beside
  // it rather than replacing it, and old senders are still known.
  Rec same_start_b = rec("XX.ODD.00.HHZ", kT0 + 50 * kSecond, 100, 100.0, 101);
  same_start_b.sender = "key-a";
  Rec new_channel = rec("XX.NEW.00.HHZ", kT0, 100, 100.0, 102);
  new_channel.sender = "key-c";
  auto w = write_ok(*store, {same_start_b, new_channel});
  CHECK(w.stats.stored == 2);

  auto odd = read(*store, sel("XX.ODD"));
  REQUIRE(odd.size() == 6);
  check_same(odd[4], same_start_a);
  check_same(odd[5], same_start_b);
  auto fresh = read(*store, sel("XX.NEW"));
  REQUIRE(fresh.size() == 1);
  check_same(fresh[0], new_channel);

  auto ch = channels(*store);
  REQUIRE(ch.size() == 3);
  std::vector<uint32_t> channel_ids;
  for (const auto& c : ch) channel_ids.push_back(c.channel_id);
  std::sort(channel_ids.begin(), channel_ids.end());
  CHECK(std::adjacent_find(channel_ids.begin(), channel_ids.end()) == channel_ids.end());

  // Everything is still right after one more reopen, even the old channels.
  store.reset();
  store = open_store(tmp.path(), small_options(2));
  CHECK(read(*store).size() == first.size() + 2);
  CHECK(read(*store, sel("XX.EVEN")).size() == 5);
  check_same(read(*store, sel("XX.NEW"))[0], new_channel);
}

TEST_CASE("opening a store whose schema version differs fails with Incompatible", "[store][reopen][schema]") {
  TempDir tmp;
  {
    auto store = open_store(tmp.path());
    write_ok(*store, {rec("XX.A.00.HHZ", kT0)});
  }
  SECTION("another version") {
    poke_default_cf(tmp.path(), "schema_version", std::to_string(kSchemaVersion + 1));
    auto s = RecordStore::open(tmp.path(), small_options());
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().code() == StatusCode::kIncompatible);
    CHECK_FALSE(s.status().message().empty());
  }
  SECTION("a version that is not a number") {
    poke_default_cf(tmp.path(), "schema_version", std::string("x"));
    auto s = RecordStore::open(tmp.path(), small_options());
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().code() == StatusCode::kIncompatible);
  }
  SECTION("records but no version") {
    poke_default_cf(tmp.path(), "schema_version", std::nullopt);
    auto s = RecordStore::open(tmp.path(), small_options());
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().code() == StatusCode::kIncompatible);
  }
  SECTION("the same version written back opens fine") {
    poke_default_cf(tmp.path(), "schema_version", std::to_string(kSchemaVersion));
    auto store = open_store(tmp.path());
    CHECK(read(*store).size() == 1);
  }
}

// Schema-3 summary pages as (channel id -> 72-byte summary): 64 slots of
// nine little-endian int64 (..., [7] max_extent_ns, [8] max_long_extent_ns).
std::map<uint32_t, std::string> raw_summaries(RawStore& raw, size_t& pages) {
  std::map<uint32_t, std::string> out;
  std::unique_ptr<rocksdb::Iterator> it(raw.db->NewIterator({}, raw.handles[3]));
  pages = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const auto k = it->key();
    REQUIRE(k.size() == 5);
    REQUIRE(it->value().size() == 64 * 72);
    const uint32_t page = (uint32_t{static_cast<uint8_t>(k[1])} << 24) | (uint32_t{static_cast<uint8_t>(k[2])} << 16) |
                          (uint32_t{static_cast<uint8_t>(k[3])} << 8) | static_cast<uint8_t>(k[4]);
    for (uint32_t slot = 0; slot < 64; ++slot) {
      std::string v(it->value().data() + slot * 72, 72);
      if (v != std::string(72, '\0')) out[page * 64 + slot] = std::move(v);
    }
    ++pages;
  }
  REQUIRE(it->status().ok());
  return out;
}

std::string page_key(uint32_t page) {
  return {'p', static_cast<char>(page >> 24), static_cast<char>(page >> 16), static_cast<char>(page >> 8),
          static_cast<char>(page)};
}

int64_t field(const std::string& summary, int i) {
  int64_t v;
  std::memcpy(&v, summary.data() + i * 8, 8);
  return v;
}

// Rewrites a store's summaries the way schema version 1 kept them: one entry
// per channel, keyed by the bare 4-byte channel id, of 64 bytes (no
// max_long_extent_ns); and drops the long column family, which schema 1 did
// not have (the store must hold no long record).
void downgrade_summaries_to_v1(const std::filesystem::path& dir) {
  RawStore raw(dir);
  auto& db = raw.db;
  const auto& handles = raw.handles;
  rocksdb::WriteBatch wb;
  size_t pages = 0;
  for (const auto& [id, v] : raw_summaries(raw, pages)) {
    REQUIRE(field(v, 8) == 0);
    const char key[4] = {static_cast<char>(id >> 24), static_cast<char>(id >> 16), static_cast<char>(id >> 8),
                         static_cast<char>(id)};
    wb.Put(handles[3], rocksdb::Slice(key, 4), v.substr(0, 64));
    wb.Delete(handles[3], page_key(id / 64));  // the page (once is enough; more is harmless)
  }
  REQUIRE(pages >= 2);  // the test's channels span more than one page
  wb.Put(handles[0], "schema_version", "1");
  rocksdb::WriteOptions wo;
  wo.sync = true;
  REQUIRE(db->Write(wo, &wb).ok());
  REQUIRE(db->DropColumnFamily(handles[4]).ok());
}

// Rewrites a store the way schema version 2 kept it: every long record in
// the records CF (schema 2 had no long CF; the record's block extent is then
// in max_extent_ns), summaries in pages of 64-byte slots, no long CF.
void downgrade_to_v2(const std::filesystem::path& dir) {
  RawStore raw(dir);
  auto& db = raw.db;
  const auto& handles = raw.handles;
  rocksdb::WriteBatch wb;
  size_t moved = 0;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator({}, handles[4]));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    wb.Put(handles[1], it->key(), it->value());  // same key and block format
    ++moved;
  }
  REQUIRE(it->status().ok());
  it.reset();
  REQUIRE(moved > 0);  // the test has long records
  size_t pages = 0;
  std::map<uint32_t, std::string> v2_pages;
  for (const auto& [id, v] : raw_summaries(raw, pages)) {
    std::string old = v.substr(0, 64);
    const int64_t extent = std::max(field(v, 7), field(v, 8));
    std::memcpy(old.data() + 7 * 8, &extent, 8);
    auto& page = v2_pages[id / 64];
    if (page.empty()) page.assign(64 * 64, '\0');
    page.replace((id % 64) * 64, 64, old);
  }
  for (const auto& [page, v] : v2_pages) wb.Put(handles[3], page_key(page), v);
  wb.Put(handles[0], "schema_version", "2");
  rocksdb::WriteOptions wo;
  wo.sync = true;
  REQUIRE(db->Write(wo, &wb).ok());
  REQUIRE(db->DropColumnFamily(handles[4]).ok());
}

TEST_CASE("a schema-1 store (one summary entry per channel) is migrated when opened", "[store][reopen][schema]") {
  TempDir tmp;
  std::vector<Rec> all;
  for (int c = 0; c < 130; ++c) {
    for (int k = 0; k < 3; ++k) {
      all.push_back(rec(fmt::format("XX.S{:03}.00.HHZ", c), kT0 + (k * 10 + c % 7) * kSecond, 100, 100.0,
                        static_cast<uint32_t>(c * 3 + k + 1)));
    }
  }
  std::vector<ChannelInfo> before;
  size_t records_before = 0;
  {
    auto store = open_store(tmp.path(), small_options());
    write_ok(*store, all);
    before = channels(*store);
    records_before = read(*store).size();
  }
  REQUIRE(before.size() == 130);
  downgrade_summaries_to_v1(tmp.path());

  auto check_same_summaries = [&](const RecordStore& store) {
    const auto after = channels(store);
    REQUIRE(after.size() == before.size());
    for (size_t i = 0; i < after.size(); ++i) {
      INFO(after[i].source_id);
      CHECK(after[i].source_id == before[i].source_id);
      CHECK(after[i].channel_id == before[i].channel_id);
      CHECK(after[i].summary.record_count == before[i].summary.record_count);
      CHECK(after[i].summary.byte_count == before[i].summary.byte_count);
      CHECK(after[i].summary.first_start_ns == before[i].summary.first_start_ns);
      CHECK(after[i].summary.last_end_ns == before[i].summary.last_end_ns);
      CHECK(after[i].summary.last_start_ns == before[i].summary.last_start_ns);
      CHECK(after[i].summary.max_extent_ns == before[i].summary.max_extent_ns);
      CHECK(after[i].summary.last_receive_ns == before[i].summary.last_receive_ns);
      CHECK(after[i].summary.sample_rate == before[i].summary.sample_rate);
    }
  };
  {
    auto store = open_store(tmp.path(), small_options());
    check_same_summaries(*store);
    CHECK(read(*store).size() == records_before);
    // The migrated store goes on as a current store: a resend is a duplicate
    // (the summary's last start survived), new data is stored.
    CHECK(write_ok(*store, {all[5]}).outcomes[0] == WriteOutcome::kDuplicate);
    before[0].summary.record_count += 1;
    CHECK(write_ok(*store, {rec("XX.S000.00.HHZ", kT0 + 100 * kSecond, 100, 100.0, 999)}).outcomes[0] ==
          WriteOutcome::kStored);
  }
  // Reopened once more, it is read as the current version without migrating again.
  auto store = open_store(tmp.path(), small_options());
  const auto after = channels(*store);
  REQUIRE(after.size() == 130);
  CHECK(after[0].summary.record_count == before[0].summary.record_count);
  CHECK(read(*store).size() == records_before + 1);
}

TEST_CASE("a schema-2 store (64-byte summaries, long records in the records CF) is migrated when opened and "
          "reads as before",
          "[store][reopen][schema][long]") {
  TempDir tmp;
  std::vector<Rec> all;
  std::vector<Rec> longs;
  for (int c = 0; c < 70; ++c) {  // two summary pages
    const auto id = fmt::format("XX.S{:03}.00.LHZ", c);
    for (int k = 0; k < 5; ++k) all.push_back(rec(id, kT0 + k * 600 * kSecond, 100, 100.0, c * 10 + k + 1));
    if (c % 10 == 0) {
      longs.push_back(rec_span(id, kT0 + 100 * kSecond, kT0 + 100 * kSecond + 3 * 3600 * kSecond, c * 10 + 7));
      longs.push_back(rec_span(id, kT0 + 2000 * kSecond, kT0 + 30 * 3600 * kSecond, c * 10 + 8));
    }
  }
  const std::vector<TimeWindow> windows = {{},
                                           {kT0 + 1000 * kSecond, kT0 + 1000 * kSecond},
                                           {kT0 + 3 * 3600 * kSecond, kT0 + 3 * 3600 * kSecond + 600 * kSecond},
                                           {kT0 + 20 * 3600 * kSecond, kT0 + 40 * 3600 * kSecond},
                                           {kT0 - 3600 * kSecond, kT0},
                                           {kT0 + 1200 * kSecond, kT0 + 2400 * kSecond}};
  std::vector<ChannelInfo> before;
  std::vector<std::vector<Sha256Digest>> reads_before;
  {
    auto store = open_store(tmp.path(), small_options());
    write_ok(*store, all);
    write_ok(*store, longs);
    before = channels(*store);
    for (const auto& w : windows) reads_before.push_back(hashes(read(*store, {}, w)));
  }
  REQUIRE(before.size() == 70);
  CHECK(before[0].summary.max_long_extent_ns == 30 * 3600 * kSecond - 2000 * kSecond);
  downgrade_to_v2(tmp.path());

  auto check_reads = [&](const RecordStore& store) {
    for (size_t i = 0; i < windows.size(); ++i) {
      INFO("window " << i);
      CHECK(hashes(read(store, {}, windows[i])) == reads_before[i]);
    }
  };
  {
    auto store = open_store(tmp.path(), small_options());
    const auto after = channels(*store);
    REQUIRE(after.size() == before.size());
    for (size_t i = 0; i < after.size(); ++i) {
      INFO(after[i].source_id);
      CHECK(after[i].channel_id == before[i].channel_id);
      CHECK(after[i].summary.record_count == before[i].summary.record_count);
      CHECK(after[i].summary.byte_count == before[i].summary.byte_count);
      CHECK(after[i].summary.first_start_ns == before[i].summary.first_start_ns);
      CHECK(after[i].summary.last_end_ns == before[i].summary.last_end_ns);
      CHECK(after[i].summary.last_start_ns == before[i].summary.last_start_ns);
      CHECK(after[i].summary.last_receive_ns == before[i].summary.last_receive_ns);
      CHECK(after[i].summary.sample_rate == before[i].summary.sample_rate);
      // Schema 2 kept long records in the records CF: its extent covers them.
      CHECK(after[i].summary.max_extent_ns ==
            std::max(before[i].summary.max_extent_ns, before[i].summary.max_long_extent_ns));
      CHECK(after[i].summary.max_long_extent_ns == 0);
    }
    check_reads(*store);
    // The old long records, still in the records CF, are found as duplicates.
    const auto again = write_ok(*store, {longs[0], longs[3], all[2]});
    CHECK(count_of(again.outcomes, WriteOutcome::kDuplicate) == 3);
    // A new long record goes to the long CF and reads back merged with the
    // old ones, in start order.
    const Rec fresh = rec_span("XX.S000.00.LHZ", kT0 + 50 * kSecond, kT0 + 50 * kSecond + 2 * 3600 * kSecond, 999);
    CHECK(write_ok(*store, {fresh}).outcomes[0] == WriteOutcome::kStored);
    const auto got = read(*store, sel("XX.S000"), {kT0 + 1000 * kSecond, kT0 + 2000 * kSecond});
    REQUIRE(got.size() == 5);
    check_same(got[0], fresh);
    check_same(got[1], longs[0]);
    check_same(got[2], all[2]);
    check_same(got[3], all[3]);
    check_same(got[4], longs[1]);
    CHECK(write_ok(*store, {fresh}).outcomes[0] == WriteOutcome::kDuplicate);
    const auto ch = channels(*store, sel("XX.S000"));
    REQUIRE(ch.size() == 1);
    CHECK(ch[0].summary.max_long_extent_ns == 2 * 3600 * kSecond);
  }
  // Reopened: no second migration, same data (the new record aside).
  auto store = open_store(tmp.path(), small_options());
  CHECK(read(*store).size() == all.size() + longs.size() + 1);
  CHECK(read(*store, sel("XX.S001")).size() == 5);
  CHECK(channels(*store, sel("XX.S000"))[0].summary.max_long_extent_ns == 2 * 3600 * kSecond);
}

TEST_CASE("opening a missing directory without create_if_missing fails with IoError", "[store][open]") {
  TempDir tmp;
  auto o = small_options();
  o.create_if_missing = false;
  auto s = RecordStore::open(tmp.path() / "nothing-here", o);
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().code() == StatusCode::kIoError);
  CHECK_FALSE(std::filesystem::exists(tmp.path() / "nothing-here" / "CURRENT"));
}

TEST_CASE("a new store is created in a missing directory, nested", "[store][open]") {
  TempDir tmp;
  auto store = open_store(tmp.path() / "a" / "b");
  CHECK(store->dir() == tmp.path() / "a" / "b");
  write_ok(*store, {rec("XX.A.00.HHZ", kT0)});
  CHECK(read(*store).size() == 1);
}

TEST_CASE("opening a store that is already open fails with IoError", "[store][open]") {
  TempDir tmp;
  auto store = open_store(tmp.path());
  auto second = RecordStore::open(tmp.path(), small_options());
  REQUIRE_FALSE(second.ok());
  CHECK(second.status().code() == StatusCode::kIoError);
  // The first is unaffected.
  write_ok(*store, {rec("XX.A.00.HHZ", kT0)});
  CHECK(read(*store).size() == 1);
}

TEST_CASE("sync writes and sync_wal return OK and the data is there", "[store][durability]") {
  TempDir tmp;
  {
    auto store = open_store(tmp.path());
    auto w = write(*store, {rec("XX.A.00.HHZ", kT0, 100, 100.0, 1)}, /*sync=*/true);
    CHECK(w.status.ok());
    CHECK(w.stats.stored == 1);
    w = write(*store, {rec("XX.A.00.HHZ", kT0 + kSecond, 100, 100.0, 2)}, /*sync=*/false);
    CHECK(w.status.ok());
    CHECK(store->sync_wal().ok());
    CHECK(store->sync_wal().ok());  // nothing new: still OK
    // A duplicate-only sync write writes nothing and is still OK.
    w = write(*store, {rec("XX.A.00.HHZ", kT0, 100, 100.0, 1)}, /*sync=*/true);
    CHECK(w.status.ok());
    CHECK(w.outcomes[0] == WriteOutcome::kDuplicate);
  }
  auto store = open_store(tmp.path());
  CHECK(read(*store).size() == 2);
  CHECK(store->sync_wal().ok());
}

TEST_CASE("an empty write succeeds and stores nothing", "[store]") {
  TempDir tmp;
  auto store = open_store(tmp.path());
  auto w = write(*store, {}, true);
  CHECK(w.status.ok());
  CHECK(w.stats.stored == 0);
  CHECK(w.stats.duplicates == 0);
  CHECK(w.stats.blocks == 0);
  CHECK(read(*store).empty());
  CHECK(channels(*store).empty());
}

TEST_CASE("a write whose outcomes differ in size from its records fails and stores nothing", "[store]") {
  TempDir tmp;
  auto store = open_store(tmp.path());
  Rec r = rec("XX.A.00.HHZ", kT0);
  NewRecord n = as_new(r);
  std::vector<WriteOutcome> outcomes(2);
  auto st = store->write(std::span<const NewRecord>(&n, 1), outcomes, false);
  CHECK_FALSE(st.ok());
  CHECK(st.code() == StatusCode::kInternal);
  CHECK(read(*store).empty());
  CHECK(channels(*store).empty());
  // The store still works, and the channel is new then.
  CHECK(write_ok(*store, {r}).outcomes[0] == WriteOutcome::kStored);
}

// ---------------------------------------------------------------------------
// Concurrency
// ---------------------------------------------------------------------------

namespace {

// What readers racing one writer observed: each read is checked against the
// batches, so every count must stay 0.
struct RaceCounts {
  int write_errors = 0;
  size_t reads = 0;
  size_t read_errors = 0;
  size_t partial = 0;       // reads holding part of a write batch
  size_t unordered = 0;     // records out of start order, or missing
  size_t wrong_bytes = 0;   // records whose bytes differ from what was written
  size_t wrong_sender = 0;  // records whose sender differs from what was written
  size_t total_after = 0;
};

// One channel; every batch comes from a new sender, so that a reader racing
// the writer meets senders first seen in the very write it is reading.
RaceCounts race_readers_against_writer(const std::filesystem::path& dir) {
  auto store = open_store(dir, small_options(4));
  const std::string id = "XX.CONC.00.HHZ";
  constexpr int kBatches = 300;
  constexpr int kPerBatch = 10;
  std::vector<std::vector<Rec>> batches;
  for (int b = 0; b < kBatches; ++b) {
    std::vector<Rec> recs;
    for (int i = 0; i < kPerBatch; ++i) {
      Rec r = rec(id, kT0 + (b * kPerBatch + i) * kSecond, 100, 100.0, static_cast<uint32_t>(b * kPerBatch + i), 128);
      r.sender = "sender-" + std::to_string(b);
      recs.push_back(std::move(r));
    }
    batches.push_back(std::move(recs));
  }
  write_ok(*store, batches[0]);

  RaceCounts c;
  std::atomic<bool> done{false};
  std::atomic<int> write_errors{0};
  std::thread writer([&] {
    for (int b = 1; b < kBatches; ++b) {
      std::vector<NewRecord> in;
      for (const auto& r : batches[static_cast<size_t>(b)]) in.push_back(as_new(r));
      std::vector<WriteOutcome> out(in.size());
      if (!store->write(in, out, false).ok()) ++write_errors;
    }
    done = true;
  });

  while (!done || c.reads < 5) {
    std::vector<std::pair<TimeNs, std::string>> seen;
    bool bytes_ok = true;
    auto st = store->read_records({}, {}, [&](const StoredRecord& r) {
      seen.emplace_back(r.start_ns, std::string(r.sender));
      const auto idx = static_cast<size_t>((r.start_ns - kT0) / kSecond);
      if (idx >= static_cast<size_t>(kBatches * kPerBatch)) {
        bytes_ok = false;
        return true;
      }
      const auto& want = batches[idx / kPerBatch][idx % kPerBatch];
      if (!std::equal(r.bytes.begin(), r.bytes.end(), want.bytes.begin(), want.bytes.end())) bytes_ok = false;
      return true;
    });
    ++c.reads;
    if (!st.ok()) ++c.read_errors;
    if (seen.size() % kPerBatch != 0) ++c.partial;
    if (!bytes_ok) ++c.wrong_bytes;
    for (size_t i = 0; i < seen.size(); ++i) {
      if (seen[i].first != kT0 + static_cast<TimeNs>(i) * kSecond) ++c.unordered;
      if (seen[i].second != "sender-" + std::to_string(i / kPerBatch)) ++c.wrong_sender;
    }
  }
  writer.join();
  c.write_errors = write_errors.load();
  c.total_after = read(*store).size();
  return c;
}

}  // namespace

TEST_CASE("concurrent readers see whole write batches, in order and byte-identical", "[store][concurrency]") {
  TempDir tmp;
  const auto c = race_readers_against_writer(tmp.path());
  CHECK(c.write_errors == 0);
  CHECK(c.read_errors == 0);
  CHECK(c.partial == 0);
  CHECK(c.unordered == 0);
  CHECK(c.wrong_bytes == 0);
  CHECK(c.total_after == 3000);
}

// A reader whose snapshot includes a batch must be able to name the batch's
// new senders (the catalog is published before the write becomes visible).
TEST_CASE("a reader racing a write from a new sender sees the sender's name", "[store][concurrency]") {
  TempDir tmp;
  const auto c = race_readers_against_writer(tmp.path());
  CHECK(c.wrong_sender == 0);
}

// 48 writes of 1,000 512-byte records over 20 channels (24 MiB): with 1 MiB
// memtables, many flushes and compactions. Returns what was written.
// 24 MiB of 512-byte records (x `times`), 1,000 per write over 20 channels.
// About a sixth of that reaches RocksDB (the blocks' metadata); the records'
// bytes go to segment files.
std::vector<Rec> write_24_mib(RecordStore& store, int times = 1) {
  std::vector<Rec> all;
  for (int batch = 0; batch < 48 * times; ++batch) {
    std::vector<Rec> recs;
    for (int i = 0; i < 1000; ++i) {
      const int c = i % 20;
      recs.push_back(
          rec("XX.F" + std::to_string(c) + ".00.HHZ", kT0 + (batch * 50 + i / 20) * kSecond, 100, 100.0, 0, 512));
    }
    const auto w = write(store, recs);
    REQUIRE(w.status.ok());
    REQUIRE(w.stats.stored == recs.size());
    all.insert(all.end(), recs.begin(), recs.end());
  }
  return all;
}

TEST_CASE("records survive memtable flushes and compactions (direct I/O where the filesystem allows it)",
          "[store][durability]") {
  TempDir tmp;
  auto o = small_options(8);
  o.memtable_mib = 1;  // 1 MiB memtables: 24 MiB of records make many flushes and compactions
  std::vector<Rec> all;
  {
    auto store = RecordStore::open(tmp.path(), o);
    REQUIRE(store.ok());
    all = write_24_mib(**store);
    REQUIRE((*store)->sync_wal().ok());
  }
  auto store = RecordStore::open(tmp.path(), o);
  REQUIRE(store.ok());
  std::map<std::vector<uint8_t>, int> expected;
  for (const auto& r : all) expected[r.bytes]++;
  size_t read = 0, matched = 0;
  REQUIRE((*store)->read_records(ChannelSelection(), {}, [&](const StoredRecord& r) {
    ++read;
    auto it = expected.find(std::vector<uint8_t>(r.bytes.begin(), r.bytes.end()));
    if (it != expected.end() && it->second-- > 0) ++matched;
    return true;
  }).ok());
  CHECK(read == all.size());
  CHECK(matched == all.size());
  // Everything written is still recognised as a duplicate after all that.
  const auto again = write(**store, std::vector<Rec>(all.begin(), all.begin() + 2000));
  REQUIRE(again.status.ok());
  CHECK(again.stats.duplicates == 2000);
}

TEST_CASE("obsolete files are deleted through the paced scheduler, none left behind", "[store][durability]") {
  TempDir tmp;
  namespace fs = std::filesystem;
  auto trash_files = [&] {
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(tmp.path())) n += e.path().extension() == ".trash";
    return n;
  };
  auto o = small_options(8);
  o.memtable_mib = 1;
  o.delete_chunk_mib = 1;
  std::vector<Rec> all;
  {
    // So slow that flushes and compactions make files obsolete faster than
    // they are deleted: they wait in trash instead of being deleted at once.
    o.delete_rate_mib_per_s = 1;
    auto store = RecordStore::open(tmp.path(), o);
    REQUIRE(store.ok());
    all = write_24_mib(**store, 4);  // ~16 MiB into RocksDB
    REQUIRE((*store)->sync_wal().ok());
    CHECK(trash_files() > 0);
  }
  // Reopened, what was left in trash is deleted (bounded wait).
  o.delete_rate_mib_per_s = 256;
  auto store = RecordStore::open(tmp.path(), o);
  REQUIRE(store.ok());
  for (int i = 0; i < 200 && trash_files() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(trash_files() == 0);
  size_t read = 0;
  REQUIRE((*store)->read_records(ChannelSelection(), {}, [&](const StoredRecord&) {
    ++read;
    return true;
  }).ok());
  CHECK(read == all.size());
}

// Writes a store for the migration tests to rewrite as an older schema:
// 40 records of two channels and a long record; returns them.
std::vector<Rec> write_store_to_downgrade(const std::filesystem::path& dir) {
  std::vector<Rec> old;
  for (int k = 0; k < 40; ++k) old.push_back(rec(k % 2 ? "XX.AAA..BHZ" : "XX.BBB..BHZ", kT0 + k * kSecond, 100, 100.0, k));
  old.push_back(rec_span("XX.AAA..LHZ", kT0, kT0 + 3 * 3600 * kSecond, 99));  // a long record
  auto store = open_store(dir, small_options(8));
  write_ok(*store, old);
  return old;
}

// Puts into `wb` every block of the records and long CFs as `rewrite`
// changes it.
void rewrite_blocks(RawStore& raw, rocksdb::WriteBatch& wb, const std::function<void(std::string&)>& rewrite) {
  for (int cf : {1, 4}) {
    std::unique_ptr<rocksdb::Iterator> it(raw.db->NewIterator({}, raw.handles[cf]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string v = it->value().ToString();
      rewrite(v);
      wb.Put(raw.handles[cf], it->key(), v);
    }
  }
}

// Rewrites a store the way schema version 4 kept it: blocks of format 2, the
// records' bytes inside the block (read back from the segment files, which
// are then removed), no ledger.
void downgrade_to_v4(const std::filesystem::path& dir) {
  {
    RawStore raw(dir);
    rocksdb::WriteBatch wb;
    rewrite_blocks(raw, wb, [&](std::string& v) {
      REQUIRE(v.size() >= 40);
      REQUIRE(v[0] == 4);
      uint32_t count;
      uint64_t segment, offset;
      std::memcpy(&count, v.data() + 4, 4);
      std::memcpy(&segment, v.data() + 16, 8);
      std::memcpy(&offset, v.data() + 24, 8);
      REQUIRE(v.size() == 40 + size_t{count} * 84);
      // Index entries without their ledger entry and position (format 3's).
      for (uint32_t i = count; i-- > 0;) v.erase(40 + size_t{i} * 84 + 72, 12);
      size_t length = 0;
      for (uint32_t i = 0; i < count; ++i) {
        uint32_t l;
        std::memcpy(&l, v.data() + 40 + i * 72 + 36, 4);
        length += l;
      }
      std::ifstream seg(dir / "segments" / fmt::format("{:020}.seg", segment), std::ios::binary);
      REQUIRE(seg);
      seg.seekg(static_cast<std::streamoff>(offset));
      std::string payload(length, '\0');
      REQUIRE(seg.read(payload.data(), static_cast<std::streamsize>(length)));
      v.erase(16, 24);  // the payload's location and checksum
      v[0] = 2;
      v += payload;
    });
    wb.Put(raw.handles[0], "schema_version", "4");
    std::unique_ptr<rocksdb::Iterator> ledger(raw.db->NewIterator({}, raw.handles[6]));
    for (ledger->SeekToFirst(); ledger->Valid(); ledger->Next()) wb.Delete(raw.handles[6], ledger->key());
    ledger.reset();
    rocksdb::WriteOptions wo;
    wo.sync = true;
    REQUIRE(raw.db->Write(wo, &wb).ok());
  }
  std::filesystem::remove_all(dir / "segments");
}

// Rewrites a store the way schema version 3 kept it: blocks of format 1 (no
// sequence number in their header), no sequence index, no record counter.
void downgrade_to_v3(const std::filesystem::path& dir) {
  downgrade_to_v4(dir);
  RawStore raw(dir);
  rocksdb::WriteBatch wb;
  rewrite_blocks(raw, wb, [](std::string& v) {
    REQUIRE(v.size() >= 16);
    REQUIRE(v[0] == 2);
    v.erase(8, 8);
    v[0] = 1;
  });
  std::unique_ptr<rocksdb::Iterator> it(raw.db->NewIterator({}, raw.handles[5]));
  for (it->SeekToFirst(); it->Valid(); it->Next()) wb.Delete(raw.handles[5], it->key());
  it.reset();
  wb.Delete(raw.handles[0], "next_record_seq");
  wb.Put(raw.handles[0], "schema_version", "3");
  rocksdb::WriteOptions wo;
  wo.sync = true;
  REQUIRE(raw.db->Write(wo, &wb).ok());
}

TEST_CASE("a schema-3 store (no record sequence numbers) is migrated when opened: old records read as before "
          "without a number, new ones are numbered from 1",
          "[store][reopen][schema][sequence]") {
  TempDir tmp;
  const auto old = write_store_to_downgrade(tmp.path());
  downgrade_to_v3(tmp.path());
  auto store = open_store(tmp.path(), small_options(8));
  CHECK(store->next_sequence() == 1);
  const auto got = read(*store);
  CHECK(got.size() == old.size());
  auto st = store->read_records({}, {}, [&](const StoredRecord& r) {
    CHECK(r.sequence == 0);
    return true;
  });
  CHECK(st.ok());
  CHECK(count_of(write_ok(*store, old).outcomes, WriteOutcome::kDuplicate) == old.size());
  const Rec fresh = rec("XX.AAA..BHZ", kT0 + 1000 * kSecond, 100, 100.0, 1000);
  CHECK(write_ok(*store, {fresh}).outcomes[0] == WriteOutcome::kStored);
  std::vector<uint64_t> numbers;
  st = store->read_sequence(
      0, 100, [](uint32_t, std::string_view) { return true; },
      [&](const StoredRecord& r) {
        numbers.push_back(r.sequence);
        CHECK(std::vector<uint8_t>(r.bytes.begin(), r.bytes.end()) == fresh.bytes);
        return true;
      });
  CHECK(st.ok());
  CHECK(numbers == std::vector<uint64_t>{1});
}

TEST_CASE("a schema-4 store (records' bytes inside RocksDB) is migrated when opened: old records read "
          "byte-identical with their numbers, duplicates are still found, new records go to segment files",
          "[store][reopen][schema][segments]") {
  TempDir tmp;
  const auto old = write_store_to_downgrade(tmp.path());
  downgrade_to_v4(tmp.path());
  REQUIRE_FALSE(std::filesystem::exists(tmp.path() / "segments"));
  auto store = open_store(tmp.path(), small_options(8));
  CHECK(store->next_sequence() == old.size() + 1);
  std::map<std::vector<uint8_t>, uint64_t> numbers;
  REQUIRE(store->read_records({}, {}, [&](const StoredRecord& r) {
    numbers[std::vector<uint8_t>(r.bytes.begin(), r.bytes.end())] = r.sequence;
    return true;
  }).ok());
  REQUIRE(numbers.size() == old.size());
  for (const auto& r : old) CHECK(numbers.count(r.bytes) == 1);
  CHECK(count_of(write_ok(*store, old).outcomes, WriteOutcome::kDuplicate) == old.size());
  const Rec fresh = rec("XX.AAA..BHZ", kT0 + 1000 * kSecond, 100, 100.0, 1000);
  CHECK(write_ok(*store, {fresh}).outcomes[0] == WriteOutcome::kStored);
  CHECK(std::filesystem::file_size(tmp.path() / "segments" / fmt::format("{:020}.seg", 1)) == fresh.bytes.size());
  std::vector<uint64_t> by_number;
  REQUIRE(store->read_sequence(
                   0, 1000, [](uint32_t, std::string_view) { return true; },
                   [&](const StoredRecord& r) {
                     by_number.push_back(r.sequence);
                     return true;
                   })
              .ok());
  CHECK(by_number.size() == old.size() + 1);
  CHECK(by_number.back() == old.size() + 1);
  const auto got = read(*store);
  CHECK(got.size() == old.size() + 1);
}

TEST_CASE("a store opened read-only reads everything and changes nothing: no new file, no byte", "[store][read_only]") {
  TempDir tmp;
  std::vector<Rec> recs;
  for (int i = 0; i < 20; ++i) recs.push_back(rec(i % 2 ? "XX.A..HHZ" : "XX.B..HHZ", kT0 + i * kSecond, 100, 100.0, 7));
  { write_ok(*open_store(tmp.path()), recs); }
  const auto snapshot = [&] {
    std::map<std::string, std::pair<uintmax_t, std::filesystem::file_time_type>> files;
    for (const auto& e : std::filesystem::recursive_directory_iterator(tmp.path())) {
      if (e.is_regular_file()) {
        files[std::filesystem::relative(e.path(), tmp.path()).string()] = {e.file_size(), e.last_write_time()};
      }
    }
    return files;
  };
  const auto before = snapshot();
  auto o = small_options();
  o.read_only = true;
  {
    auto store = RecordStore::open(tmp.path(), o);
    REQUIRE(store.ok());
    CHECK(read(**store).size() == recs.size());
    CHECK((*store)->list_channels({}).value().size() == 2);
    const std::vector<NewRecord> one{as_new(rec("XX.C..HHZ", kT0, 100, 100.0, 8))};
    std::vector<WriteOutcome> outcomes(1);
    const auto refused = (*store)->write(one, outcomes, true);
    CHECK(refused.code() == StatusCode::kUnavailable);
    CHECK_THAT(refused.message(), Catch::Contains("read-only"));
    CHECK_FALSE((*store)->put_checkpoint(1, std::string(172, 'c')).ok());
  }
  CHECK(snapshot() == before);
  // A directory without a store is not made one.
  CHECK_FALSE(RecordStore::open(tmp.path() / "none", o).ok());
  CHECK_FALSE(std::filesystem::exists(tmp.path() / "none"));
  // An older schema is not migrated behind the caller's back.
  { storage_test::RawStore raw(tmp.path()); raw.put(storage_test::kRawDefault, "schema_version", "5"); }
  const auto old = RecordStore::open(tmp.path(), o);
  CHECK(old.status().code() == StatusCode::kIncompatible);
  CHECK_THAT(old.status().message(), Catch::Contains("cannot be migrated"));
}
