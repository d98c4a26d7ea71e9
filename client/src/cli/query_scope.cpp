#include "query_scope.h"

#include <fmt/format.h>

#include "query_command.h"

namespace seisvault::cli {

namespace {

// One field of the combined pattern from the values of its option.
Result<std::string> field(std::string_view option, const std::vector<std::string>& values) {
  if (values.empty()) return std::string("*");
  std::string out;
  for (const auto& v : values) {
    if (v.find_first_of(". \t\n;") != std::string::npos) {
      return Status::invalid_argument(fmt::format(
          "{} '{}': give codes for this field only (comma lists and ? * wildcards are fine, '.' and blanks are not)",
          option, v));
    }
    if (!out.empty()) out += ',';
    out += v.empty() ? "--" : v;
  }
  return out;
}

}  // namespace

Result<std::vector<std::string>> selection_patterns(const QueryArgs& args) {
  const bool fields = !args.net.empty() || !args.sta.empty() || !args.loc.empty() || !args.cha.empty();
  if (!fields) return args.patterns;
  if (!args.patterns.empty()) {
    return Status::invalid_argument(
        "give either NET.STA.LOC.CHA patterns or --net/--sta/--loc/--cha, not both");
  }
  auto net = field("--net", args.net);
  if (!net.ok()) return net.status();
  auto sta = field("--sta", args.sta);
  if (!sta.ok()) return sta.status();
  auto loc = field("--loc", args.loc);
  if (!loc.ok()) return loc.status();
  auto cha = field("--cha", args.cha);
  if (!cha.ok()) return cha.status();
  return std::vector<std::string>{fmt::format("{}.{}.{}.{}", *net, *sta, *loc, *cha)};
}

Result<std::optional<TimeNs>> parse_time_option(std::string_view option, const std::string& text) {
  if (text.empty()) return std::optional<TimeNs>();
  auto t = parse_iso8601(text);
  if (!t.ok()) {
    return Status::invalid_argument(fmt::format("{}: {}", option, t.status().message()));
  }
  return std::optional<TimeNs>(*t);
}

Result<client::QueryScope> make_query_scope(const QueryArgs& args) {
  client::QueryScope scope;
  auto patterns = selection_patterns(args);
  if (!patterns.ok()) return patterns.status();
  scope.patterns = std::move(*patterns);
  auto start = parse_time_option("--start", args.start);
  if (!start.ok()) return start.status();
  auto end = parse_time_option("--end", args.end);
  if (!end.ok()) return end.status();
  scope.start_ns = *start;
  scope.end_ns = *end;
  if (scope.start_ns && scope.end_ns && *scope.end_ns < *scope.start_ns) {
    return Status::invalid_argument(fmt::format("the window ends ({}) before it starts ({}): swap --start and --end",
                                                format_iso8601(*scope.end_ns), format_iso8601(*scope.start_ns)));
  }
  return scope;
}

}  // namespace seisvault::cli
