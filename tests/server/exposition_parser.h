// A strict reader of the Prometheus text exposition format 0.0.4, for tests
// of /metrics (server_metrics_test.cpp; usable on a page fetched over HTTP).
//
// Stricter than Prometheus where our writer promises more:
//  - every line is "# HELP name text", "# TYPE name type" or a sample
//    "name{label="value",...} value" (no other comments, no timestamps, no
//    blank lines), and the page ends with a newline;
//  - every family has exactly one HELP and one TYPE, before its samples, and
//    its samples are contiguous (a family is not resumed after another);
//  - every sample's family has a TYPE: its own name, or, for a histogram,
//    the name before _bucket, _sum or _count (and a histogram has no plain
//    samples);
//  - names and label names are valid, label values use only the escapes
//    \\ \" \n, a sample has no label twice, and no two samples of the page
//    are the same series;
//  - values are Go floats: decimal or exponent notation, NaN, +Inf, -Inf;
//  - a counter's name ends in _total;
//  - each histogram series has _bucket samples with "le" strictly
//    increasing, counts not decreasing, the last le="+Inf", then _sum and a
//    _count equal to the +Inf bucket.
// parse_exposition() throws std::runtime_error naming the line on the first
// violation.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace seisvault::test {

struct ExpositionSample {
  std::string name;  // as written (with _bucket, _sum, _count for histograms)
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct ExpositionFamily {
  std::string type;  // counter, gauge, histogram, summary, untyped
  std::string help;
  std::vector<ExpositionSample> samples;
};

struct Exposition {
  std::map<std::string, ExpositionFamily> families;
  std::vector<std::string> order;  // family names as they appear

