#include "seedlink_command.h"

#include <array>
#include <limits>

#include <fmt/format.h>

#include "seedlink_text.h"

#include "seedlink_selector.h"

namespace seisvault::server::seedlink {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (to_upper(a[i]) != to_upper(b[i])) return false;
  }
  return true;
}



}  // namespace

// --- LineReader -----------------------------------------------------------------

void LineReader::end_line() {
  if (discarding_) {
    // The too-long report was queued when the limit was crossed.
    discarding_ = false;
  } else {
    bool blank = true;
    for (char c : partial_) {
      if (!is_blank(c)) {
        blank = false;
        break;
      }
    }
    if (!blank) ready_.push_back(Item{false, partial_});
  }
  partial_.clear();
}

void LineReader::feed(std::string_view bytes) {
  for (char c : bytes) {
    if (c == '\n' && after_cr_) {  // second half of a CRLF
      after_cr_ = false;
      continue;
    }
    after_cr_ = false;
    if (c == '\r' || c == '\n') {
      end_line();
      after_cr_ = (c == '\r');
      continue;
    }
    if (discarding_) continue;
    if (partial_.size() >= max_line_) {
      ready_.push_back(Item{true, {}});
      discarding_ = true;
      partial_.clear();
      partial_.shrink_to_fit();
      continue;
    }
    partial_ += c;
  }
}

std::optional<std::string> LineReader::take_unterminated() {
  if (discarding_ || partial_.empty()) return std::nullopt;
  const size_t before = ready_.size();
  end_line();
  after_cr_ = false;
  if (ready_.size() == before) return std::nullopt;  // it was blank
  std::string line = std::move(ready_.back().line);
  ready_.pop_back();
  return line;
}

Result<std::optional<std::string>> LineReader::next_line() {
  if (ready_.empty()) return std::optional<std::string>{};
  Item item = std::move(ready_.front());
  ready_.pop_front();
  if (item.too_long) {
    return Status::resource_exhausted(fmt::format("command line longer than {} characters", max_line_));
  }
  return std::optional<std::string>{std::move(item.line)};
}

// --- Commands -------------------------------------------------------------------

namespace {

struct VerbEntry {
  std::string_view name;
  Verb verb;
};

constexpr std::array kVerbs{
    VerbEntry{"HELLO", Verb::kHello},
    VerbEntry{"SLPROTO", Verb::kSlproto},
    VerbEntry{"CAPABILITIES", Verb::kCapabilities},
    VerbEntry{"GETCAPABILITIES", Verb::kGetCapabilities},
    VerbEntry{"USERAGENT", Verb::kUserAgent},
    VerbEntry{"AUTH", Verb::kAuth},
    VerbEntry{"STATION", Verb::kStation},
    VerbEntry{"SELECT", Verb::kSelect},
    VerbEntry{"DATA", Verb::kData},
    VerbEntry{"FETCH", Verb::kFetch},
    VerbEntry{"TIME", Verb::kTime},
    VerbEntry{"END", Verb::kEnd},
    VerbEntry{"ENDFETCH", Verb::kEndFetch},
    VerbEntry{"INFO", Verb::kInfo},
    VerbEntry{"BATCH", Verb::kBatch},
    VerbEntry{"BYE", Verb::kBye},
    VerbEntry{"CAT", Verb::kCat},
    // Reserved by the v4 spec: a browser or HTTP client, not a SeedLink one.
    VerbEntry{"OPTIONS", Verb::kHttp},
    VerbEntry{"GET", Verb::kHttp},
    VerbEntry{"HEAD", Verb::kHttp},
    VerbEntry{"POST", Verb::kHttp},
    VerbEntry{"PUT", Verb::kHttp},
    VerbEntry{"DELETE", Verb::kHttp},
    VerbEntry{"TRACE", Verb::kHttp},
    VerbEntry{"CONNECT", Verb::kHttp},
};

}  // namespace

std::string_view verb_name(Verb verb) {
  if (verb == Verb::kUnknown) return "UNKNOWN";
  if (verb == Verb::kHttp) return "HTTP";
  for (const auto& e : kVerbs) {
    if (e.verb == verb) return e.name;
  }
  return "UNKNOWN";
}

