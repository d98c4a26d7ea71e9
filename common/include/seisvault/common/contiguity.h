// Contiguity: when a record continues the run of samples before it.
//
// The one rule every part of SeisVault uses to merge records into spans
// (availability) and segments (GetSamples), as libmseed merges them into
// trace segments: a record continues a run when it has the same sample rate
// and its first sample starts one sample period after the run's last sample,
// within a tolerance that is half a sample period unless the caller asks for
// another. Anything else is a gap (later) or an overlap (earlier or equal).
//
// Pure functions of their arguments: thread-safe, no allocation.
#pragma once

#include <optional>

#include "seisvault/common/time.h"

namespace seisvault {

// One sample period in nanoseconds, rounded to the nearest nanosecond; 0 when
// the rate is not positive (TEXT records, no rate at all) or so small (below
// 1e-9 Hz) that the period would not fit in a TimeNs.
TimeNs sample_period_ns(double sample_rate);

// The tolerance for a run at `sample_rate`: `requested` when given, half a
// sample period (libmseed's default) otherwise. Always 0 without a rate:
// there is no period to be tolerant about, so only a record starting
// exactly where the run ends can continue it.
TimeNs contiguity_tolerance_ns(double sample_rate, std::optional<TimeNs> requested = std::nullopt);

// Whether a record of `sample_rate` whose first sample is at `start_ns`
// continues a run of `run_rate` whose last sample is at `run_end_ns`: the
// rates are equal and `start_ns` is within `tolerance_ns` of
// run_end_ns + one period. Never overflows, whatever the times.
bool continues_run(TimeNs run_end_ns, double run_rate, TimeNs start_ns, double sample_rate, TimeNs tolerance_ns);

}  // namespace seisvault
