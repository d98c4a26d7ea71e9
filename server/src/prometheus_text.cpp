#include "prometheus_text.h"

#include <array>
#include <cmath>
#include <iterator>
#include <string>

#include <fmt/format.h>

namespace seisvault::server {

namespace {

std::string_view type_name(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// The "le" values of LatencyHistogram's buckets, spelled once.
const std::array<std::string, LatencyHistogram::kBucketCount>& bucket_bounds() {
  static const auto bounds = [] {
    std::array<std::string, LatencyHistogram::kBucketCount> out;
    for (size_t i = 0; i < out.size(); ++i) PrometheusText::append_double(out[i], LatencyHistogram::kBounds[i]);
    return out;
  }();
  return bounds;
}

}  // namespace

void PrometheusText::append_double(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else {
    // fmt's shortest round-trip form: "0.0005", "1e-07", "1.5e+20", "3";
    // Prometheus reads all of them (Go's strconv.ParseFloat).
    fmt::format_to(std::back_inserter(out), "{}", value);
  }
}

void PrometheusText::append_label_value(std::string& out, std::string_view value) {
  if (value.find_first_of("\\\"\n") == std::string_view::npos) {  // the usual case: nothing to escape
    out += value;
    return;
  }
  for (const char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
}

void PrometheusText::family(std::string_view name, MetricType type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  for (const char c : help) {
    if (c == '\\') {
      out_ += "\\\\";
    } else if (c == '\n') {
      out_ += "\\n";
    } else {
      out_ += c;
    }
  }
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type_name(type);
  out_ += '\n';
}

void PrometheusText::begin_sample(std::string_view name, std::string_view suffix, Labels labels,
                                  const PrometheusLabel* le) {
  out_ += name;
  out_ += suffix;
  if (!labels.empty() || le) {
    char sep = '{';
    const auto put = [&](const PrometheusLabel& l) {
      out_ += sep;
      out_ += l.name;
      out_ += "=\"";
      append_label_value(out_, l.value);
      out_ += '"';
      sep = ',';
    };
    for (const auto& l : labels) put(l);
    if (le) put(*le);
    out_ += '}';
  }
  out_ += ' ';
}

void PrometheusText::sample(std::string_view name, Labels labels, uint64_t value) {
  begin_sample(name, {}, labels, nullptr);
  fmt::format_to(std::back_inserter(out_), "{}\n", value);
}

void PrometheusText::sample(std::string_view name, Labels labels, int64_t value) {
  begin_sample(name, {}, labels, nullptr);
  fmt::format_to(std::back_inserter(out_), "{}\n", value);
}

void PrometheusText::sample(std::string_view name, Labels labels, double value) {
  begin_sample(name, {}, labels, nullptr);
  append_double(out_, value);
  out_ += '\n';
}

void PrometheusText::histogram(std::string_view name, Labels labels, const LatencyHistogram::Snapshot& s) {
  const auto& bounds = bucket_bounds();
  for (size_t i = 0; i <= LatencyHistogram::kBucketCount; ++i) {
    const PrometheusLabel le{"le", i < bounds.size() ? std::string_view(bounds[i]) : std::string_view("+Inf")};
    begin_sample(name, "_bucket", labels, &le);
    fmt::format_to(std::back_inserter(out_), "{}\n", s.cumulative[i]);
  }
  begin_sample(name, "_sum", labels, nullptr);
  append_double(out_, s.sum_seconds);
  out_ += '\n';
  begin_sample(name, "_count", labels, nullptr);
  fmt::format_to(std::back_inserter(out_), "{}\n", s.count);
}

}  // namespace seisvault::server