Command parse_command(std::string_view line) {
  Command cmd;
  cmd.raw = std::string(line);
  size_t i = 0;
  bool first = true;
  while (i < line.size()) {
    while (i < line.size() && is_blank(line[i])) ++i;
    if (i >= line.size()) break;
    const size_t start = i;
    while (i < line.size() && !is_blank(line[i])) ++i;
    const std::string_view token = line.substr(start, i - start);
    if (first) {
      cmd.word = std::string(token);
      first = false;
    } else {
      cmd.args.emplace_back(token);
    }
  }
  for (const auto& e : kVerbs) {
    if (iequals(cmd.word, e.name)) {
      cmd.verb = e.verb;
      break;
    }
  }
  return cmd;
}

// --- Sequences ------------------------------------------------------------------

Result<uint64_t> parse_v3_sequence(std::string_view text) {
  std::string_view s = text;
  if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2);
  if (s.empty()) {
    return Status::invalid_argument(fmt::format("sequence '{}' has no hexadecimal digits", printable(text)));
  }
  if (s.size() > 16) {
    return Status::invalid_argument(fmt::format("sequence '{}' has more than 16 hexadecimal digits", printable(text)));
  }
  uint64_t value = 0;
  for (char c : s) {
    unsigned digit;
    if (is_digit(c)) {
      digit = static_cast<unsigned>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<unsigned>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      digit = static_cast<unsigned>(c - 'A' + 10);
    } else {
      return Status::invalid_argument(
          fmt::format("sequence '{}' is not hexadecimal (v3 sequences are hex, e.g. 00A1F3)", printable(text)));
    }
    value = (value << 4) | digit;
  }
  return value;
}

Result<V4Sequence> parse_v4_sequence(std::string_view text) {
  if (text == "-1") return V4Sequence{V4Sequence::Kind::kNext, 0};
  if (iequals(text, "ALL")) return V4Sequence{V4Sequence::Kind::kAll, 0};
  const auto bad = [&] {
    return Status::invalid_argument(
        fmt::format("sequence '{}' is not a decimal number, -1 or ALL", printable(text)));
  };
  if (text.empty() || text.size() > 20) return bad();
  uint64_t value = 0;
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  for (char c : text) {
    if (!is_digit(c)) return bad();
    const auto digit = static_cast<uint64_t>(c - '0');
    if (value > (kMax - digit) / 10) {
      return Status::invalid_argument(fmt::format("sequence '{}' does not fit in 64 bits", printable(text)));
    }
    value = value * 10 + digit;
  }
  return V4Sequence{V4Sequence::Kind::kValue, value};
}

// --- Times ----------------------------------------------------------------------

namespace {

bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int64_t days_in_month(int64_t y, int64_t m) {
  static constexpr int64_t kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return (m == 2 && is_leap(y)) ? 29 : kDays[m - 1];
}

bool is_field_separator(char c) { return c == '-' || c == ',' || c == '/' || c == ':' || c == '.'; }

}  // namespace

