// Subscription: one Subscribe call's view of the live record feed: its
// selection, and the bounded queue of records the hub delivered to it and
// the caller has not taken yet.
//
// Two threads touch it: the hub's thread delivers (and alone uses the verdict
// cache), the RPC's thread takes with pop(). A subscriber that takes too
// slowly never holds anyone up: records beyond its capacity are dropped for
// it alone and counted, and pop() reports the count (the Skipped event).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "seisvault/common/sha256.h"
#include "seisvault/common/time.h"
#include "seisvault/storage/channel_selection.h"

namespace seisvault::server {

// A record that became durable, copied once by the hub and shared by every
// subscriber that selected it. Immutable.
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
  // `capacity`: records that may wait for pop() (at least 1).
  Subscription(storage::ChannelSelection selection, size_t capacity);

  // Waits up to `timeout` for records (or news of skipped ones), then moves
  // every queued record into `out` (appended, in commit order) and returns
  // how many records were skipped for this subscriber since the last call.
  // Thread-safe.
  uint64_t pop(std::vector<std::shared_ptr<const LiveRecord>>& out, std::chrono::milliseconds timeout);

  const storage::ChannelSelection& selection() const { return selection_; }

 private:
  friend class SubscriptionHub;

  // Hub thread only: whether the channel numbered `channel` by the hub (its
  // source id is `source_id`) is selected. The verdict is kept per channel
  // number, so a 10,000-pattern selection is evaluated once per channel, not
  // once per record; `epoch` changes when the hub renumbers its channels.
  // `full_matches` counts the evaluations.
  bool wants(uint32_t channel, std::string_view source_id, uint64_t epoch, uint64_t& full_matches);

  // Hub thread: appends `records` (as many as fit; the rest are counted as
  // skipped) plus `skipped` more skipped ones, and wakes pop(). Moves from
  // `records` and leaves it empty.
  void deliver(std::vector<std::shared_ptr<const LiveRecord>>& records, uint64_t skipped);

  // Drops what is queued and takes nothing more (the RPC ended): the hub
  // may still hold this object for a while, its records need not live on.
  void close();

  const storage::ChannelSelection selection_;
  const size_t capacity_;

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::shared_ptr<const LiveRecord>> queue_;  // guarded by mutex_
  uint64_t skipped_ = 0;                                 // guarded by mutex_
  bool closed_ = false;                                  // guarded by mutex_

  // Hub thread only.
  std::vector<int8_t> verdicts_;  // per hub channel number: -1 unknown, 0 no, 1 yes
  uint64_t verdict_epoch_ = 0;
};

}  // namespace seisvault::server
