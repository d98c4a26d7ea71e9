#include "seisvault/common/time.h"

#include <charconv>
#include <chrono>

#include <fmt/format.h>

namespace seisvault {

TimeNs now_ns() {
  using namespace std::chrono;
  return duration_cast<nanoseconds>(system_clock::now().time_since_epoch()).count();
}

// Howard Hinnant's civil-from-days algorithm, public-domain arithmetic.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

namespace {

void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp + (mp < 10 ? 3 : -9);
  y += m <= 2;
}

bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

// A tiny cursor over the text being parsed.
struct Cursor {
  std::string_view s;
  size_t i = 0;
  bool done() const { return i >= s.size(); }
  bool eat(char c) {
    if (!done() && s[i] == c) { ++i; return true; }
    return false;
  }
  // Reads exactly n digits.
  bool digits(size_t n, int64_t& out) {
    if (i + n > s.size()) return false;
    int64_t v = 0;
    for (size_t k = 0; k < n; ++k) {
      const char c = s[i + k];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    out = v;
    i += n;
    return true;
  }
};

Status bad_time(std::string_view text, std::string_view why) {
  return Status::invalid_argument(
      fmt::format("cannot read time '{}': {} (expected e.g. 2024-05-01T12:00:00.5Z)", text, why));
}

}  // namespace

std::string format_iso8601(TimeNs t) {
  int64_t secs = t / kNanosPerSecond;
  int64_t frac = t % kNanosPerSecond;
  if (frac < 0) { frac += kNanosPerSecond; secs -= 1; }
  int64_t days = secs / 86400;
  int64_t sod = secs % 86400;
  if (sod < 0) { sod += 86400; days -= 1; }
  int64_t y; unsigned m, d;
  civil_from_days(days, y, m, d);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z", y, m, d, sod / 3600, (sod / 60) % 60,
                     sod % 60, frac);
}

Result<TimeNs> parse_iso8601(std::string_view text) {
  Cursor c{text};
  int64_t year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0, nanos = 0;
  if (!c.digits(4, year)) return bad_time(text, "no four-digit year");
  int64_t days = 0;
  if (c.eat(',')) {  // SEED "YYYY,DDD,HH:MM:SS"
    int64_t doy = 0;
    if (!c.digits(3, doy)) return bad_time(text, "no three-digit day of year after ','");
    if (doy < 1 || doy > (is_leap(year) ? 366 : 365)) return bad_time(text, "day of year out of range");
    days = days_from_civil(year, 1, 1) + doy - 1;
    if (!c.done() && !c.eat(',')) return bad_time(text, "expected ',' after the day of year");
  } else {
    if (!c.eat('-') || !c.digits(2, month)) return bad_time(text, "expected -MM after the year");
    if (!c.eat('-') || !c.digits(2, day)) return bad_time(text, "expected -DD after the month");
    if (month < 1 || month > 12) return bad_time(text, "month out of range");
    if (day < 1 || day > days_in_month(year, static_cast<unsigned>(month))) return bad_time(text, "day out of range");
    days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
    if (!c.done() && !c.eat('T') && !c.eat(' ')) return bad_time(text, "expected 'T' after the date");
  }
  if (!c.done() && !(c.s[c.i] == 'Z')) {
    if (!c.digits(2, hour)) return bad_time(text, "expected HH");
    if (!c.eat(':') || !c.digits(2, minute)) return bad_time(text, "expected :MM after the hour");
    if (c.eat(':')) {
      if (!c.digits(2, second)) return bad_time(text, "expected SS after ':'");
      if (c.eat('.')) {
        size_t n = 0;
        while (!c.done() && c.s[c.i] >= '0' && c.s[c.i] <= '9') {
          if (n == 9) return bad_time(text, "more than nine fractional digits");
          nanos = nanos * 10 + (c.s[c.i] - '0');
          ++c.i;
          ++n;
        }
        if (n == 0) return bad_time(text, "no digits after '.'");
        for (; n < 9; ++n) nanos *= 10;
      }
    }
    if (hour > 23 || minute > 59 || second > 60) return bad_time(text, "time of day out of range");
  }
  c.eat('Z');
  if (!c.done()) return bad_time(text, "unexpected trailing characters (only UTC 'Z' is accepted)");
  // Days 1677-09-23 to 2262-04-10, well inside the int64 nanosecond range.
  // Checked on the whole time, not the date alone: a leap second (23:59:60)
  // on the last day is the next day, which format_iso8601 writes as a date
  // this function must accept again.
  constexpr int64_t kDaysLimit = 106750;
  if (days < -kDaysLimit || days > kDaysLimit) return bad_time(text, "outside 1677-09-23 to 2262-04-10");
  const int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second;
  if (seconds >= (kDaysLimit + 1) * 86400) return bad_time(text, "outside 1677-09-23 to 2262-04-10");
  return seconds * kNanosPerSecond + nanos;
}

}  // namespace seisvault
