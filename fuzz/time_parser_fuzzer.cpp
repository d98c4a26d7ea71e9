// libFuzzer target: the text -> time parser, parse_iso8601
// (common/include/seisvault/common/time.h), and its inverse format_iso8601.
// `seisvault query --start/--end/--since` (client/src/cli/query_scope.cpp's
// parse_time_option) is a thin wrapper around parse_iso8601 and is covered
// by it; no other text -> time parser exists in the code.
//
// Checks, for text that parses:
//   - the time is what the text says, computed independently with
//     std::chrono's calendar (year/month/day or year + day of year, plus the
//     time of day and fraction);
//   - it formats and parses back to the same time, and formatting that gives
//     the same text again.
// And for any 8 bytes read as a TimeNs: format_iso8601 does not crash and,
// inside the parser's range (+-106750 days from 1970: late 1677 to early
// 2262), parses back to the same time.
#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

#include <fmt/format.h>

#include "fuzz_check.h"
#include "seisvault/common/time.h"

namespace {

using seisvault::TimeNs;
using seisvault::kNanosPerSecond;

// Digits at [at, at + n) as a number, or nullopt.
std::optional<int64_t> number(std::string_view s, size_t at, size_t n) {
  if (at + n > s.size()) return std::nullopt;
  int64_t v = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

// The time `text` names, read by position from text the parser accepted
// (so its shape is already known to be one of the accepted forms).
std::optional<TimeNs> reference_time(std::string_view text) {
  using namespace std::chrono;
  const auto year = number(text, 0, 4);
  if (!year) return std::nullopt;
  sys_days date;
  size_t at;  // where the time of day may start
  if (text.size() > 4 && text[4] == ',') {
    const auto doy = number(text, 5, 3);
    if (!doy) return std::nullopt;
    date = sys_days(std::chrono::year(static_cast<int>(*year)) / January / 1) + days(*doy - 1);
    at = 9;  // after "YYYY,DDD,"
  } else {
    const auto month = number(text, 5, 2);
    const auto day = number(text, 8, 2);
    if (!month || !day) return std::nullopt;
    date = sys_days(std::chrono::year(static_cast<int>(*year)) / static_cast<unsigned>(*month) /
                    static_cast<unsigned>(*day));
    at = 11;  // after "YYYY-MM-DDT"
  }
  int64_t hour = 0, minute = 0, second = 0, nanos = 0;
  if (const auto h = number(text, at, 2)) {
    hour = *h;
    minute = number(text, at + 3, 2).value_or(-1000000);  // malformed: make the comparison fail
    if (text.size() > at + 5 && text[at + 5] == ':') {
      second = number(text, at + 6, 2).value_or(-1000000);
      if (text.size() > at + 8 && text[at + 8] == '.') {
        size_t n = 0;
        for (size_t i = at + 9; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, ++n) {
          nanos = nanos * 10 + (text[i] - '0');
        }
        for (; n < 9; ++n) nanos *= 10;
      }
    }
  }
  const int64_t secs = date.time_since_epoch().count() * 86400 + hour * 3600 + minute * 60 + second;
  return secs * kNanosPerSecond + nanos;
}

void check_round_trip(TimeNs t) {
  const std::string text = seisvault::format_iso8601(t);
  const auto back = seisvault::parse_iso8601(text);
  FUZZ_CHECK(back.ok(), fmt::format("format_iso8601({}) = '{}' does not parse: {}", t, text, back.status().message()));
  FUZZ_CHECK(*back == t, fmt::format("'{}' parses to {}, not {}", text, *back, t));
  FUZZ_CHECK(seisvault::format_iso8601(*back) == text, fmt::format("'{}' formats differently after a round trip", text));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = seisvault::parse_iso8601(text);
  if (parsed.ok()) {
    const auto expected = reference_time(text);
    FUZZ_CHECK(expected && *expected == *parsed,
               fmt::format("'{}' parses to {}, but it names {}", text, *parsed, expected ? *expected : 0));
    check_round_trip(*parsed);
  } else {
    FUZZ_CHECK(!parsed.status().message().empty(), "a refusal without a message");
  }

  if (size == sizeof(TimeNs)) {
    TimeNs t;
    std::memcpy(&t, data, sizeof t);
    const std::string formatted = seisvault::format_iso8601(t);  // any value: no crash, no UB
    // The parser's range: dates within +-106750 days of 1970-01-01.
    if (t > -106'750LL * 86'400 * kNanosPerSecond && t < 106'750LL * 86'400 * kNanosPerSecond) check_round_trip(t);
  }
  return 0;
}
