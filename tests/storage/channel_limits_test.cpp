// Limits on new channels (StoreOptions::max_channels_per_station and
// max_new_channels_per_sender_per_hour), with a real RocksDB: a station or a
// key that floods the catalog with made-up channel codes gets the rest
// refused, while its existing channels and everyone else's go on.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <fmt/format.h>

#include "seisvault/storage/fault_injection.h"
#include "seisvault/storage/record_store.h"
#include "store_test_records.h"
#include "support/process.h"
#include "support/temp_dir.h"

using namespace seisvault;
using namespace seisvault::storage;
using seisvault::test::eventually;
using seisvault::test::TempDir;
using namespace seisvault::storage_test;

namespace {

std::vector<ChannelInfo> channels(const RecordStore& store, std::string_view pattern) {
  auto r = store.list_channels(sel(pattern));
  INFO((r.ok() ? std::string("ok") : r.status().to_string()));
  REQUIRE(r.ok());
  return r.value();
}

Rec from(Rec r, std::string sender) {
  r.sender = std::move(sender);
  return r;
}

}  // namespace

TEST_CASE("a flood of 5,000 new channel codes for one station stores the first up to the limit and refuses the "
          "rest, while the station's existing channels and other stations go on",
          "[store][limits]") {
  TempDir tmp;
  auto o = small_options();
  REQUIRE(o.max_channels_per_station == 1000);  // the default
  auto store = open_store(tmp.path(), o);
  CHECK(store->options().max_channels_per_station == 1000);
  // The station has three channels already, another station two.
  const std::vector<Rec> existing = {rec("XX.FLD.00.HHZ", kT0, 100, 100.0, 1), rec("XX.FLD.00.HHN", kT0, 100, 100.0, 2),
                                     rec("XX.FLD.10.LHZ", kT0, 100, 100.0, 3), rec("XX.OTH.00.HHZ", kT0, 100, 100.0, 4),
                                     rec("XX.OTH.00.HHN", kT0, 100, 100.0, 5)};
  write_ok(*store, existing);

  // The flood, one write, with records of the existing channels among it.
  std::vector<Rec> flood;
  std::vector<size_t> of_existing;
  for (int i = 0; i < 5000; ++i) {
    flood.push_back(rec(fmt::format("XX.FLD.{:02}.{:03}", i / 1000, i % 1000), kT0, 10, 100.0, 10 + i, 64));
    if (i % 1000 == 500) {
      for (int e = 0; e < 5; ++e) {
        of_existing.push_back(flood.size());
        flood.push_back(rec(existing[e].source_id, kT0 + (1 + i) * kSecond, 100, 100.0, 9000 + i + e));
      }
    }
  }
  const auto w = write_ok(*store, flood);
  size_t new_stored = 0;
  size_t first_refused = flood.size();
  for (size_t i = 0; i < flood.size(); ++i) {
    if (std::find(of_existing.begin(), of_existing.end(), i) != of_existing.end()) {
      CHECK(w.outcomes[i] == WriteOutcome::kStored);
      continue;
    }
    if (w.outcomes[i] == WriteOutcome::kStored) {
      ++new_stored;
      CHECK(i < first_refused);  // the first ones, in write order
    } else {
      CHECK(w.outcomes[i] == WriteOutcome::kTooManyChannels);
      first_refused = std::min(first_refused, i);
    }
  }
  CHECK(new_stored == 997);
  CHECK(w.stats.refused == 5000 - 997);
  CHECK(w.stats.stored == 997 + of_existing.size());
  CHECK(channels(*store, "XX.FLD").size() == 1000);
  // A refused code is nowhere: no channel, no record.
  CHECK(channels(*store, "XX.FLD.04.999").empty());
  CHECK(read(*store, sel("XX.FLD.04")).empty());

  auto check_after = [&](RecordStore& st) {
    // More new codes for the station: refused; its existing channels and a
    // new channel of another station: stored.
    const auto more = write_ok(st, {rec("XX.FLD.99.NEW", kT0, 100, 100.0, 70001),
                                    rec("XX.FLD.00.HHZ", kT0 + 9000 * kSecond, 100, 100.0, 70002),
                                    rec("XX.OTH.00.HHE", kT0, 100, 100.0, 70003),
                                    rec("YY.NEW.00.HHZ", kT0, 100, 100.0, 70004)});
    CHECK(more.outcomes[0] == WriteOutcome::kTooManyChannels);
    CHECK(more.outcomes[1] == WriteOutcome::kStored);
    CHECK(more.outcomes[2] == WriteOutcome::kStored);
    CHECK(more.outcomes[3] == WriteOutcome::kStored);
    CHECK(channels(st, "XX.FLD").size() == 1000);
    CHECK(read(st, sel("XX.OTH")).size() == 2 + 2 * 5 + 1);
    // A refused record does not make a resend of a stored one less of a duplicate.
    const auto dup = write_ok(st, {existing[0], rec("XX.FLD.99.NEW", kT0, 100, 100.0, 70001)});
    CHECK(dup.outcomes[0] == WriteOutcome::kDuplicate);
    CHECK(dup.outcomes[1] == WriteOutcome::kTooManyChannels);
  };
  check_after(*store);
  // Reopened, the station's channels are counted from the catalog.
  store.reset();
  store = open_store(tmp.path(), o);
  const auto again = write_ok(*store, {rec("XX.FLD.98.NEW", kT0, 100, 100.0, 80001)});
  CHECK(again.outcomes[0] == WriteOutcome::kTooManyChannels);
  // Reopened with a lower limit: existing channels still take records.
  store.reset();
  o.max_channels_per_station = 10;
  store = open_store(tmp.path(), o);
  const auto lowered = write_ok(*store, {rec("XX.FLD.00.001", kT0 + kSecond, 10, 100.0, 80002, 64),
                                         rec("XX.OTH.00.HHZ", kT0 + 50 * kSecond, 100, 100.0, 80003),
                                         rec("ZZ.NEW.00.HHZ", kT0, 100, 100.0, 80004)});
  CHECK(lowered.outcomes[0] == WriteOutcome::kStored);
  CHECK(lowered.outcomes[1] == WriteOutcome::kStored);
  CHECK(lowered.outcomes[2] == WriteOutcome::kStored);
}

