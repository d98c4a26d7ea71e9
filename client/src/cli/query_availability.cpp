// `seisvault query availability`: spans of continuous data per channel and
// what lies between them. A span's length runs to the end of its last
// sample (last sample time + one period); a gap's length is the time with no
// sample (next start - previous last sample - one period); an overlap's is
// the time covered twice.
#include <cmath>

#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "exit_codes.h"
#include "query_command.h"
#include "query_format.h"
#include "query_subcommands.h"
#include "query_table.h"

namespace seisvault::cli {

namespace v1 = waveform::v1;

namespace {

int64_t span_length(const v1::Span& s) { return s.end_ns() - s.start_ns() + sample_period_ns(s.sample_rate()); }

// Gap i lies between spans i and i+1; its length uses the earlier span's period.
int64_t gap_length(const v1::ChannelAvailability& c, int i) {
  const int64_t period = sample_period_ns(c.spans(i).sample_rate());
  const int64_t between = c.gaps(i).end_ns() - c.gaps(i).start_ns();
  return c.gaps(i).overlap() ? period - between : between - period;
}

nlohmann::ordered_json to_json(const v1::ChannelAvailability& c) {
  auto spans = nlohmann::ordered_json::array();
  for (const auto& s : c.spans()) {
    spans.push_back({{"start", format_iso8601(s.start_ns())},
                     {"end", format_iso8601(s.end_ns())},
                     {"sample_rate", s.sample_rate()},
                     {"length_s", static_cast<double>(span_length(s)) / 1e9},
                     {"start_ns", s.start_ns()},
                     {"end_ns", s.end_ns()}});
  }
  auto gaps = nlohmann::ordered_json::array();
  for (int i = 0; i < c.gaps_size(); ++i) {
    const auto& g = c.gaps(i);
    gaps.push_back({{"start", format_iso8601(g.start_ns())},
                    {"end", format_iso8601(g.end_ns())},
                    {"overlap", g.overlap()},
                    {"length_s", static_cast<double>(gap_length(c, i)) / 1e9},
                    {"start_ns", g.start_ns()},
                    {"end_ns", g.end_ns()}});
  }
  return {{"source_id", c.source_id()}, {"spans", spans}, {"gaps", gaps}};
}

}  // namespace

int run_query_availability(const QueryContext& ctx) {
  std::optional<TimeNs> tolerance;
  if (ctx.args.tolerance_s >= 0) tolerance = std::llround(ctx.args.tolerance_s * 1e9);
  v1::GetAvailabilityResponse response;
  if (auto s = ctx.client.get_availability(ctx.scope, tolerance, &response); !s.ok()) return report_rpc_error(s);

  if (ctx.json) {
    auto out = nlohmann::ordered_json::array();
    for (const auto& c : response.channels()) out.push_back(to_json(c));
    fmt::print("{}\n", out.dump(2));
    if (response.channels().empty()) fmt::print(stderr, "{}\n", kNoData);
    return kExitOk;
  }
  if (response.channels().empty()) {
    fmt::print("{}\n", kNoData);
    return kExitOk;
  }

  using A = QueryTable::Align;
  QueryTable table({{"SOURCE ID"}, {"WHAT"}, {"START"}, {"END"}, {"RATE", A::kRight}, {"LENGTH", A::kRight}});
  uint64_t gaps = 0, overlaps = 0;
  for (const auto& c : response.channels()) {
    for (int i = 0; i < c.spans_size(); ++i) {
      if (i > 0 && i - 1 < c.gaps_size()) {
        const auto& g = c.gaps(i - 1);
        (g.overlap() ? overlaps : gaps) += 1;
        table.add_row({c.source_id(), g.overlap() ? "overlap" : "gap", human_time(g.start_ns()),
                       human_time(g.end_ns()), "", human_duration(gap_length(c, i - 1))});
      }
      const auto& s = c.spans(i);
      table.add_row({c.source_id(), "data", human_time(s.start_ns()), human_time(s.end_ns()),
                     human_rate(s.sample_rate()), human_duration(span_length(s))});
    }
  }
  table.print(stdout);
  fmt::print("{} channel{}, {} gap{}, {} overlap{}\n", response.channels_size(),
             response.channels_size() == 1 ? "" : "s", gaps, gaps == 1 ? "" : "s", overlaps,
             overlaps == 1 ? "" : "s");
  return kExitOk;
}

}  // namespace seisvault::cli
