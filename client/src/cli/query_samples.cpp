// `seisvault query samples`: the samples, decoded by the server.
//
// CSV: one row per sample, "source_id,time,value", no header line, time in
// full ISO 8601 (nine fractional digits) so rows sort like times; a TEXT
// (log) segment is one row whose value is its text, CSV-quoted.
// JSON: an array of segments {source_id, start, start_ns, sample_rate,
// sample_type, samples, sample_count}; messages that continue the previous
// one (continues_previous) are merged into it; a TEXT segment's samples is a
// string. Both are written as the messages arrive, so memory stays bounded
// by one message whatever the window.
#include <cmath>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "exit_codes.h"
#include "query_command.h"
#include "query_format.h"
#include "query_subcommands.h"

namespace seisvault::cli {

namespace v1 = waveform::v1;

namespace {

constexpr size_t kFlushBytes = 1 << 16;

// Output buffered in memory and written in large pieces.
class Output {
 public:
  fmt::memory_buffer& buffer() { return buffer_; }
  void maybe_flush() {
    if (buffer_.size() >= kFlushBytes) flush();
  }
  void flush() {
    if (buffer_.size() > 0) std::fwrite(buffer_.data(), 1, buffer_.size(), stdout);
    buffer_.clear();
  }
  ~Output() { flush(); }

 private:
  fmt::memory_buffer buffer_;
};

// A JSON string's contents (without the quotes); invalid UTF-8 becomes U+FFFD.
std::string json_escaped(const std::string& text) {
  const std::string quoted = nlohmann::ordered_json(text).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  return quoted.substr(1, quoted.size() - 2);
}

template <class T>
void append_json_number(fmt::memory_buffer& b, T v) {
  if constexpr (std::is_floating_point_v<T>) {
    if (!std::isfinite(v)) {
      fmt::format_to(std::back_inserter(b), "null");
      return;
    }
  }
  fmt::format_to(std::back_inserter(b), "{}", v);
}

// The time of sample `i` of a message: its start plus i periods, rounded to
// the nanosecond (no accumulated error however long the message).
TimeNs sample_time(const v1::Segment& s, int64_t i) {
  if (!(s.sample_rate() > 0)) return s.start_ns();
  return s.start_ns() + std::llround(static_cast<double>(i) * 1e9 / s.sample_rate());
}

class CsvWriter {
 public:
  void add(const v1::Segment& s) {
    auto& b = out_.buffer();
    const auto row = [&](int64_t i, const auto& value) {
      fmt::format_to(std::back_inserter(b), "{},{},{}\n", s.source_id(), format_iso8601(sample_time(s, i)), value);
      out_.maybe_flush();
    };
    switch (s.sample_type()) {
      case v1::INT32:
        for (int i = 0; i < s.int32_samples_size(); ++i) row(i, s.int32_samples(i));
        samples_ += static_cast<uint64_t>(s.int32_samples_size());
        break;
      case v1::FLOAT32:
        for (int i = 0; i < s.float32_samples_size(); ++i) row(i, s.float32_samples(i));
        samples_ += static_cast<uint64_t>(s.float32_samples_size());
        break;
      case v1::FLOAT64:
        for (int i = 0; i < s.float64_samples_size(); ++i) row(i, s.float64_samples(i));
        samples_ += static_cast<uint64_t>(s.float64_samples_size());
        break;
      case v1::TEXT:
        row(0, csv_field(s.text()));
        samples_ += s.text().size();
        break;
      default:
        break;
    }
  }
  void finish() { out_.flush(); }
  uint64_t samples() const { return samples_; }

 private:
  Output out_;
  uint64_t samples_ = 0;
};

class JsonWriter {
 public:
  void add(const v1::Segment& s) {
    auto& b = out_.buffer();
    const bool merge = open_ && s.continues_previous() && s.source_id() == source_id_ && s.sample_type() == type_;
    if (!merge) {
      close_segment();
      fmt::format_to(std::back_inserter(b),
                     "{}\n  {{\"source_id\": \"{}\", \"start\": \"{}\", \"start_ns\": {}, \"sample_rate\": {}, "
                     "\"sample_type\": \"{}\", \"samples\": {}",
                     segments_ == 0 ? "[" : ",", json_escaped(s.source_id()), format_iso8601(s.start_ns()),
                     s.start_ns(), s.sample_rate(), v1::SampleType_Name(s.sample_type()),
                     s.sample_type() == v1::TEXT ? "\"" : "[");
      open_ = true;
      source_id_ = s.source_id();
      type_ = s.sample_type();
      count_ = 0;
      ++segments_;
    }
    const auto values = [&](const auto& list) {
      for (const auto v : list) {
        if (count_++ > 0) b.push_back(',');
        append_json_number(b, v);
        out_.maybe_flush();
      }
    };
    switch (s.sample_type()) {
      case v1::INT32: values(s.int32_samples()); break;
      case v1::FLOAT32: values(s.float32_samples()); break;
      case v1::FLOAT64: values(s.float64_samples()); break;
      case v1::TEXT:
        fmt::format_to(std::back_inserter(b), "{}", json_escaped(s.text()));
        count_ += s.text().size();
        break;
      default: break;
    }
    out_.maybe_flush();
  }

  void finish() {
    close_segment();
    fmt::format_to(std::back_inserter(out_.buffer()), "{}", segments_ == 0 ? "[]\n" : "\n]\n");
    out_.flush();
  }
  uint64_t segments() const { return segments_; }

 private:
  void close_segment() {
    if (!open_) return;
    fmt::format_to(std::back_inserter(out_.buffer()), "{}, \"sample_count\": {}}}", type_ == v1::TEXT ? "\"" : "]",
                   count_);
    open_ = false;
  }

  Output out_;
  bool open_ = false;
  std::string source_id_;
  v1::SampleType type_ = v1::SAMPLE_TYPE_UNSPECIFIED;
  uint64_t count_ = 0;
  uint64_t segments_ = 0;
};

}  // namespace

int run_query_samples(const QueryContext& ctx) {
  const std::string format = ctx.args.format.empty() ? (ctx.json ? "json" : "csv") : ctx.args.format;
  uint64_t messages = 0;
  grpc::Status status;
  if (format == "json") {
    JsonWriter w;
    status = ctx.client.get_samples(ctx.scope, [&](const v1::Segment& s) {
      ++messages;
      w.add(s);
      return true;
    });
    if (status.ok()) w.finish();
  } else {
    CsvWriter w;
    status = ctx.client.get_samples(ctx.scope, [&](const v1::Segment& s) {
      ++messages;
      w.add(s);
      return true;
    });
    w.finish();
  }
  if (!status.ok()) return report_rpc_error(status);
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) return report_usage_error("cannot write stdout");
  if (messages == 0) fmt::print(stderr, "seisvault query: {}: no samples in this selection and window\n", kNoData);
  return kExitOk;
}

}  // namespace seisvault::cli
