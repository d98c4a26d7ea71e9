// CommitOrder: hands the committer batches in the order the receiver read
// them, whatever order the validation workers finish them in.
// Internal to ingest/; used by the committer thread only.
//
// Why: a station sends its records in time order, and the store recognises a
// record that starts after its channel's latest stored record as new without
// any lookup. Committing batch n+1 before batch n would make every record of
// n look like a possible resend and cost a read of the store each.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>

#include <concurrentqueue/blockingconcurrentqueue.h>

#include "in_flight_batch.h"

namespace seisvault::ingest {

class CommitOrder {
 public:
  using BatchPtr = std::unique_ptr<InFlightBatch>;
  using Queue = moodycamel::BlockingConcurrentQueue<BatchPtr>;

  explicit CommitOrder(Queue& queue) : queue_(queue) {}

  // The next batch in sequence, waiting up to `timeout` for it; false when
  // it has not arrived by then (batches that arrive early are kept).
  bool next(BatchPtr& out, std::chrono::microseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (auto it = early_.find(next_); it != early_.end()) {
        out = std::move(it->second);
        early_.erase(it);
        ++next_;
        return true;
      }
      const auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - std::chrono::steady_clock::now());
      BatchPtr b;
      if (!queue_.wait_dequeue_timed(b, std::max(left, std::chrono::microseconds(0)))) return false;
      const uint64_t seq = b->sequence;
      early_.emplace(seq, std::move(b));
    }
  }

  // Whether every batch taken from the queue has been handed out.
  bool empty() const { return early_.empty(); }

 private:
  Queue& queue_;
  uint64_t next_ = 0;
  std::map<uint64_t, BatchPtr> early_;
};

}  // namespace seisvault::ingest
