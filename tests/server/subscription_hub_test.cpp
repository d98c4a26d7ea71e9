// SubscriptionHub with its real thread: what subscribers receive, what they
// are told they missed, and that publish() (the ingest pipeline's call)
// never waits for them. No time is asserted: waits are for outcomes.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include "hub_records.h"
#include "subscription_hub.h"
#include "support/process.h"

using namespace seisvault;
using namespace seisvault::server;
using seisvault::test::durable_group;
using seisvault::test::eventually;

namespace {

// What one subscriber got so far.
struct Got {
  std::vector<std::string> bytes;
  uint64_t skipped = 0;
  uint64_t total() const { return bytes.size() + skipped; }
};

// Takes what is there now (waiting up to 20 ms).
void drain(Subscription& s, Got& got) {
  std::vector<std::shared_ptr<const LiveRecord>> out;
  got.skipped += s.pop(out, std::chrono::milliseconds(20));
  for (const auto& r : out) got.bytes.push_back(r->bytes);
}

storage::ChannelSelection select(const std::string& text) { return storage::ChannelSelection::parse(text).value(); }

// 10,000 patterns of stations that never send, plus `extra`.
storage::ChannelSelection many_patterns(const std::string& extra) {
  std::string text;
  for (int i = 0; i < 10000; ++i) text += fmt::format("XX.P{:04d}.00.HH? ", i);
  return select(text + extra);
}

}  // namespace

TEST_CASE("a subscriber with 10,000 patterns gets exactly its records, its selection evaluated once per channel",
          "[hub]") {
  SubscriptionHub hub;
  auto sub = hub.subscribe(many_patterns("XX.LIVE"), 100000);
  std::vector<std::string> expected;
  int64_t seq = 0;
  for (int g = 0; g < 100; ++g) {
    std::vector<std::string> ids;
    for (int i = 0; i < 30; ++i) ids.push_back(i % 3 == 0 ? "YY.OTHER.00.HHZ" : i % 3 == 1 ? "XX.LIVE.00.HHZ" : "XX.LIVE.00.HHN");
    auto group = durable_group(ids, seq);
    for (const auto& r : group->records) {
      if (r.source_id.starts_with("XX.LIVE")) expected.emplace_back(reinterpret_cast<const char*>(r.bytes.data()), r.bytes.size());
    }
    seq += static_cast<int64_t>(ids.size());
    hub.publish(group);
  }
  Got got;
  REQUIRE(eventually([&] { drain(*sub, got); return got.total() >= expected.size(); }, std::chrono::seconds(60)));
  CHECK(got.skipped == 0);
  CHECK(got.bytes == expected);  // in commit order, nothing of YY.OTHER
  // Three channels seen: three evaluations of the 10,000 patterns, not 3,000.
  CHECK(hub.counters().selection_matches == 3);
  hub.unsubscribe(sub);
}

TEST_CASE("publish returns while a subscriber takes nothing: it is told how many it missed, the others get everything",
          "[hub]") {
  SubscriptionHub hub;
  auto stuck = hub.subscribe(select("*"), 10);
  auto reader = hub.subscribe(select("XX"), 1000000);
  const size_t groups = 200, per_group = 50;
  for (size_t g = 0; g < groups; ++g) {
    hub.publish(durable_group(std::vector<std::string>(per_group, "XX.STA.00.HHZ"), static_cast<int64_t>(g * per_group)));
  }
  // Every publish returned although `stuck` never took a record.
  const uint64_t total = groups * per_group;
  Got got_reader, got_stuck;
  REQUIRE(eventually([&] { drain(*reader, got_reader); return got_reader.total() >= total; }, std::chrono::seconds(60)));
  // Whatever the hub's queue did, nothing vanished unreported.
  CHECK(got_reader.total() == total);
  REQUIRE(eventually([&] { drain(*stuck, got_stuck); return got_stuck.total() >= total; }, std::chrono::seconds(60)));
  CHECK(got_stuck.total() == total);
  CHECK(got_stuck.bytes.size() <= 10);
  CHECK(got_stuck.skipped >= total - 10);
  hub.unsubscribe(stuck);
  hub.unsubscribe(reader);
}

TEST_CASE("groups the hub thread could not keep up with are reported as skipped to every subscriber", "[hub]") {
  // One queued group at most, and a first group that keeps the hub thread
  // busy: 2,000 new channels against 10,000 patterns each. Whether and how
  // many groups overflow depends on the machine; what must hold whatever
  // happened is that each record is delivered or counted as skipped, and
  // that a drop reaches every subscriber.
  SubscriptionHub hub(HubOptions{.queue_groups = 1});
  auto picky = hub.subscribe(many_patterns(""), 1000000);  // never matches
  auto all = hub.subscribe(select("*"), 1000000);
  std::vector<std::string> first_ids;
  for (int i = 0; i < 2000; ++i) first_ids.push_back(fmt::format("ZZ.N{:04d}.00.HHZ", i));
  hub.publish(durable_group(first_ids, 0));
  uint64_t total = first_ids.size();
  for (int g = 1; g < 100; ++g) {
    hub.publish(durable_group(std::vector<std::string>(20, "ZZ.N0000.00.HHZ"), static_cast<int64_t>(total)));
    total += 20;
  }
  Got got_all, got_picky;
  REQUIRE(eventually([&] { drain(*all, got_all); return got_all.total() >= total; }, std::chrono::seconds(120)));
  CHECK(got_all.total() == total);
  const auto counters = hub.counters();
  CHECK(got_all.skipped == counters.records_dropped);
  REQUIRE(eventually([&] { drain(*picky, got_picky); return got_picky.skipped >= counters.records_dropped; },
                     std::chrono::seconds(10)));
  CHECK(got_picky.bytes.empty());
  CHECK(got_picky.skipped == counters.records_dropped);
  INFO("groups dropped: " << counters.groups_dropped);
  hub.unsubscribe(picky);
  hub.unsubscribe(all);
}

TEST_CASE("publish without subscribers keeps nothing, and an ended subscription receives nothing more", "[hub]") {
  SubscriptionHub hub;
  auto group = durable_group({"XX.A.00.HHZ"}, 0);
  hub.publish(group);
  CHECK(group.use_count() == 1);  // not queued: nobody wanted it

  auto sub = hub.subscribe(select("XX"), 100);
  hub.publish(durable_group({"XX.A.00.HHZ"}, 1));
  Got got;
  REQUIRE(eventually([&] { drain(*sub, got); return got.total() >= 1; }, std::chrono::seconds(30)));
  hub.unsubscribe(sub);
  CHECK(hub.subscriber_count() == 0);
  hub.publish(durable_group({"XX.A.00.HHZ"}, 2));
  drain(*sub, got);
  CHECK(got.total() == 1);
}

TEST_CASE("destroying the hub with groups queued and subscribers still open ends cleanly", "[hub]") {
  std::shared_ptr<Subscription> sub;
  {
    SubscriptionHub hub;
    sub = hub.subscribe(select("*"), 10);
    for (int g = 0; g < 50; ++g) hub.publish(durable_group(std::vector<std::string>(100, "XX.A.00.HHZ"), g * 100));
  }
  // The subscription outlives the hub; taking from it still works.
  Got got;
  drain(*sub, got);
  CHECK(got.bytes.size() <= 10);
}
