#include "durable_queue.h"

#include <algorithm>

namespace seisvault::server {

DurableQueue::DurableQueue(size_t max_groups, size_t max_bytes)
    : max_bytes_(max_bytes), ring_(std::max<size_t>(1, max_groups)) {}

bool DurableQueue::try_push(Group group, TimeNs published_ns) {
  if (!group) return true;
  size_t bytes = 0;
  for (const auto& r : group->records) bytes += r.bytes.size();
  const uint64_t records = group->records.size();
  bool taken = false;
  {
    std::lock_guard lock(mutex_);
    if (!closed_ && count_ < ring_.size() && (count_ == 0 || bytes_ + bytes <= max_bytes_)) {
      const size_t slot = (head_ + count_) % ring_.size();
      ring_[slot] = {std::move(group), published_ns};
      ++count_;
      bytes_ += bytes;
      taken = true;
    } else {
      dropped_ += records;
    }
  }
  // Dropped groups wake the consumer too: subscribers must hear about them.
  ready_.notify_one();
  return taken;
}

DurableQueue::Taken DurableQueue::take(std::vector<Entry>& out) {
  std::unique_lock lock(mutex_);
  ready_.wait(lock, [&] { return count_ > 0 || dropped_ > 0 || closed_; });
  for (; count_ > 0; --count_) {
    out.push_back(std::move(ring_[head_]));
    head_ = (head_ + 1) % ring_.size();
  }
  bytes_ = 0;
  return {std::exchange(dropped_, 0), closed_};
}

void DurableQueue::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  ready_.notify_all();
}

}  // namespace seisvault::server