  const ExpositionFamily* family(const std::string& name) const {
    const auto it = families.find(name);
    return it == families.end() ? nullptr : &it->second;
  }
  // The value of the sample `name` with exactly `labels`.
  std::optional<double> value(const std::string& name, const std::map<std::string, std::string>& labels = {}) const {
    for (const auto& [fname, f] : families) {
      if (name.rfind(fname, 0) != 0) continue;
      for (const auto& s : f.samples) {
        if (s.name == name && s.labels == labels) return s.value;
      }
    }
    return std::nullopt;
  }
  // The samples named `name` (any labels).
  std::vector<ExpositionSample> samples(const std::string& name) const {
    std::vector<ExpositionSample> out;
    for (const auto& [fname, f] : families) {
      if (name.rfind(fname, 0) != 0) continue;
      for (const auto& s : f.samples) {
        if (s.name == name) out.push_back(s);
      }
    }
    return out;
  }
};

namespace exposition_detail {

inline bool is_name(std::string_view s, bool colons) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colons && c == ':') ||
                    (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

inline double parse_value(const std::string& text) {
  if (text == "NaN") return std::nan("");
  if (text == "+Inf") return INFINITY;
  if (text == "-Inf") return -INFINITY;
  static const std::regex number(R"([+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?)");
  if (!std::regex_match(text, number)) throw std::runtime_error("not a number: '" + text + "'");
  return std::strtod(text.c_str(), nullptr);
}

inline std::string series_key(const std::string& name, const std::map<std::string, std::string>& labels,
                              const std::string& skip = {}) {
  std::string key = name + "{";
  for (const auto& [k, v] : labels) {
    if (k == skip) continue;
    key += k + "=" + v + "\x1f";
  }
  return key + "}";
}

inline void check_histograms(const Exposition& e) {
  for (const auto& [name, f] : e.families) {
    if (f.type != "histogram") continue;
    struct Series {
      std::vector<std::pair<double, double>> buckets;  // (le, count) as written
      std::optional<double> sum, count;
    };
    std::map<std::string, Series> series;
    for (const auto& s : f.samples) {
      auto& ser = series[series_key(name, s.labels, "le")];
      if (s.name == name + "_bucket") {
        const auto le = s.labels.find("le");
        if (le == s.labels.end()) throw std::runtime_error(s.name + ": a bucket without le");
        ser.buckets.emplace_back(parse_value(le->second), s.value);
      } else if (s.labels.count("le")) {
        throw std::runtime_error(s.name + ": le on a sample that is not a bucket");
      } else if (s.name == name + "_sum") {
        ser.sum = s.value;
      } else {
        ser.count = s.value;
      }
    }
    for (const auto& [key, ser] : series) {
      if (ser.buckets.empty()) throw std::runtime_error(key + ": a histogram without buckets");
      for (size_t i = 1; i < ser.buckets.size(); ++i) {
        if (!(ser.buckets[i].first > ser.buckets[i - 1].first)) throw std::runtime_error(key + ": le not increasing");
        if (ser.buckets[i].second < ser.buckets[i - 1].second) throw std::runtime_error(key + ": buckets not cumulative");
      }
      if (!std::isinf(ser.buckets.back().first)) throw std::runtime_error(key + ": the last bucket is not +Inf");
      if (!ser.sum) throw std::runtime_error(key + ": no _sum");
      if (!ser.count) throw std::runtime_error(key + ": no _count");
      if (*ser.count != ser.buckets.back().second) throw std::runtime_error(key + ": _count differs from +Inf");
    }
  }
}

// Reads `{name="value",...}` from line[pos] (just after '{'); returns the
// position after '}'.
inline size_t parse_labels(const std::string& line, size_t pos, std::map<std::string, std::string>& labels) {
  for (;;) {
    if (pos < line.size() && line[pos] == '}') return pos + 1;
    const auto eq = line.find('=', pos);
    if (eq == std::string::npos) throw std::runtime_error("a label without '='");
    const std::string lname = line.substr(pos, eq - pos);
    if (!is_name(lname, false)) throw std::runtime_error("bad label name '" + lname + "'");
    pos = eq + 1;
    if (pos >= line.size() || line[pos] != '"') throw std::runtime_error("a label value without quotes");
    ++pos;
    std::string value;
    for (;;) {
      if (pos >= line.size()) throw std::runtime_error("an unterminated label value");
      const char c = line[pos++];
      if (c == '"') break;
      if (c != '\\') {
        value += c;
        continue;
      }
      if (pos >= line.size()) throw std::runtime_error("a backslash at the end of the line");
      const char e = line[pos++];
      if (e == '\\') {
        value += '\\';
      } else if (e == '"') {
        value += '"';
      } else if (e == 'n') {
        value += '\n';
      } else {
        throw std::runtime_error(std::string("an unknown escape \\") + e);
      }
    }
    if (!labels.emplace(lname, value).second) throw std::runtime_error("label '" + lname + "' twice");
    if (pos < line.size() && line[pos] == ',') ++pos;
    else if (pos >= line.size() || line[pos] != '}') throw std::runtime_error("expected ',' or '}' after a label");
  }
}

}  // namespace exposition_detail

inline Exposition parse_exposition(const std::string& text) {
  using namespace exposition_detail;
  Exposition e;
  if (!text.empty() && text.back() != '\n') throw std::runtime_error("the page does not end with a newline");
  std::string open;              // the family whose lines are being read
  std::set<std::string> closed;  // families whose lines are over
  std::set<std::string> series;
  std::map<std::string, bool> typed, helped;
  size_t line_no = 0;
  size_t begin = 0;
  while (begin < text.size()) {
    const size_t end = text.find('\n', begin);
    const std::string line = text.substr(begin, end - begin);
    begin = end + 1;
    ++line_no;
    try {
      if (line.empty()) throw std::runtime_error("a blank line");
      if (line[0] == '#') {
        const bool help = line.rfind("# HELP ", 0) == 0;
        const bool type = line.rfind("# TYPE ", 0) == 0;
        if (!help && !type) throw std::runtime_error("a comment that is neither HELP nor TYPE");
        const auto sp = line.find(' ', 7);
        const std::string name = line.substr(7, sp == std::string::npos ? std::string::npos : sp - 7);
        if (!is_name(name, true)) throw std::runtime_error("bad metric name '" + name + "'");
        if (sp == std::string::npos) throw std::runtime_error("nothing after the name");
        const std::string rest = line.substr(sp + 1);
        if (open != name) {
          if (!open.empty()) closed.insert(open);
          if (closed.count(name)) throw std::runtime_error("family " + name + " resumed after another");
          open = name;
        }
        if (!e.families[name].samples.empty()) throw std::runtime_error("HELP or TYPE of " + name + " after its samples");
        auto& f = e.families[name];
        if (std::find(e.order.begin(), e.order.end(), name) == e.order.end()) e.order.push_back(name);
        if (help) {
          if (helped[name]) throw std::runtime_error("a second HELP for " + name);
          helped[name] = true;
          if (rest.empty()) throw std::runtime_error("an empty HELP for " + name);
          f.help = rest;
        } else {
          if (typed[name]) throw std::runtime_error("a second TYPE for " + name);
          typed[name] = true;
          static const std::set<std::string> types = {"counter", "gauge", "histogram", "summary", "untyped"};
          if (!types.count(rest)) throw std::runtime_error("unknown type '" + rest + "'");
          f.type = rest;
          if (rest == "counter" && !(name.size() > 6 && name.compare(name.size() - 6, 6, "_total") == 0)) {
            throw std::runtime_error("counter " + name + " does not end in _total");
          }
        }
        continue;
      }
      ExpositionSample s;
      size_t pos = 0;
      while (pos < line.size() && line[pos] != '{' && line[pos] != ' ') ++pos;
      s.name = line.substr(0, pos);
      if (!is_name(s.name, true)) throw std::runtime_error("bad metric name '" + s.name + "'");
      if (pos < line.size() && line[pos] == '{') pos = parse_labels(line, pos + 1, s.labels);
      if (pos >= line.size() || line[pos] != ' ') throw std::runtime_error("no space before the value");
      const std::string value = line.substr(pos + 1);
      if (value.find(' ') != std::string::npos) throw std::runtime_error("more than a value (a timestamp?)");
      s.value = parse_value(value);
      // Its family: its own name, or a histogram's.
      std::string fname;
      if (typed.count(s.name)) {
        fname = s.name;
        if (e.families[fname].type == "histogram") throw std::runtime_error("a plain sample of histogram " + fname);
      } else {
        for (const char* suffix : {"_bucket", "_sum", "_count"}) {
          const std::string sfx(suffix);
          if (s.name.size() > sfx.size() && s.name.compare(s.name.size() - sfx.size(), sfx.size(), sfx) == 0) {
            const auto base = s.name.substr(0, s.name.size() - sfx.size());
            if (typed.count(base) && e.families[base].type == "histogram") fname = base;
          }
        }
      }
      if (fname.empty()) throw std::runtime_error("sample " + s.name + " of a family without TYPE");
      if (!helped[fname]) throw std::runtime_error("family " + fname + " has no HELP");
      if (fname != open) throw std::runtime_error("sample of " + fname + " away from its HELP and TYPE");
      if (!series.insert(series_key(s.name, s.labels)).second) {
        throw std::runtime_error("series " + series_key(s.name, s.labels) + " twice");
      }
      e.families[fname].samples.push_back(std::move(s));
    } catch (const std::runtime_error& err) {
      throw std::runtime_error("line " + std::to_string(line_no) + ": " + err.what() + ": " + line);
    }
  }
  for (const auto& [name, f] : e.families) {
    if (!typed[name]) throw std::runtime_error("family " + name + " has HELP but no TYPE");
    if (!helped[name]) throw std::runtime_error("family " + name + " has TYPE but no HELP");
  }
  check_histograms(e);
  return e;
}

}  // namespace seisvault::test
