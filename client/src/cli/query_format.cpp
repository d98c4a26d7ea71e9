#include "query_format.h"

#include <limits>

#include <fmt/format.h>

namespace seisvault::cli {

std::string human_time(TimeNs t) {
  std::string s = format_iso8601(t);  // ...SS.fffffffffZ
  const size_t dot = s.rfind('.');
  if (dot == std::string::npos) return s;
  size_t digits = s.size() - 1 - dot - 1;  // nine
  while (digits > 0 && s.compare(dot + 1 + digits - 3, 3, "000") == 0) digits -= 3;
  if (digits == 0) return s.substr(0, dot) + "Z";
  return s.substr(0, dot + 1 + digits) + "Z";
}

std::string human_duration(int64_t ns) {
  if (ns < 0) return "-" + human_duration(ns == std::numeric_limits<int64_t>::min() ? std::numeric_limits<int64_t>::max() : -ns);
  if (ns < 1'000'000) return fmt::format("{} us", ns / 1000);
  if (ns < kNanosPerSecond) return fmt::format("{} ms", ns / 1'000'000);
  const double s = static_cast<double>(ns) / 1e9;
  if (s < 60) return fmt::format("{:.3g} s", s);
  const int64_t whole = ns / kNanosPerSecond;
  if (whole < 3600) return fmt::format("{} min {} s", whole / 60, whole % 60);
  if (whole < 86400) return fmt::format("{} h {} min", whole / 3600, whole % 3600 / 60);
  return fmt::format("{} d {} h", whole / 86400, whole % 86400 / 3600);
}

std::string human_bytes(uint64_t bytes) {
  const double b = static_cast<double>(bytes);
  if (bytes < 1024) return fmt::format("{} B", bytes);
  if (bytes < 1024 * 1024) return fmt::format("{:.1f} KiB", b / 1024);
  if (bytes < uint64_t{1024} * 1024 * 1024) return fmt::format("{:.1f} MiB", b / (1024 * 1024));
  return fmt::format("{:.1f} GiB", b / (1024.0 * 1024 * 1024));
}

std::string human_rate(double hz) {
  if (hz == 0) return "-";
  return fmt::format("{:g} Hz", hz);
}

std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace seisvault::cli
