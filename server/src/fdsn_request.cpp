#include "fdsn_request.h"

#include <charconv>
#include <cmath>

#include <fmt/format.h>

namespace seisvault::server {

namespace {

const FdsnParameter* find_parameter(std::span<const FdsnParameter> accepted, std::string_view key) {
  for (const auto& p : accepted) {
    if (p.name == key || (!p.alias.empty() && p.alias == key)) return &p;
  }
  return nullptr;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::string known_list(std::span<const FdsnParameter> accepted) {
  std::string out;
  for (const auto& p : accepted) {
    if (!out.empty()) out += ", ";
    out += p.name;
    if (!p.alias.empty()) out += fmt::format(" ({})", p.alias);
  }
  return out;
}

Status add_value(std::map<std::string, std::string, std::less<>>& values, std::span<const FdsnParameter> accepted,
                 std::string_view key, std::string_view value) {
  const auto* p = find_parameter(accepted, key);
  if (!p) {
    return Status::invalid_argument(fmt::format("unknown parameter '{}'; this service accepts: {}",
                                                key.substr(0, 64), known_list(accepted)));
  }
  auto [it, inserted] = values.emplace(std::string(p->name), std::string(value));
  if (!inserted) {
    return Status::invalid_argument(fmt::format("parameter '{}' is given more than once (give a comma list "
                                                "instead, e.g. net=IU,CH)",
                                                p->name));
  }
  return {};
}

}  // namespace

Result<TimeNs> parse_fdsn_time(std::string_view text) {
  auto t = parse_iso8601(text);
  if (!t.ok()) {
    return Status::invalid_argument(fmt::format("{} (expected YYYY-MM-DDTHH:MM:SS[.ffffff][Z] or YYYY-MM-DD, UTC)",
                                                t.status().message()));
  }
  return *t;
}

std::string format_fdsn_time(TimeNs t) {
  // format_iso8601 writes nine fractional digits: keep six (round down, as
  // FDSN services write microseconds).
  std::string s = format_iso8601(t);
  const auto dot = s.find('.');
  if (dot != std::string::npos && s.size() >= dot + 10) s.erase(dot + 7, 3);
  return s;
}

Result<FdsnRequest> FdsnRequest::from_query(const std::multimap<std::string, std::string>& query,
                                            std::span<const FdsnParameter> accepted) {
  FdsnRequest r;
  for (const auto& [k, v] : query) {
    if (auto s = add_value(r.values_, accepted, k, v); !s.ok()) return s;
  }
  return r;
}

Result<FdsnRequest> FdsnRequest::from_post(std::string_view body, std::span<const FdsnParameter> accepted,
                                           size_t max_lines) {
  FdsnRequest r;
  r.post_ = true;
  size_t line_no = 0;
  size_t b = 0;
  while (b < body.size()) {
    size_t e = body.find('\n', b);
    if (e == std::string_view::npos) e = body.size();
    const auto line = trim(body.substr(b, e - b));
    b = e + 1;
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    const auto eq = line.find('=');
    if (eq != std::string_view::npos) {
      if (!r.lines_.empty()) {
        return Status::invalid_argument(fmt::format(
            "line {}: '{}' comes after a selection line; key=value lines go first", line_no, line.substr(0, 80)));
      }
      if (auto s = add_value(r.values_, accepted, trim(line.substr(0, eq)), trim(line.substr(eq + 1))); !s.ok()) {
        return Status::invalid_argument(fmt::format("line {}: {}", line_no, s.message()));
      }
      continue;
    }
    std::vector<std::string_view> f;
    size_t i = 0;
    while (i < line.size() && f.size() < 7) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      if (i >= line.size()) break;
      size_t j = i;
      while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
      f.push_back(line.substr(i, j - i));
      i = j;
    }
    if (f.size() != 6) {
      return Status::invalid_argument(fmt::format("line {}: '{}' is not 'NET STA LOC CHA STARTTIME ENDTIME'", line_no,
                                                  line.substr(0, 120)));
    }
    if (r.lines_.size() >= max_lines) {
      return Status::invalid_argument(fmt::format("the request has more than this server's limit of {} selection "
                                                  "lines: use wildcards, or split the request",
                                                  max_lines));
    }
    FdsnSelectionLine sel{std::string(f[0]), std::string(f[1]), std::string(f[2]), std::string(f[3]), {}, {}};
    for (int k = 0; k < 2; ++k) {
      if (f[4 + k] == "*") continue;
      auto t = parse_fdsn_time(f[4 + k]);
      if (!t.ok()) {
        return Status::invalid_argument(fmt::format("line {}: {} '{}': {}", line_no, k == 0 ? "start" : "end",
                                                    f[4 + k].substr(0, 40), t.status().message()));
      }
      (k == 0 ? sel.start : sel.end) = *t;
    }
    r.lines_.push_back(std::move(sel));
  }
  if (r.lines_.empty()) {
    return Status::invalid_argument("the POST body has no selection line 'NET STA LOC CHA STARTTIME ENDTIME'");
  }
  return r;
}

std::optional<std::string_view> FdsnRequest::text(std::string_view name) const {
  const auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return std::string_view(it->second);
}

Result<std::optional<TimeNs>> FdsnRequest::time(std::string_view name) const {
  const auto v = text(name);
  if (!v) return std::optional<TimeNs>();
  auto t = parse_fdsn_time(*v);
  if (!t.ok()) return Status::invalid_argument(fmt::format("{} '{}': {}", name, v->substr(0, 40), t.status().message()));
  return std::optional<TimeNs>(*t);
}

Result<std::optional<bool>> FdsnRequest::boolean(std::string_view name) const {
  const auto v = text(name);
  if (!v) return std::optional<bool>();
  std::string lower(*v);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "true") return std::optional<bool>(true);
  if (lower == "false") return std::optional<bool>(false);
  return Status::invalid_argument(fmt::format("{} '{}' is not a boolean: give true or false", name, v->substr(0, 40)));
}

Result<std::optional<double>> FdsnRequest::number(std::string_view name) const {
  const auto v = text(name);
  if (!v) return std::optional<double>();
  double x = 0;
  const auto* end = v->data() + v->size();
  const auto [p, ec] = std::from_chars(v->data(), end, x);
  if (ec != std::errc() || p != end || !std::isfinite(x)) {
    return Status::invalid_argument(fmt::format("{} '{}' is not a number", name, v->substr(0, 40)));
  }
  return std::optional<double>(x);
}

Result<std::optional<int64_t>> FdsnRequest::integer(std::string_view name) const {
  const auto v = text(name);
  if (!v) return std::optional<int64_t>();
  int64_t x = 0;
  const auto* end = v->data() + v->size();
  const auto [p, ec] = std::from_chars(v->data(), end, x);
  if (ec != std::errc() || p != end) {
    return Status::invalid_argument(fmt::format("{} '{}' is not an integer", name, v->substr(0, 40)));
  }
  return std::optional<int64_t>(x);
}

std::string_view http_reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Error";
  }
}

std::string fdsn_error_document(int http_status, std::string_view detail, std::string_view url,
                                std::string_view documentation, std::string_view service_version) {
  return fmt::format(
      "Error {}: {}\n\n{}\n\nUsage details are available from {}\n\nRequest:\n{}\n\nRequest Submitted:\n{}\n\n"
      "Service version:\n{}\n",
      http_status, http_reason(http_status), detail, documentation, url, format_fdsn_time(now_ns()),
      service_version);
}

}  // namespace seisvault::server
