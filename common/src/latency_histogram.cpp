#include "seisvault/common/latency_histogram.h"

#include <cmath>

namespace seisvault {

void LatencyHistogram::observe(double seconds) noexcept {
  constexpr double kMaxSeconds = 9.2e9;  // below INT64_MAX nanoseconds
  if (!(seconds > 0)) {                  // negative, zero or NaN
    observe_ns(0);
    return;
  }
  observe_ns(static_cast<int64_t>(std::llround(std::min(seconds, kMaxSeconds) * 1e9)));
}

LatencyHistogram::Snapshot LatencyHistogram::snapshot() const noexcept {
  Snapshot s;
  uint64_t running = 0;
  for (size_t i = 0; i <= kBucketCount; ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative[i] = running;
  }
  s.count = running;
  s.sum_seconds = static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9;
  return s;
}

}  // namespace seisvault
