// DurableQueue on its own, one thread: its bounds, what it drops and how it
// reports the drops.
#include <catch2/catch.hpp>

#include <thread>

#include "durable_queue.h"
#include "hub_records.h"

using namespace seisvault;
using namespace seisvault::server;

TEST_CASE("a full queue drops the new group and counts its records, the queued ones come out oldest first",
          "[hub][queue]") {
  DurableQueue q(2, size_t{1} << 20);
  CHECK(q.try_push(test::durable_group({"XX.A..HHZ"}, 0), 10));
  CHECK(q.try_push(test::durable_group({"XX.A..HHZ", "XX.B..HHZ"}, 1), 20));
  CHECK_FALSE(q.try_push(test::durable_group({"XX.A..HHZ", "XX.A..HHZ", "XX.A..HHZ"}, 3), 30));
  std::vector<DurableQueue::Entry> out;
  auto taken = q.take(out);
  REQUIRE(out.size() == 2);
  CHECK(out[0].published_ns == 10);
  CHECK(out[0].group->records.size() == 1);
  CHECK(out[1].published_ns == 20);
  CHECK(taken.dropped_records == 3);
  CHECK_FALSE(taken.closed);
  // Taken: room again, and the drop was reported once.
  CHECK(q.try_push(test::durable_group({"XX.A..HHZ"}, 6), 40));
  out.clear();
  taken = q.take(out);
  CHECK(out.size() == 1);
  CHECK(taken.dropped_records == 0);
}

TEST_CASE("the byte bound drops groups beyond it, but an oversized group still passes an empty queue",
          "[hub][queue]") {
  const auto big = test::durable_group(std::vector<std::string>(100, "XX.BIG..HHZ"), 0);  // ~1.5 kB of bytes
  DurableQueue q(100, 1000);
  CHECK(q.try_push(big, 1));
  CHECK_FALSE(q.try_push(test::durable_group({"XX.A..HHZ"}, 0), 2));
  std::vector<DurableQueue::Entry> out;
  CHECK(q.take(out).dropped_records == 1);
  out.clear();
  CHECK(q.try_push(test::durable_group({"XX.A..HHZ"}, 0), 3));
  CHECK(q.try_push(test::durable_group({"XX.A..HHZ"}, 1), 4));
  CHECK(q.take(out).dropped_records == 0);
  CHECK(out.size() == 2);
}

TEST_CASE("close wakes a waiting consumer, and later groups are dropped", "[hub][queue]") {
  DurableQueue q(4, 1 << 20);
  DurableQueue::Taken taken;
  std::thread consumer([&] {
    std::vector<DurableQueue::Entry> out;
    taken = q.take(out);
  });
  q.close();
  consumer.join();
  CHECK(taken.closed);
  CHECK_FALSE(q.try_push(test::durable_group({"XX.A..HHZ"}, 0), 1));
}
