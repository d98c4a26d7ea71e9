// SubscriptionHub: hands records that just became durable to live
// subscribers (the Subscribe RPC), off the ingest path.
//
// publish() is called by the ingest pipeline (IngestOptions::on_durable, on
// its syncer thread, after the acks went out) and returns at once: with no
// subscriber it drops the pointer; otherwise it queues it in a bounded
// DurableQueue and returns. The hub's own thread (started by the
// constructor, stopped and joined by the destructor) matches each record
// against every subscriber's selection and copies it once for all the
// subscribers that selected it. Matching costs one hash lookup per record
// once its channel has been seen: each subscriber's verdict is kept per
// channel, so a selection of 10,000 patterns is evaluated once per channel.
//
// Nothing waits for a subscriber. Records are dropped, and counted as
// skipped (the Subscribe RPC's Skipped event), when
//  - one subscriber's own queue is full (that subscriber alone loses them);
//  - the hub's queue is full because the hub thread fell behind: the whole
//    group is dropped without being matched, so its records count as skipped
//    for every subscriber registered when the hub thread learns of the drop
//    (an upper bound for subscribers whose selection would not have matched);
//    the server logs it, at most once per 10 s.
//
// Thread-safe: publish(), subscribe(), unsubscribe() and the counters may
// be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "durable_queue.h"
#include "seisvault/common/string_map.h"
#include "seisvault/ingest/durable_records.h"
#include "seisvault/storage/channel_selection.h"
#include "subscription.h"

namespace seisvault::server {

struct HubOptions {
  // Groups of durable records (one per group commit) waiting for the hub
  // thread, at most, and their record bytes. Beyond either, a group is
  // dropped and reported as skipped. 1024 groups is five seconds of 5 ms
  // group commits; 64 MiB is about 130,000 records of 512 bytes.
  size_t queue_groups = 1024;
  size_t queue_bytes = size_t{64} << 20;
  // Distinct channels whose verdicts are remembered; when more have been
  // seen, the memory starts afresh (every selection is evaluated again once
  // per channel). Costs each subscriber one byte per channel.
  size_t verdict_channels = size_t{1} << 16;
};

class SubscriptionHub {
 public:
  explicit SubscriptionHub(HubOptions options = {});
  // Stops the hub thread; groups still queued are dropped.
  ~SubscriptionHub();
  SubscriptionHub(const SubscriptionHub&) = delete;
  SubscriptionHub& operator=(const SubscriptionHub&) = delete;

  // A new subscriber with room for `capacity` records not yet taken. It
  // receives the records published after this call returns (and possibly a
  // few published just before). End it with unsubscribe().
  std::shared_ptr<Subscription> subscribe(storage::ChannelSelection selection, size_t capacity);
  // Ends a subscription: it receives nothing more and its queue is freed.
  void unsubscribe(const std::shared_ptr<Subscription>& s);

  // Offers records that just became durable to the subscribers. Never
  // blocks, never matches or copies on the caller's thread; keeps the
  // pointer (and so the records' memory) until the hub thread is done.
  void publish(std::shared_ptr<const ingest::DurableRecords> records);

  size_t subscriber_count() const { return subscriber_count_.load(std::memory_order_relaxed); }

  struct Counters {
    uint64_t groups_dropped = 0;     // groups dropped because the hub's queue was full
    uint64_t records_dropped = 0;    // their records
    uint64_t selection_matches = 0;  // full evaluations of a selection against a source id
  };
  Counters counters() const;

 private:
  void run();
  // Hub thread: the number of `source_id` in the verdict caches.
  uint32_t channel_number(std::string_view source_id);

  const HubOptions options_;
  DurableQueue queue_;

  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<Subscription>> subscribers_;  // guarded by mutex_
  uint64_t generation_ = 0;                                 // guarded by mutex_; bumped on every change
  std::atomic<size_t> subscriber_count_{0};

  std::atomic<uint64_t> groups_dropped_{0};
  std::atomic<uint64_t> records_dropped_{0};
  std::atomic<uint64_t> selection_matches_{0};

  // Hub thread only.
  StringMap<uint32_t> channels_;
  uint64_t channels_epoch_ = 0;

  std::thread thread_;  // last: starts once everything above exists
};

}  // namespace seisvault::server