Result<TimeNs> parse_seedlink_time(std::string_view text) {
  const auto bad = [&](std::string_view why) {
    return Status::invalid_argument(fmt::format(
        "cannot read time '{}': {} (expected e.g. 2024,5,1,12,0,0 or 2024-05-01T12:00:00.5Z)", printable(text), why));
  };
  static constexpr std::string_view kNames[] = {"year", "month", "day", "hour", "minute", "second"};

  std::string_view s = text;
  if (!s.empty() && (s.back() == 'Z' || s.back() == 'z')) s.remove_suffix(1);
  if (s.empty()) return bad("it is empty");

  int64_t field[6] = {0, 1, 1, 0, 0, 0};
  int64_t nanos = 0;
  size_t count = 0;
  size_t i = 0;
  while (true) {
    const size_t max_digits = count == 0 ? 4 : 2;
    const size_t start = i;
    int64_t v = 0;
    while (i < s.size() && is_digit(s[i])) {
      if (i - start == max_digits) {
        return bad(fmt::format("the {} has more than {} digits", kNames[count], max_digits));
      }
      v = v * 10 + (s[i] - '0');
      ++i;
    }
    if (i == start) return bad(fmt::format("the {} is missing", kNames[count]));
    if (count == 0 && i - start != 4) return bad("the year must have four digits");
    field[count++] = v;
    if (i == s.size()) break;

    const char c = s[i];
    if (count == 6) {  // only a fraction may follow the seconds
      if (c != '.') return bad("unexpected text after the seconds");
      ++i;
      const size_t fstart = i;
      int64_t scale = 100'000'000;
      while (i < s.size() && is_digit(s[i])) {
        nanos += (s[i] - '0') * scale;  // digits past the ninth add 0
        scale /= 10;
        ++i;
      }
      if (i == fstart) return bad("no digits after the decimal point");
      if (i != s.size()) return bad("unexpected text after the fraction");
      break;
    }
    const bool separator = is_field_separator(c) || (count == 3 && (c == 'T' || c == 't'));
    if (!separator) {
      return bad(fmt::format("unexpected character '{}' after the {}", printable(s.substr(i, 1)), kNames[count - 1]));
    }
    ++i;
    if (i == s.size()) return bad("it ends with a separator");
  }

  const int64_t year = field[0], month = field[1], day = field[2];
  const int64_t hour = field[3], minute = field[4], second = field[5];
  if (year < 1678 || year > 2261) return bad(fmt::format("year {} is out of range (1678-2261)", year));
  if (month < 1 || month > 12) return bad(fmt::format("month {} is out of range", month));
  if (day < 1 || day > days_in_month(year, month)) {
    return bad(fmt::format("day {} is out of range for {}-{:02}", day, year, month));
  }
  if (hour > 23) return bad(fmt::format("hour {} is out of range", hour));
  if (minute > 59) return bad(fmt::format("minute {} is out of range", minute));
  if (second > 60) return bad(fmt::format("second {} is out of range", second));

  const int64_t days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const int64_t seconds = days * 86'400 + hour * 3'600 + minute * 60 + second;
  return seconds * kNanosPerSecond + nanos;
}

// --- DATA / FETCH / TIME --------------------------------------------------------

namespace {

Status end_before_begin(const StartRequest& r) {
  if (r.begin && r.end && *r.end < *r.begin) {
    return Status::invalid_argument("the end time is before the begin time");
  }
  return Status::ok_status();
}

}  // namespace

Result<StartRequest> parse_v3_data_arguments(std::span<const std::string> args) {
  if (args.size() > 2) {
    return Status::invalid_argument("DATA/FETCH takes at most a sequence and a begin time");
  }
  StartRequest r;
  if (!args.empty()) {
    auto seq = parse_v3_sequence(args[0]);
    if (!seq.ok()) return seq.status();
    r.sequence = *seq;
  }
  if (args.size() == 2) {
    auto begin = parse_seedlink_time(args[1]);
    if (!begin.ok()) return begin.status();
    r.begin = *begin;
  }
  return r;
}

Result<StartRequest> parse_v3_time_arguments(std::span<const std::string> args) {
  if (args.empty() || args.size() > 2) {
    return Status::invalid_argument("TIME takes a begin time and an optional end time");
  }
  StartRequest r;
  auto begin = parse_seedlink_time(args[0]);
  if (!begin.ok()) return begin.status();
  r.begin = *begin;
  if (args.size() == 2) {
    auto end = parse_seedlink_time(args[1]);
    if (!end.ok()) return end.status();
    r.end = *end;
  }
  if (Status s = end_before_begin(r); !s.ok()) return s;
  return r;
}

Result<StartRequest> parse_v4_data_arguments(std::span<const std::string> args) {
  if (args.size() > 3) {
    return Status::invalid_argument("DATA/FETCH takes at most a sequence, a start time and an end time");
  }
  StartRequest r;
  if (!args.empty()) {
    auto seq = parse_v4_sequence(args[0]);
    if (!seq.ok()) return seq.status();
    switch (seq->kind) {
      case V4Sequence::Kind::kNext: break;
      case V4Sequence::Kind::kAll: r.all = true; break;
      case V4Sequence::Kind::kValue: r.sequence = seq->value; break;
    }
  }
  if (args.size() >= 2) {
    auto begin = parse_seedlink_time(args[1]);
    if (!begin.ok()) return begin.status();
    r.begin = *begin;
  }
  if (args.size() == 3) {
    auto end = parse_seedlink_time(args[2]);
    if (!end.ok()) return end.status();
    r.end = *end;
  }
  if (Status s = end_before_begin(r); !s.ok()) return s;
  return r;
}

