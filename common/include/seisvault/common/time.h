// Time inside SeisVault: int64_t nanoseconds since 1970-01-01T00:00:00Z (UTC),
// no leap seconds, as libmseed counts. ISO 8601 strings only at the edges.
//
// The representable range is about 1677-09-21 to 2262-04-11, which covers
// every valid miniSEED 2 time (years 1900-2100 are accepted by the validator).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "seisvault/common/status.h"

namespace seisvault {

using TimeNs = int64_t;

inline constexpr TimeNs kNanosPerSecond = 1'000'000'000;
inline constexpr TimeNs kTimeMin = std::numeric_limits<TimeNs>::min();
inline constexpr TimeNs kTimeMax = std::numeric_limits<TimeNs>::max();

// The current wall-clock time.
TimeNs now_ns();

// "2010-02-27T06:50:00.069539000Z": always nine fractional digits, so that
// strings sort like the times they name. Thread-safe.
std::string format_iso8601(TimeNs t);

// Accepts "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.fraction]]" with an optional
// trailing "Z" (other offsets are refused: all times are UTC), and
// "YYYY,DDD[,HH:MM:SS[.fraction]]" (SEED day-of-year form). A fraction may have
// up to nine digits. Returns InvalidArgument with what was wrong otherwise.
Result<TimeNs> parse_iso8601(std::string_view text);

// Days since the epoch of a proleptic-Gregorian date (month 1-12, day 1-31).
int64_t days_from_civil(int64_t year, unsigned month, unsigned day);

}  // namespace seisvault
