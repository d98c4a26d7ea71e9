// DurableQueue: the bounded hand-off between the ingest pipeline, which
// publishes records as they become durable, and the subscription hub's
// thread, which matches and copies them.
//
// try_push() never waits: when the queue is full it drops the group and
// counts its records, so that the hub can tell every subscriber how many
// were skipped. The bound is both a number of groups and their record bytes:
// a queued group keeps the received frames it points into alive, so the
// bytes are memory the server holds. A group larger than the byte bound
// alone is still taken when the queue is empty (it could never pass
// otherwise). Thread-safe: any number of producers, one consumer.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "seisvault/common/time.h"
#include "seisvault/ingest/durable_records.h"

namespace seisvault::server {

class DurableQueue {
 public:
  using Group = std::shared_ptr<const ingest::DurableRecords>;
  struct Entry {
    Group group;
    TimeNs published_ns = 0;  // when it was pushed: when its records became durable
  };

  // max_groups >= 1; max_bytes: record bytes queued at most.
  DurableQueue(size_t max_groups, size_t max_bytes);

  // Queues `group` with the time it was published; false when it was
  // dropped (full or closed), its records then count as dropped. Never
  // blocks beyond a short critical section; allocates nothing.
  bool try_push(Group group, TimeNs published_ns);

  struct Taken {
    uint64_t dropped_records = 0;  // dropped since the previous take
    bool closed = false;
  };
  // Waits until there is a group, a drop to report, or close(); then moves
  // the queued groups, oldest first, to the end of `out`.
  Taken take(std::vector<Entry>& out);

  // Wakes take() for good; later pushes are dropped. Idempotent.
  void close();

 private:
  const size_t max_bytes_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::vector<Entry> ring_;  // fixed size max_groups
  size_t head_ = 0;
  size_t count_ = 0;
  size_t bytes_ = 0;  // record bytes of the queued groups
  uint64_t dropped_ = 0;
  bool closed_ = false;
};

}  // namespace seisvault::server