// --- STATION --------------------------------------------------------------------

namespace {

Status check_code(std::string_view what, std::string_view code, size_t max, bool allow_underscore) {
  if (code.empty()) return Status::invalid_argument(fmt::format("the {} is empty", what));
  if (code.size() > max) {
    return Status::invalid_argument(
        fmt::format("the {} '{}' is longer than {} characters", what, printable(code), max));
  }
  for (char c : code) {
    if (!(is_alnum(c) || c == '?' || c == '*' || (allow_underscore && c == '_'))) {
      return Status::invalid_argument(fmt::format("the {} '{}' has a character other than letters, digits, {}",
                                                  what, printable(code), allow_underscore ? "'_', '?' and '*'"
                                                                                          : "'?' and '*'"));
    }
  }
  return Status::ok_status();
}

}  // namespace

Result<StationPattern> StationPattern::parse_v3(std::span<const std::string> args) {
  if (args.empty() || args.size() > 2) {
    return Status::invalid_argument("STATION takes a station code and an optional network code");
  }
  if (Status s = check_code("station code", args[0], kMaxCode, false); !s.ok()) return s;
  std::string network = "*";
  if (args.size() == 2) {
    if (Status s = check_code("network code", args[1], kMaxCode, false); !s.ok()) return s;
    network = upper(args[1]);
  }
  return StationPattern(network + "_" + upper(args[0]));
}

Result<StationPattern> StationPattern::parse_v4(std::span<const std::string> args) {
  if (args.size() != 1) return Status::invalid_argument("STATION takes one station ID pattern (NET_STA)");
  if (Status s = check_code("station ID pattern", args[0], kMaxPattern, true); !s.ok()) return s;
  return StationPattern(upper(args[0]));
}

bool StationPattern::matches(std::string_view network, std::string_view station) const {
  char id[2 * kMaxPattern + 1];
  if (network.size() + 1 + station.size() > sizeof(id)) return false;  // no real code is that long
  size_t n = 0;
  for (char c : network) id[n++] = c;
  id[n++] = '_';
  for (char c : station) id[n++] = c;
  return glob_match(pattern_, std::string_view(id, n));
}

bool StationPattern::has_wildcards() const { return pattern_.find_first_of("*?") != std::string::npos; }

// --- SLPROTO --------------------------------------------------------------------

Result<ProtocolVersion> parse_slproto_arguments(std::span<const std::string> args) {
  if (args.size() != 1) return Status::invalid_argument("SLPROTO takes one version, e.g. 4.0");
  const std::string_view text = args[0];
  const auto bad = [&] {
    return Status::invalid_argument(fmt::format("'{}' is not a protocol version like 4.0", printable(text)));
  };
  const size_t dot = text.find('.');
  if (dot == std::string_view::npos) return bad();
  const auto number = [](std::string_view part, int& out) {
    if (part.empty() || part.size() > 3) return false;
    int v = 0;
    for (char c : part) {
      if (!is_digit(c)) return false;
      v = v * 10 + (c - '0');
    }
    out = v;
    return true;
  };
  ProtocolVersion version;
  if (!number(text.substr(0, dot), version.major) || !number(text.substr(dot + 1), version.minor)) return bad();
  return version;
}

uint64_t widen_v3_sequence(uint64_t sent, uint64_t newest) {
  const uint64_t low = sent & kV3SequenceMask;
  uint64_t candidate = (newest & ~kV3SequenceMask) | low;
  if (candidate > newest && candidate > kV3SequenceMask) candidate -= kV3SequenceMask + 1;
  return candidate;
}

}  // namespace seisvault::server::seedlink
