#include "subscription_hub.h"

#include <algorithm>

namespace seisvault::server {

uint64_t Subscription::pop(std::vector<std::shared_ptr<const LiveRecord>>& out, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  ready_.wait_for(lock, timeout, [&] { return !queue_.empty() || skipped_ > 0; });
  out.insert(out.end(), std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
  queue_.clear();
  return std::exchange(skipped_, 0);
}

std::shared_ptr<Subscription> SubscriptionHub::subscribe(storage::ChannelSelection selection, size_t capacity) {
  auto s = std::make_shared<Subscription>(std::move(selection), std::max<size_t>(1, capacity));
  std::lock_guard lock(mutex_);
  subscribers_.push_back(s);
  return s;
}

void SubscriptionHub::unsubscribe(const std::shared_ptr<Subscription>& s) {
  std::lock_guard lock(mutex_);
  subscribers_.remove(s);
}

size_t SubscriptionHub::subscriber_count() const {
  std::lock_guard lock(mutex_);
  return subscribers_.size();
}

void SubscriptionHub::publish(std::shared_ptr<const ingest::DurableRecords> records) {
  std::lock_guard lock(mutex_);
  if (subscribers_.empty()) return;
  const TimeNs now = now_ns();
  for (const auto& r : records->records) {
    std::shared_ptr<const LiveRecord> shared;
    for (auto& s : subscribers_) {
      if (!s->selection_.matches(r.source_id)) continue;
      if (!shared) {
        auto live = std::make_shared<LiveRecord>();
        live->source_id = r.source_id;
        live->start_ns = r.start_ns;
        live->end_ns = r.end_ns;
        live->receive_ns = r.receive_ns;
        live->sha256 = r.sha256;
        live->bytes.assign(reinterpret_cast<const char*>(r.bytes.data()), r.bytes.size());
        live->published_ns = now;
        shared = std::move(live);
      }
      std::lock_guard sl(s->mutex_);
      if (s->queue_.size() < s->capacity_) {
        s->queue_.push_back(shared);
      } else {
        ++s->skipped_;
      }
    }
  }
  for (auto& s : subscribers_) s->ready_.notify_one();
}

}  // namespace seisvault::server