TEST_CASE("all records of a refused channel in one write are refused, resends and all", "[store][limits]") {
  TempDir tmp;
  auto o = small_options();
  o.max_channels_per_station = 2;
  auto store = open_store(tmp.path(), o);
  const Rec a = rec("XX.STA.00.HHZ", kT0, 100, 100.0, 1);
  const Rec b = rec("XX.STA.00.HHN", kT0, 100, 100.0, 2);
  const Rec c1 = rec("XX.STA.00.HHE", kT0, 100, 100.0, 3);
  const Rec c2 = rec("XX.STA.00.HHE", kT0 + kSecond, 100, 100.0, 4);
  const auto w = write_ok(*store, {c1, a, c2, b, c1, a});
  CHECK(w.outcomes[0] == WriteOutcome::kStored);  // HHE came first
  CHECK(w.outcomes[1] == WriteOutcome::kStored);
  CHECK(w.outcomes[2] == WriteOutcome::kStored);
  CHECK(w.outcomes[3] == WriteOutcome::kTooManyChannels);
  CHECK(w.outcomes[4] == WriteOutcome::kDuplicate);
  CHECK(w.outcomes[5] == WriteOutcome::kDuplicate);
  CHECK(w.stats.stored == 3);
  CHECK(w.stats.refused == 1);
  CHECK(w.stats.duplicates == 2);
  const auto r = write_ok(*store, {b, rec("XX.STA.00.HHN", kT0 + kSecond, 100, 100.0, 5), b}, true);
  CHECK(count_of(r.outcomes, WriteOutcome::kTooManyChannels) == 3);
  CHECK(r.stats.refused == 3);
  CHECK(read(*store).size() == 3);
}

TEST_CASE("a sender that creates more new channels per hour than its budget gets the rest refused, while other "
          "senders and its existing channels go on",
          "[store][limits]") {
  TempDir tmp;
  auto o = small_options();
  o.max_new_channels_per_sender_per_hour = 100;
  auto store = open_store(tmp.path(), o);
  write_ok(*store, {from(rec("AA.OLD.00.HHZ", kT0, 100, 100.0, 1), "key-A")});
  // 150 new channels over three stations (50 each: no station limit).
  std::vector<Rec> flood;
  for (int i = 0; i < 150; ++i) {
    flood.push_back(from(rec(fmt::format("AA.S{}.00.{:03}", i % 3, i), kT0, 10, 100.0, 10 + i, 64), "key-A"));
  }
  const auto w = write_ok(*store, flood);
  // The bucket started full (100) and the old channel took one.
  for (size_t i = 0; i < flood.size(); ++i) {
    INFO(i);
    CHECK(w.outcomes[i] == (i < 99 ? WriteOutcome::kStored : WriteOutcome::kTooManyNewChannels));
  }
  CHECK(w.stats.refused == 51);
  const auto next = write_ok(*store, {from(rec("AA.S9.00.HHZ", kT0, 100, 100.0, 500), "key-A"),
                                      from(rec("AA.OLD.00.HHZ", kT0 + 10 * kSecond, 100, 100.0, 501), "key-A"),
                                      from(rec("BB.S1.00.HHZ", kT0, 100, 100.0, 502), "key-B"),
                                      from(rec("CC.S1.00.HHZ", kT0, 100, 100.0, 503), "")});
  CHECK(next.outcomes[0] == WriteOutcome::kTooManyNewChannels);
  CHECK(next.outcomes[1] == WriteOutcome::kStored);
  CHECK(next.outcomes[2] == WriteOutcome::kStored);  // another key has its own budget
  CHECK(next.outcomes[3] == WriteOutcome::kStored);  // local loads (no sender) are not counted
  CHECK(channels(*store, "AA").size() == 100);
  CHECK(store->options().max_new_channels_per_sender_per_hour == 100);
}

TEST_CASE("new channels of a write that fails are not counted against the limits", "[store][limits][health]") {
  TempDir tmp;
  auto faults = std::make_shared<FaultInjection>();
  auto o = small_options();
  o.min_free_bytes = 0;
  o.faults = faults;
  o.max_channels_per_station = 3;
  o.max_new_channels_per_sender_per_hour = 3;
  auto store = open_store(tmp.path(), o);
  std::vector<Rec> three;
  for (int i = 0; i < 3; ++i) three.push_back(rec(fmt::format("XX.F.00.HH{}", i), kT0, 100, 100.0, i + 1));
  faults->set_fail_wal_writes(true);
  CHECK(write(*store, three).status.code() == StatusCode::kUnavailable);
  faults->set_fail_wal_writes(false);
  REQUIRE(eventually([&] { return store->try_resume().state == StoreState::kOk; }, std::chrono::seconds(20)));
  const auto w = write_ok(*store, three);
  CHECK(count_of(w.outcomes, WriteOutcome::kStored) == 3);
  CHECK(write_ok(*store, {rec("XX.F.00.HH9", kT0, 100, 100.0, 9)}).outcomes[0] == WriteOutcome::kTooManyChannels);
}
