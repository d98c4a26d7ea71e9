// The contiguity rule on its own: sample periods, the default tolerance, and
// which starts continue a run (SpanMerger and SegmentBuilder are tested with
// it in tests/storage and tests/server).
#include <catch2/catch.hpp>

#include <limits>

#include "seisvault/common/contiguity.h"

using namespace seisvault;

namespace {
constexpr TimeNs kMs = 1'000'000;
}  // namespace

TEST_CASE("a sample period is 1/rate in whole nanoseconds, and 0 without a usable rate", "[contiguity]") {
  CHECK(sample_period_ns(100.0) == 10 * kMs);
  CHECK(sample_period_ns(40.0) == 25 * kMs);
  CHECK(sample_period_ns(3.0) == 333'333'333);
  CHECK(sample_period_ns(2.0 / 3.0) == 1'500'000'000);
  CHECK(sample_period_ns(0.0) == 0);
  CHECK(sample_period_ns(-20.0) == 0);
  CHECK(sample_period_ns(std::numeric_limits<double>::quiet_NaN()) == 0);
  CHECK(sample_period_ns(std::numeric_limits<double>::infinity()) == 0);
  // A period that would not fit in int64 nanoseconds counts as no rate.
  CHECK(sample_period_ns(1e-12) == 0);
}

TEST_CASE("the tolerance is half a sample period unless one is asked for, and 0 without a rate", "[contiguity]") {
  CHECK(contiguity_tolerance_ns(100.0) == 5 * kMs);
  CHECK(contiguity_tolerance_ns(3.0) == 166'666'666);
  CHECK(contiguity_tolerance_ns(100.0, 2 * kMs) == 2 * kMs);
  CHECK(contiguity_tolerance_ns(100.0, 0) == 0);
  CHECK(contiguity_tolerance_ns(0.0) == 0);
  CHECK(contiguity_tolerance_ns(0.0, 1000 * kMs) == 0);
}

TEST_CASE("a record continues a run when it starts one period after its last sample, within the tolerance",
          "[contiguity]") {
  const TimeNs end = 990 * kMs;  // last sample of a 100 Hz second
  const TimeNs tol = contiguity_tolerance_ns(100.0);
  CHECK(continues_run(end, 100.0, 1000 * kMs, 100.0, tol));               // exactly on time
  CHECK(continues_run(end, 100.0, 1000 * kMs + tol, 100.0, tol));         // late by the tolerance
  CHECK(continues_run(end, 100.0, 1000 * kMs - tol, 100.0, tol));         // early by the tolerance
  CHECK_FALSE(continues_run(end, 100.0, 1000 * kMs + tol + 1, 100.0, tol));  // a gap
  CHECK_FALSE(continues_run(end, 100.0, 1000 * kMs - tol - 1, 100.0, tol));  // an overlap
  CHECK_FALSE(continues_run(end, 100.0, end, 100.0, tol));                // same sample again
  CHECK_FALSE(continues_run(end, 100.0, 1000 * kMs, 40.0, tol));          // another rate
  CHECK_FALSE(continues_run(end, 100.0, 1000 * kMs, 100.0, -1));          // a negative tolerance admits nothing
  // A wider tolerance asked for by the caller (as GetAvailability may).
  CHECK(continues_run(end, 100.0, 1500 * kMs, 100.0, 500 * kMs));
}

TEST_CASE("without a rate only a record starting exactly where the run ends continues it", "[contiguity]") {
  const TimeNs tol = contiguity_tolerance_ns(0.0, 1000 * kMs);
  CHECK(continues_run(5 * kMs, 0.0, 5 * kMs, 0.0, tol));
  CHECK_FALSE(continues_run(5 * kMs, 0.0, 5 * kMs + 1, 0.0, tol));
  CHECK_FALSE(continues_run(5 * kMs, 0.0, 5 * kMs, 100.0, tol));
}

TEST_CASE("times at the ends of the range never wrap into a false continuation", "[contiguity]") {
  const TimeNs max = std::numeric_limits<TimeNs>::max();
  const TimeNs min = std::numeric_limits<TimeNs>::min();
  CHECK_FALSE(continues_run(max, 100.0, min, 100.0, contiguity_tolerance_ns(100.0)));
  CHECK_FALSE(continues_run(max - 5, 100.0, max, 100.0, 0));
  CHECK(continues_run(max - 10 * kMs, 100.0, max, 100.0, 0));
  CHECK_FALSE(continues_run(min, 100.0, max, 100.0, max));
}
