// LatencyHistogram: how long something took, counted in fixed buckets, for
// the /metrics page (a Prometheus histogram).
//
// Lock-free: observe() is two relaxed atomic additions after a search of 14
// bounds, safe from any number of threads at once, and never allocates.
// Cheap enough for once per batch or per request; still not meant for once
// per record (use a counter there).
//
// The buckets are fixed (kBounds, in seconds, the Prometheus "le" upper
// bounds): 0.5 ms to 10 s covers an fsync (~0.1-0.3 ms on the reference
// machine lands in the first bucket), a store write, an ack, and an API
// request; anything slower falls in +Inf. Durations are kept in integer
// nanoseconds, so the sum is exact. A negative duration (a clock that went
// back) counts as 0.
//
// snapshot() may be taken from any thread while observations go on: each
// bucket is exact, the snapshot as a whole is not one instant, but its
// count always equals its +Inf bucket (both are derived from the same
// bucket reads), as Prometheus requires.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace seisvault {

class LatencyHistogram {
 public:
  // Upper bounds of the buckets, in seconds, ascending.
  static constexpr std::array<double, 14> kBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                     0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  static constexpr size_t kBucketCount = kBounds.size();
  // The same in nanoseconds (what observe_ns() compares with).
  static constexpr std::array<uint64_t, kBucketCount> kBoundsNs = {
      500'000,     1'000'000,   2'500'000,     5'000'000,     10'000'000,    25'000'000,     50'000'000,
      100'000'000, 250'000'000, 500'000'000, 1'000'000'000, 2'500'000'000, 5'000'000'000, 10'000'000'000};

  struct Snapshot {
    // cumulative[i]: observations <= kBounds[i]; cumulative[kBucketCount]:
    // all observations (the +Inf bucket), equal to count.
    std::array<uint64_t, kBucketCount + 1> cumulative{};
    uint64_t count = 0;
    double sum_seconds = 0;
  };

  LatencyHistogram() = default;
  LatencyHistogram(const LatencyHistogram&) = delete;
  LatencyHistogram& operator=(const LatencyHistogram&) = delete;

  void observe_ns(int64_t ns) noexcept {
    const uint64_t v = ns > 0 ? static_cast<uint64_t>(ns) : 0;
    const auto it = std::lower_bound(kBoundsNs.begin(), kBoundsNs.end(), v);  // first bound >= v ("le")
    buckets_[static_cast<size_t>(it - kBoundsNs.begin())].fetch_add(1, std::memory_order_relaxed);
    sum_ns_.fetch_add(v, std::memory_order_relaxed);
  }

  // NaN counts as 0; more than ~292 years as that.
  void observe(double seconds) noexcept;

  template <class Rep, class Period>
  void observe(std::chrono::duration<Rep, Period> d) noexcept {
    observe_ns(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
  }

  Snapshot snapshot() const noexcept;

 private:
  // Not cumulative: buckets_[i] counts observations in (bound[i-1], bound[i]];
  // buckets_[kBucketCount] those above the last bound.
  std::array<std::atomic<uint64_t>, kBucketCount + 1> buckets_{};
  std::atomic<uint64_t> sum_ns_{0};
};

namespace latency_histogram_detail {
constexpr bool bounds_agree() {
  for (size_t i = 0; i < LatencyHistogram::kBucketCount; ++i) {
    if (static_cast<uint64_t>(LatencyHistogram::kBounds[i] * 1e9 + 0.5) != LatencyHistogram::kBoundsNs[i]) return false;
  }
  return true;
}
static_assert(bounds_agree(), "LatencyHistogram::kBoundsNs must be kBounds in nanoseconds");
}  // namespace latency_histogram_detail

}  // namespace seisvault
