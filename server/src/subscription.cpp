#include "subscription.h"

#include <algorithm>

namespace seisvault::server {

Subscription::Subscription(storage::ChannelSelection selection, size_t capacity)
    : selection_(std::move(selection)), capacity_(std::max<size_t>(1, capacity)) {}

uint64_t Subscription::pop(std::vector<std::shared_ptr<const LiveRecord>>& out, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  ready_.wait_for(lock, timeout, [&] { return !queue_.empty() || skipped_ > 0; });
  out.insert(out.end(), std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
  queue_.clear();
  return std::exchange(skipped_, 0);
}

bool Subscription::wants(uint32_t channel, std::string_view source_id, uint64_t epoch, uint64_t& full_matches) {
  if (epoch != verdict_epoch_) {
    verdicts_.clear();
    verdict_epoch_ = epoch;
  }
  if (channel >= verdicts_.size()) verdicts_.resize(channel + 1, -1);
  int8_t& v = verdicts_[channel];
  if (v < 0) {
    v = selection_.matches(source_id) ? 1 : 0;
    ++full_matches;
  }
  return v == 1;
}

void Subscription::deliver(std::vector<std::shared_ptr<const LiveRecord>>& records, uint64_t skipped) {
  if (records.empty() && skipped == 0) return;
  {
    std::lock_guard lock(mutex_);
    if (closed_) {
      records.clear();
      return;
    }
    const size_t room = capacity_ - std::min(capacity_, queue_.size());
    const size_t take = std::min(room, records.size());
    queue_.insert(queue_.end(), std::make_move_iterator(records.begin()),
                  std::make_move_iterator(records.begin() + static_cast<std::ptrdiff_t>(take)));
    skipped_ += (records.size() - take) + skipped;
  }
  records.clear();
  ready_.notify_one();
}

void Subscription::close() {
  std::deque<std::shared_ptr<const LiveRecord>> gone;
  std::lock_guard lock(mutex_);
  closed_ = true;
  gone.swap(queue_);
}

}  // namespace seisvault::server
