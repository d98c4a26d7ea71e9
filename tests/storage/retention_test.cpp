// RecordStore::expire (retention): whole blocks and segment files, per
// network, with the summaries, the sequence index and reads kept true.
#include <catch2/catch.hpp>

#include <atomic>
#include <algorithm>
#include <filesystem>
#include <set>
#include <map>
#include <set>
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

namespace fs = std::filesystem;

constexpr TimeNs kDay = 86400 * kSecond;
constexpr TimeNs kHour = 3600 * kSecond;

size_t segment_count(const fs::path& store) {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(store / "segments")) n += e.path().extension() == ".seg";
  return n;
}

// Ten days of two channels in each of XX and YY: a 4096-byte record every
// 30 minutes, written day by day (so segments of 1 MiB hold a day or two).
std::vector<Rec> ten_days() {
  std::vector<Rec> out;
  for (int day = 0; day < 10; ++day) {
    for (int slot = 0; slot < 48; ++slot) {
      for (const char* id : {"XX.A..HHZ", "XX.B..HHZ", "YY.C..HHZ", "YY.D..HHZ"}) {
        out.push_back(rec(id, kT0 + day * kDay + slot * 30 * 60 * kSecond, 500, 100.0,
                          static_cast<uint32_t>(day * 100 + slot), 4096));
      }
    }
  }
  return out;
}

void write_by_day(RecordStore& store, const std::vector<Rec>& all) {
  for (size_t i = 0; i < all.size(); i += 48 * 4) {
    write_ok(store, std::vector<Rec>(all.begin() + static_cast<std::ptrdiff_t>(i),
                                     all.begin() + static_cast<std::ptrdiff_t>(std::min(all.size(), i + 48 * 4))));
  }
}

// What list_channels says must match the records a read returns.
void check_summaries(const RecordStore& store) {
  std::map<std::string, std::tuple<uint64_t, uint64_t, TimeNs>> seen;  // count, bytes, first start
  for (const auto& g : read(store)) {
    auto& [count, bytes, first] = seen.try_emplace(g.source_id, 0, 0, kTimeMax).first->second;
    ++count;
    bytes += g.bytes.size();
    first = std::min(first, g.start_ns);
  }
  auto channels = store.list_channels({});
  REQUIRE(channels.ok());
  CHECK(channels->size() == seen.size());
  for (const auto& c : *channels) {
    INFO(c.source_id);
    REQUIRE(seen.count(c.source_id) == 1);
    const auto& [count, bytes, first] = seen[c.source_id];
    CHECK(c.summary.record_count == count);
    CHECK(c.summary.byte_count == bytes);
    CHECK(c.summary.first_start_ns == first);
  }
}

}  // namespace

TEST_CASE("retention removes whole blocks of records that ended before each network's cutoff, deletes segment "
          "files no block names, and keeps summaries, reads, sequence numbers and duplicates true",
          "[store][retention]") {
  TempDir tmp;
  auto o = small_options(8);
  o.segment_mib = 1;
  const auto all = ten_days();
  auto store = open_store(tmp.path(), o);
  write_by_day(*store, all);
  const size_t segments_before = segment_count(tmp.path());
  REQUIRE(segments_before >= 5);

  RetentionPolicy policy;
  policy.default_days = 3;          // XX: days 7-9 stay
  policy.network_days["YY"] = 6;    // YY: days 4-9 stay
  policy.network_days["ZZ"] = 0;    // a network kept for good (none stored): the sequence index stays whole
  const TimeNs now = kT0 + 10 * kDay;
  auto expired = store->expire(policy, now);
  REQUIRE(expired.ok());

  const auto got = read(*store);
  std::set<std::vector<uint8_t>> kept;
  for (const auto& g : got) kept.insert(g.bytes);
  size_t removed = 0, removed_bytes = 0;
  for (const auto& r : all) {
    const TimeNs cutoff = now - (r.source_id.starts_with("XX") ? 3 : 6) * kDay;
    INFO(r.source_id << " ends " << (r.end_ns - kT0) / kHour << " h, cutoff " << (cutoff - kT0) / kHour << " h");
    // Gone once its whole block ended before the cutoff (a block spans at
    // most an hour: everything that ended an hour before is gone); kept
    // when it ends after the cutoff.
    if (r.end_ns < cutoff - kHour) CHECK(kept.count(r.bytes) == 0);
    if (r.end_ns >= cutoff) CHECK(kept.count(r.bytes) == 1);
    if (kept.count(r.bytes) == 0) {
      ++removed;
      removed_bytes += r.bytes.size();
    }
  }
  CHECK(expired->records == removed);
  CHECK(expired->bytes == removed_bytes);
  CHECK(expired->channels == 4);
  CHECK(expired->blocks > 0);
  check_summaries(*store);

  // Segments holding only days both networks let go are deleted: the space
  // comes back.
  CHECK(expired->segment_files >= 2);
  CHECK(segment_count(tmp.path()) == segments_before - expired->segment_files);
  CHECK(store->engine_stats().segment_files == segment_count(tmp.path()));

  // Reading by sequence number skips what is gone: exactly the records left.
  size_t by_number = 0;
  REQUIRE(store->read_sequence(
                   0, store->next_sequence(), [](uint32_t, std::string_view) { return true; },
                   [&](const StoredRecord& r) {
                     CHECK(kept.count(std::vector<uint8_t>(r.bytes.begin(), r.bytes.end())) == 1);
                     ++by_number;
                     return true;
                   })
              .ok());
  CHECK(by_number == got.size());
  CHECK(expired->sequence_entries_before == 0);  // ZZ keeps data for good

  // A kept record sent again is a duplicate; new data is stored.
  std::vector<Rec> resend;
  for (const auto& r : all) {
    if (r.end_ns >= now - 3 * kDay) resend.push_back(r);
  }
  CHECK(count_of(write_ok(*store, resend).outcomes, WriteOutcome::kDuplicate) == resend.size());
  write_ok(*store, {rec("XX.A..HHZ", now, 500, 100.0, 9999, 4096)});

  // A second pass finds nothing more; after a reopen everything still agrees.
  auto twice = store->expire(policy, now);
  REQUIRE(twice.ok());
  CHECK(twice->records == 0);
  CHECK(twice->segment_files == 0);
  store.reset();
  store = open_store(tmp.path(), o);
  check_summaries(*store);
  CHECK(read(*store).size() == got.size() + 1);

  // Everything of a network expired: its channels leave the listing.
  RetentionPolicy short_one;
  short_one.default_days = 1;
  short_one.network_days["XX"] = 0;
  auto all_of_yy = store->expire(short_one, now + 30 * kDay);
  REQUIRE(all_of_yy.ok());
  auto channels = store->list_channels({});
  REQUIRE(channels.ok());
  std::set<std::string> names;
  for (const auto& c : *channels) names.insert(c.source_id);
  CHECK(names == std::set<std::string>{"XX.A..HHZ", "XX.B..HHZ"});
  check_summaries(*store);
}

