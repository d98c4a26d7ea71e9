// LatencyHistogram: which bucket an observation lands in (bounds are
// inclusive, as Prometheus's "le"), the cumulative snapshot, the exact sum,
// odd inputs, and observations from several threads at once.
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <limits>
#include <thread>
#include <vector>

#include "seisvault/common/latency_histogram.h"

using namespace seisvault;
using namespace std::chrono_literals;

namespace {
constexpr size_t kInf = LatencyHistogram::kBucketCount;  // index of the +Inf bucket
}  // namespace

TEST_CASE("an empty histogram has no observations in any bucket and a sum of zero", "[latency_histogram]") {
  LatencyHistogram h;
  const auto s = h.snapshot();
  CHECK(s.count == 0);
  CHECK(s.sum_seconds == 0);
  for (const auto c : s.cumulative) CHECK(c == 0);
}

TEST_CASE("an observation equal to a bound counts in that bound's bucket; one just above, in the next",
          "[latency_histogram]") {
  LatencyHistogram h;
  h.observe_ns(500'000);      // exactly 0.5 ms: le 0.0005
  h.observe_ns(500'001);      // just above: le 0.001
  h.observe(0.01);            // exactly 10 ms: le 0.01
  h.observe(3ms);             // le 0.005
  h.observe_ns(0);            // le 0.0005
  const auto s = h.snapshot();
  CHECK(s.cumulative[0] == 2);  // <= 0.0005
  CHECK(s.cumulative[1] == 3);  // <= 0.001
  CHECK(s.cumulative[2] == 3);  // <= 0.0025
  CHECK(s.cumulative[3] == 4);  // <= 0.005
  CHECK(s.cumulative[4] == 5);  // <= 0.01
  CHECK(s.cumulative[kInf] == 5);
  CHECK(s.count == 5);
  CHECK(s.sum_seconds == Approx(0.0005 + 0.000500001 + 0.01 + 0.003).epsilon(1e-12));
}

TEST_CASE("observations above the largest bound count only in +Inf", "[latency_histogram]") {
  LatencyHistogram h;
  h.observe(10.0);   // the largest bound itself
  h.observe(10.5);
  h.observe(3600.0);
  const auto s = h.snapshot();
  CHECK(s.cumulative[kInf - 1] == 1);  // le 10
  CHECK(s.cumulative[kInf] == 3);
  CHECK(s.count == 3);
  CHECK(s.sum_seconds == Approx(3620.5));
}

TEST_CASE("the snapshot is cumulative: every bucket holds at least the one before, and +Inf equals the count",
          "[latency_histogram]") {
  LatencyHistogram h;
  // One observation in the middle of every bucket, and two above the last.
  double previous = 0;
  for (const double bound : LatencyHistogram::kBounds) {
    h.observe((previous + bound) / 2);
    previous = bound;
  }
  h.observe(20.0);
  h.observe(30s);
  const auto s = h.snapshot();
  for (size_t i = 0; i < LatencyHistogram::kBucketCount; ++i) {
    INFO("bucket le " << LatencyHistogram::kBounds[i]);
    CHECK(s.cumulative[i] == i + 1);
  }
  CHECK(s.cumulative[kInf] == LatencyHistogram::kBucketCount + 2);
  CHECK(s.count == s.cumulative[kInf]);
}

TEST_CASE("negative durations and NaN count as zero; a huge one counts in +Inf without overflowing",
          "[latency_histogram]") {
  LatencyHistogram h;
  h.observe(-1.0);
  h.observe_ns(-5);
  h.observe(std::numeric_limits<double>::quiet_NaN());
  h.observe(-3ms);
  auto s = h.snapshot();
  CHECK(s.cumulative[0] == 4);
  CHECK(s.sum_seconds == 0);
  h.observe(std::numeric_limits<double>::infinity());
  s = h.snapshot();
  CHECK(s.cumulative[kInf - 1] == 4);
  CHECK(s.cumulative[kInf] == 5);
  CHECK(std::isfinite(s.sum_seconds));
  CHECK(s.sum_seconds > 1e9);
}

TEST_CASE("the bounds are ascending and the nanosecond bounds match the seconds", "[latency_histogram]") {
  for (size_t i = 0; i < LatencyHistogram::kBucketCount; ++i) {
    CHECK(static_cast<double>(LatencyHistogram::kBoundsNs[i]) == Approx(LatencyHistogram::kBounds[i] * 1e9));
    if (i > 0) CHECK(LatencyHistogram::kBounds[i] > LatencyHistogram::kBounds[i - 1]);
  }
  CHECK(LatencyHistogram::kBounds.front() == 0.0005);
  CHECK(LatencyHistogram::kBounds.back() == 10.0);
}

TEST_CASE("observations from several threads at once are all counted, and the sum is exact",
          "[latency_histogram]") {
  LatencyHistogram h;
  constexpr int kThreads = 4;
  constexpr int kEach = 100'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&h, t] {
      for (int i = 0; i < kEach; ++i) h.observe_ns((t + 1) * 1'000'000);  // 1, 2, 3, 4 ms
    });
  }
  // Snapshots taken meanwhile stay consistent: cumulative, +Inf = count.
  for (int k = 0; k < 100; ++k) {
    const auto s = h.snapshot();
    for (size_t i = 1; i <= kInf; ++i) REQUIRE(s.cumulative[i] >= s.cumulative[i - 1]);
    REQUIRE(s.count == s.cumulative[kInf]);
  }
  for (auto& t : threads) t.join();
  const auto s = h.snapshot();
  CHECK(s.count == uint64_t{kThreads} * kEach);
  CHECK(s.cumulative[1] == kEach);        // 1 ms: le 0.001
  CHECK(s.cumulative[2] == 2 * kEach);    // 2 ms: le 0.0025
  CHECK(s.cumulative[3] == 4 * kEach);    // 3, 4 ms: le 0.005
  CHECK(s.sum_seconds == Approx(kEach * (0.001 + 0.002 + 0.003 + 0.004)).epsilon(1e-12));
}
