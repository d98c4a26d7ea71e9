#include "subscription_hub.h"

#include <algorithm>
#include <chrono>
#include <optional>

#include <spdlog/spdlog.h>

#include "seisvault/common/thread_name.h"

namespace seisvault::server {

SubscriptionHub::SubscriptionHub(HubOptions options)
    : options_(options),
      queue_(options.queue_groups, options.queue_bytes),
      thread_([this] {
        set_thread_name("sv-hub");
        run();
      }) {}

SubscriptionHub::~SubscriptionHub() {
  queue_.close();
  thread_.join();
}

std::shared_ptr<Subscription> SubscriptionHub::subscribe(storage::ChannelSelection selection, size_t capacity) {
  auto s = std::make_shared<Subscription>(std::move(selection), capacity);
  std::lock_guard lock(mutex_);
  subscribers_.push_back(s);
  ++generation_;
  // Release: a publish() that sees this count also sees, through the queue,
  // the list the hub thread will then copy.
  subscriber_count_.store(subscribers_.size(), std::memory_order_release);
  return s;
}

void SubscriptionHub::unsubscribe(const std::shared_ptr<Subscription>& s) {
  if (!s) return;
  s->close();
  std::lock_guard lock(mutex_);
  subscribers_.erase(std::remove(subscribers_.begin(), subscribers_.end(), s), subscribers_.end());
  ++generation_;
  subscriber_count_.store(subscribers_.size(), std::memory_order_release);
}

void SubscriptionHub::publish(std::shared_ptr<const ingest::DurableRecords> records) {
  if (!records || records->records.empty()) return;
  // A subscriber registering right now may miss this group: it reads what
  // is already stored (its backlog) after registering, and these records
  // are in the store before they are published.
  if (subscriber_count_.load(std::memory_order_acquire) == 0) return;
  const size_t n = records->records.size();
  if (!queue_.try_push(std::move(records), now_ns())) {
    groups_dropped_.fetch_add(1, std::memory_order_relaxed);
    records_dropped_.fetch_add(n, std::memory_order_relaxed);
  }
}

SubscriptionHub::Counters SubscriptionHub::counters() const {
  return {groups_dropped_.load(std::memory_order_relaxed), records_dropped_.load(std::memory_order_relaxed),
          selection_matches_.load(std::memory_order_relaxed)};
}

uint32_t SubscriptionHub::channel_number(std::string_view source_id) {
  if (auto it = channels_.find(source_id); it != channels_.end()) return it->second;
  if (channels_.size() >= std::max<size_t>(1, options_.verdict_channels)) {
    // Bounded memory: start afresh rather than keep channels that may be
    // long gone. Subscribers see the new epoch and forget their verdicts.
    channels_.clear();
    ++channels_epoch_;
  }
  const auto number = static_cast<uint32_t>(channels_.size());
  channels_.emplace(std::string(source_id), number);
  return number;
}

void SubscriptionHub::run() {
  std::vector<DurableQueue::Entry> groups;
  std::vector<std::shared_ptr<Subscription>> subscribers;  // this thread's copy
  std::vector<std::vector<std::shared_ptr<const LiveRecord>>> pending;  // per subscriber
  uint64_t seen_generation = ~uint64_t{0};
  // Drops are logged at most once per 10 s, the first at once.
  std::optional<std::chrono::steady_clock::time_point> last_log;
  uint64_t unlogged_drops = 0;
  for (;;) {
    groups.clear();
    const auto taken = queue_.take(groups);
    if (taken.closed) return;  // the hub is going away: what is queued goes with it
    if (taken.dropped_records > 0) {
      unlogged_drops += taken.dropped_records;
      const auto now = std::chrono::steady_clock::now();
      if (!last_log || now - *last_log >= std::chrono::seconds(10)) {
        spdlog::warn("live feed: the subscription hub fell behind and dropped {} records (subscribers were told; "
                     "the records are stored)",
                     unlogged_drops);
        unlogged_drops = 0;
        last_log = now;
      }
    }
    {
      std::lock_guard lock(mutex_);
      if (generation_ != seen_generation) {
        subscribers = subscribers_;
        seen_generation = generation_;
      }
    }
    pending.resize(subscribers.size());
    uint64_t matches = 0;
    for (const auto& [group, published_ns] : groups) {
      for (const auto& r : group->records) {
        const uint32_t channel = channel_number(r.source_id);
        std::shared_ptr<const LiveRecord> shared;
        for (size_t i = 0; i < subscribers.size(); ++i) {
          if (!subscribers[i]->wants(channel, r.source_id, channels_epoch_, matches)) continue;
          if (!shared) {
            auto live = std::make_shared<LiveRecord>();
            live->source_id = r.source_id;
            live->start_ns = r.start_ns;
            live->end_ns = r.end_ns;
            live->receive_ns = r.receive_ns;
            live->sha256 = r.sha256;
            live->bytes.assign(reinterpret_cast<const char*>(r.bytes.data()), r.bytes.size());
            live->published_ns = published_ns;
            shared = std::move(live);
          }
          pending[i].push_back(shared);
        }
      }
    }
    // Release the frames before waking anyone: the records are copied.
    groups.clear();
    if (matches > 0) selection_matches_.fetch_add(matches, std::memory_order_relaxed);
    for (size_t i = 0; i < subscribers.size(); ++i) subscribers[i]->deliver(pending[i], taken.dropped_records);
  }
}

}  // namespace seisvault::server
