// How `seisvault query` writes times, durations, sizes and rates for a
// person. Machine-readable output (--json, csv) never uses these: it has
// full ISO 8601 times (nine fractional digits), nanoseconds and plain numbers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "seisvault/common/contiguity.h"
#include "seisvault/common/time.h"

namespace seisvault::cli {

// ISO 8601 UTC with the fraction cut to the digits that matter, in groups of
// three: "2024-03-01T00:00:00Z", "2024-03-01T00:00:09.990Z",
// "2010-02-27T06:50:00.069539Z".
std::string human_time(TimeNs t);

// "850 us", "12 ms", "4.25 s", "12 min 3 s", "3 h 12 min", "4 d 3 h";
// negative durations (a clock ahead of ours) get a leading '-'.
std::string human_duration(int64_t ns);

// "512 B", "12.3 KiB", "4.5 MiB", "1.2 GiB".
std::string human_bytes(uint64_t bytes);

// "100 Hz", "0.1 Hz"; "-" for 0 (no sample rate, e.g. log records).
std::string human_rate(double hz);

// One sample period in nanoseconds (0 without a rate): the contiguity
// rule's own, so that gap lengths agree with the server's spans.
using seisvault::sample_period_ns;

// A CSV field: as it is when it needs no quoting, else in double quotes
// with inner quotes doubled (RFC 4180).
std::string csv_field(std::string_view text);

}  // namespace seisvault::cli
