#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "commit_order.h"

namespace seisvault::ingest {
namespace {

CommitOrder::BatchPtr batch(uint64_t sequence) {
  auto b = std::make_unique<InFlightBatch>();
  b->sequence = sequence;
  return b;
}

TEST_CASE("CommitOrder hands batches out in arrival order whatever order the workers finish them in") {
  CommitOrder::Queue queue;
  CommitOrder order(queue);
  CommitOrder::BatchPtr b;

  queue.enqueue(batch(1));
  queue.enqueue(batch(2));
  // Batch 0 is still being validated: nothing may be committed yet.
  CHECK_FALSE(order.next(b, std::chrono::milliseconds(5)));
  CHECK_FALSE(order.empty());

  queue.enqueue(batch(0));
  for (uint64_t expected = 0; expected < 3; ++expected) {
    REQUIRE(order.next(b, std::chrono::milliseconds(100)));
    CHECK(b->sequence == expected);
  }
  CHECK(order.empty());
  CHECK_FALSE(order.next(b, std::chrono::microseconds(0)));
}

TEST_CASE("CommitOrder waits for a late batch that another thread delivers") {
  CommitOrder::Queue queue;
  CommitOrder order(queue);
  queue.enqueue(batch(1));
  std::thread late([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    queue.enqueue(batch(0));
  });
  CommitOrder::BatchPtr b;
  REQUIRE(order.next(b, std::chrono::seconds(10)));
  CHECK(b->sequence == 0);
  REQUIRE(order.next(b, std::chrono::seconds(10)));
  CHECK(b->sequence == 1);
  late.join();
}

}  // namespace
}  // namespace seisvault::ingest
