// PrometheusText: writes metrics in the Prometheus text exposition format,
// version 0.0.4 (Content-Type: text/plain; version=0.0.4; charset=utf-8).
//
// Our own, and small: Debian 12 packages no prometheus-cpp, and /metrics
// needs only this writer. It appends to one std::string: a family's
// "# HELP" and "# TYPE" lines, then its samples, one per line:
//
//   # HELP seisvault_ingest_records_stored_total Records stored (not duplicates).
//   # TYPE seisvault_ingest_records_stored_total counter
//   seisvault_ingest_records_stored_total 1234
//
// What it takes care of: escaping label values (backslash, double quote,
// newline) and HELP text (backslash, newline); numbers Prometheus parses
// (integers exactly, doubles in the shortest form that reads back to the
// same value, "NaN", "+Inf", "-Inf"); histograms as cumulative _bucket
// series with an "le" label ending in "+Inf", then _sum and _count.
//
// What the caller takes care of: metric and label names are valid
// ([a-zA-Z_:][a-zA-Z0-9_:]* and [a-zA-Z_][a-zA-Z0-9_]*; they are constants in
// our code, so they are checked only by tests), a counter's name ends in
// "_total", each family is begun once and its samples follow it before the
// next family begins, and no two samples of a family have the same labels.
// Not thread-safe (one writer per string); never throws except bad_alloc.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

#include "seisvault/common/latency_histogram.h"

namespace seisvault::server {

struct PrometheusLabel {
  std::string_view name;
  std::string_view value;  // any bytes; escaped when written
};

enum class MetricType { kCounter, kGauge, kHistogram };

class PrometheusText {
 public:
  using Labels = std::span<const PrometheusLabel>;

  // Appends to `out` (which keeps what it held).
  explicit PrometheusText(std::string& out) : out_(out) {}

  // Writes "# HELP name help" and "# TYPE name type".
  void family(std::string_view name, MetricType type, std::string_view help);

  // One sample: "name{labels} value". The integer form writes the exact
  // number (Prometheus reads it as a double: exact below 2^53).
  void sample(std::string_view name, Labels labels, uint64_t value);
  void sample(std::string_view name, Labels labels, int64_t value);
  void sample(std::string_view name, Labels labels, double value);
  void sample(std::string_view name, std::initializer_list<PrometheusLabel> labels, uint64_t value) {
    sample(name, Labels(labels.begin(), labels.size()), value);
  }
  void sample(std::string_view name, std::initializer_list<PrometheusLabel> labels, int64_t value) {
    sample(name, Labels(labels.begin(), labels.size()), value);
  }
  void sample(std::string_view name, std::initializer_list<PrometheusLabel> labels, double value) {
    sample(name, Labels(labels.begin(), labels.size()), value);
  }

  // One histogram series (of a family begun with kHistogram): name_bucket
  // for each bound and +Inf, name_sum, name_count; `labels` go on each, "le"
  // after them.
  void histogram(std::string_view name, Labels labels, const LatencyHistogram::Snapshot& snapshot);
  void histogram(std::string_view name, std::initializer_list<PrometheusLabel> labels,
                 const LatencyHistogram::Snapshot& snapshot) {
    histogram(name, Labels(labels.begin(), labels.size()), snapshot);
  }

  // The number as the exposition format spells it: "NaN", "+Inf", "-Inf",
  // or the shortest decimal that reads back as the same double ("0.0005",
  // "1e-07", "12345").
  static void append_double(std::string& out, double value);
  // `value` with \ " and newline escaped, as in a label value.
  static void append_label_value(std::string& out, std::string_view value);

 private:
  void begin_sample(std::string_view name, std::string_view suffix, Labels labels, const PrometheusLabel* le);

  std::string& out_;
};

}  // namespace seisvault::server
