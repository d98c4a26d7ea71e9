#include "seisvault/common/contiguity.h"

#include <cmath>

namespace seisvault {

namespace {
__extension__ typedef __int128 Wide;  // GCC and Clang both have it; -Wpedantic needs telling
}  // namespace

TimeNs sample_period_ns(double sample_rate) {
  // Below ~1e-9 Hz the period no longer fits in int64 nanoseconds; no
  // seismic rate comes near, but a hostile header could.
  if (!(sample_rate > 1e-9) || !std::isfinite(sample_rate)) return 0;
  return static_cast<TimeNs>(std::llround(1e9 / sample_rate));
}

TimeNs contiguity_tolerance_ns(double sample_rate, std::optional<TimeNs> requested) {
  const TimeNs period = sample_period_ns(sample_rate);
  if (period == 0) return 0;
  return requested ? *requested : period / 2;
}

bool continues_run(TimeNs run_end_ns, double run_rate, TimeNs start_ns, double sample_rate, TimeNs tolerance_ns) {
  if (run_rate != sample_rate) return false;
  // In wider arithmetic: times near the ends of the int64 range (or a huge
  // tolerance) must not wrap into a false "contiguous".
  const Wide expected = static_cast<Wide>(run_end_ns) + sample_period_ns(run_rate);
  const Wide diff = static_cast<Wide>(start_ns) - expected;
  return diff <= tolerance_ns && -diff <= tolerance_ns;
}

}  // namespace seisvault
