// SubscriptionHub: hands records that just became durable to live
// subscribers (the Subscribe RPC).
//
// publish() runs on the ingest committer thread, so it never waits for a
// subscriber: each subscriber has a bounded queue, and when it is full the
// records are dropped for that subscriber and counted, to be reported to it
// as skipped. A record matched by several subscribers is copied once and
// shared. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "seisvault/common/sha256.h"
#include "seisvault/ingest/durable_records.h"
#include "seisvault/storage/channel_selection.h"

namespace seisvault::server {

// A record owned by the hub, shared by the subscribers that want it.
struct LiveRecord {
  std::string source_id;
  TimeNs start_ns = 0;
  TimeNs end_ns = 0;
  TimeNs receive_ns = 0;
  Sha256Digest sha256{};
  std::string bytes;
  TimeNs published_ns = 0;  // when it became durable (for latency figures)
};

class Subscription {
 public:
  Subscription(storage::ChannelSelection selection, size_t capacity)
      : selection_(std::move(selection)), capacity_(capacity) {}

  // Waits up to `timeout` for records, then moves every queued record into
  // `out` and returns how many were dropped for this subscriber since the
  // last call.
  uint64_t pop(std::vector<std::shared_ptr<const LiveRecord>>& out, std::chrono::milliseconds timeout);

 private:
  friend class SubscriptionHub;
  storage::ChannelSelection selection_;
  size_t capacity_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::shared_ptr<const LiveRecord>> queue_;
  uint64_t skipped_ = 0;
};

class SubscriptionHub {
 public:
  // A subscriber with room for `capacity` records not yet taken. Dropping
  // the returned pointer (and calling unsubscribe) ends the subscription.
  std::shared_ptr<Subscription> subscribe(storage::ChannelSelection selection, size_t capacity);
  void unsubscribe(const std::shared_ptr<Subscription>& s);
  // Offers the records to every subscriber whose selection matches.
  void publish(std::shared_ptr<const ingest::DurableRecords> records);
  size_t subscriber_count() const;

 private:
  mutable std::mutex mutex_;
  std::list<std::shared_ptr<Subscription>> subscribers_;
};

}  // namespace seisvault::server