TEST_CASE("retention trims the sequence index to the longest retention", "[store][retention][sequence]") {
  TempDir tmp;
  auto store = open_store(tmp.path(), small_options(8));
  // Written now (the index keeps commit times), data of long ago.
  for (int i = 0; i < 5; ++i) write_ok(*store, {rec("XX.A..HHZ", kT0 + i * kSecond * 10, 500, 100.0, i)});
  RetentionPolicy policy;
  policy.default_days = 2;
  // Seen from three days ahead, every write was committed more than two days ago.
  auto expired = store->expire(policy, now_ns() + 3 * kDay);
  REQUIRE(expired.ok());
  CHECK(expired->records == 5);
  CHECK(expired->sequence_entries_before == 6);
  auto first = store->first_sequence();
  REQUIRE(first.ok());
  CHECK(*first == store->next_sequence());
}

TEST_CASE("retention works in bounded steps while writes go on: every write succeeds and the counts stay true",
          "[store][retention]") {
  TempDir tmp;
  auto store = open_store(tmp.path(), small_options(1));  // one record per block: many blocks
  std::vector<Rec> old;
  for (int i = 0; i < 12'000; ++i) old.push_back(rec("XX.OLD..HHZ", kT0 + i * 10 * kSecond, 500, 100.0, i, 512));
  for (size_t i = 0; i < old.size(); i += 1000) {
    write_ok(*store, std::vector<Rec>(old.begin() + static_cast<std::ptrdiff_t>(i),
                                      old.begin() + static_cast<std::ptrdiff_t>(i + 1000)));
  }
  std::atomic<bool> done{false};
  std::atomic<int> writes{0};
  std::thread writer([&] {
    for (int b = 0; !done.load() || b < 20; ++b) {
      std::vector<Rec> part;
      for (int i = 0; i < 50; ++i) part.push_back(rec("XX.NEW..HHZ", kT0 + 400 * kDay + (b * 50 + i) * kSecond, 100, 100.0, b, 512));
      write_ok(*store, part);
      ++writes;
    }
  });
  RetentionPolicy policy;
  policy.default_days = 30;
  auto expired = store->expire(policy, kT0 + 400 * kDay);
  done = true;
  writer.join();
  REQUIRE(expired.ok());
  CHECK(expired->records == old.size());
  CHECK(expired->blocks == old.size());  // in three steps of at most 4,096 blocks
  CHECK(writes.load() >= 20);
  check_summaries(*store);
  auto channels = store->list_channels({});
  REQUIRE(channels.ok());
  REQUIRE(channels->size() == 1);
  CHECK(channels->front().source_id == "XX.NEW..HHZ");
}

TEST_CASE("a policy that keeps everything removes nothing", "[store][retention]") {
  TempDir tmp;
  auto store = open_store(tmp.path(), small_options(8));
  write_ok(*store, {rec("XX.A..HHZ", kT0, 500, 100.0, 1)});
  RetentionPolicy forever;
  forever.network_days["YY"] = 0;
  CHECK_FALSE(forever.enabled());
  auto expired = store->expire(forever, kT0 + 10'000 * kDay);
  REQUIRE(expired.ok());
  CHECK(expired->records == 0);
  CHECK(read(*store).size() == 1);
}

TEST_CASE("a cancelled retention pass stops at its next step, and the next pass does the rest", "[store][retention]") {
  TempDir tmp;
  auto store = open_store(tmp.path(), small_options(8));
  std::vector<Rec> old;
  for (int i = 0; i < 100; ++i) old.push_back(rec("XX.A..HHZ", kT0 + i * 10 * kSecond, 500, 100.0, i));
  write_ok(*store, old);
  RetentionPolicy policy;
  policy.default_days = 30;
  const std::atomic<bool> cancel{true};
  auto stopped = store->expire(policy, kT0 + 100 * kDay, &cancel);
  REQUIRE(stopped.ok());
  CHECK(stopped->records == 0);
  CHECK(read(*store).size() == old.size());
  auto done = store->expire(policy, kT0 + 100 * kDay);
  REQUIRE(done.ok());
  CHECK(done->records == old.size());
  CHECK(read(*store).empty());
}
