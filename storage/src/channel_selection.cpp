#include "seisvault/storage/channel_selection.h"

#include <array>

#include <fmt/format.h>

#include "seisvault/common/station_access_list.h"

namespace seisvault::storage {

bool seed_pattern_matches(std::string_view pattern, std::string_view code) {
  return wildcard_match(pattern, code);
}

namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t b = 0;
  for (;;) {
    const size_t e = s.find(sep, b);
    out.push_back(s.substr(b, e == std::string_view::npos ? std::string_view::npos : e - b));
    if (e == std::string_view::npos) break;
    b = e + 1;
  }
  return out;
}

bool field_matches(const std::vector<std::string>& patterns, std::string_view code) {
  for (const auto& p : patterns) {
    if (seed_pattern_matches(p, code)) return true;
  }
  return false;
}

Result<std::vector<std::string>> parse_field(std::string_view field, std::string_view what,
                                             std::string_view whole, bool is_location) {
  std::vector<std::string> out;
  for (auto code : split(field, ',')) {
    const bool blank = code == "--";  // an empty code, as FDSN writes a blank location
    if (blank) code = "";
    if (code.empty() && !blank && !is_location) {
      return Status::invalid_argument(
          fmt::format("selection '{}': empty {} code (use '*' for any, '--' for a blank code)", whole, what));
    }
    if (code.size() > 16) {
      return Status::invalid_argument(fmt::format("selection '{}': {} code '{}' is too long", whole, what, code));
    }
    for (char c : code) {
      const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '?' || c == '*' || c == '_' || c == '-' || c == '\\';  // '\\xNN' escapes
      if (!ok) {
        return Status::invalid_argument(fmt::format(
            "selection '{}': character '{}' is not allowed in a {} code (letters, digits, ? and *)", whole, c,
            what));
      }
    }
    out.emplace_back(code);
  }
  return out;
}

}  // namespace

Result<ChannelSelection> ChannelSelection::parse(std::string_view text) {
  std::vector<SourcePattern> patterns;
  std::string normalized(text);
  for (char& c : normalized) {
    if (c == ';' || c == '\t' || c == '\n') c = ' ';
  }
  for (auto item : split(normalized, ' ')) {
    if (item.empty()) continue;
    auto fields = split(item, '.');
    if (fields.size() > 4) {
      return Status::invalid_argument(
          fmt::format("selection '{}' has {} fields; expected NET.STA.LOC.CHA", item, fields.size()));
    }
    SourcePattern p;
    static constexpr std::string_view kNames[] = {"network", "station", "location", "channel"};
    std::vector<std::string>* targets[] = {&p.network, &p.station, &p.location, &p.channel};
    for (size_t i = 0; i < fields.size(); ++i) {
      auto parsed = parse_field(fields[i], kNames[i], item, i == 2);
      if (!parsed.ok()) return parsed.status();
      *targets[i] = std::move(parsed.value());
    }
    patterns.push_back(std::move(p));
  }
  if (patterns.empty()) return Status::invalid_argument("empty selection: give NET.STA.LOC.CHA (wildcards ? and *)");
  return ChannelSelection(std::move(patterns));
}

std::optional<std::array<std::string_view, 4>> split_source_id(std::string_view source_id) {
  std::array<std::string_view, 4> parts;
  size_t b = 0;
  for (size_t i = 0; i < 4; ++i) {
    const size_t e = source_id.find('.', b);
    if ((e == std::string_view::npos) != (i == 3)) return std::nullopt;  // exactly three dots
    parts[i] = source_id.substr(b, e == std::string_view::npos ? std::string_view::npos : e - b);
    b = e + 1;
  }
  return parts;
}

ChannelSelection ChannelSelection::exact(std::string_view source_id) {
  const auto codes = split_source_id(source_id);
  if (!codes) return ChannelSelection(std::vector<SourcePattern>{});
  SourcePattern p;
  p.network = {std::string((*codes)[0])};
  p.station = {std::string((*codes)[1])};
  p.location = {std::string((*codes)[2])};
  p.channel = {std::string((*codes)[3])};
  return ChannelSelection({std::move(p)});
}

bool ChannelSelection::matches(std::string_view source_id) const {
  // Called for every catalogued channel of every read: split in place,
  // without allocating.
  const auto split = split_source_id(source_id);
  if (!split) return false;
  const auto& parts = *split;
  for (const auto& p : patterns_) {
    if (field_matches(p.network, parts[0]) && field_matches(p.station, parts[1]) &&
        field_matches(p.location, parts[2]) && field_matches(p.channel, parts[3])) {
      return true;
    }
  }
  return false;
}

}  // namespace seisvault::storage
