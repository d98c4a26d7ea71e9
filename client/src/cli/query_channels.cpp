// `seisvault query channels`: what is stored, and how late each channel is.
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "query_format.h"
#include "query_subcommands.h"
#include "query_table.h"

namespace seisvault::cli {

int run_query_channels(const QueryContext& ctx) {
  std::vector<waveform::v1::Channel> channels;
  if (auto s = ctx.client.list_channels(ctx.scope, &channels); !s.ok()) return report_rpc_error(s);
  const TimeNs now = now_ns();

  if (ctx.json) {
    auto out = nlohmann::ordered_json::array();
    for (const auto& c : channels) {
      out.push_back({{"source_id", c.source_id()},
                     {"first_start", format_iso8601(c.first_start_ns())},
                     {"last_end", format_iso8601(c.last_end_ns())},
                     {"sample_rate", c.sample_rate()},
                     {"records", c.record_count()},
                     {"bytes", c.byte_count()},
                     {"last_receive", format_iso8601(c.last_receive_ns())},
                     {"latency_s", static_cast<double>(now - c.last_receive_ns()) / 1e9},
                     {"first_start_ns", c.first_start_ns()},
                     {"last_end_ns", c.last_end_ns()},
                     {"last_receive_ns", c.last_receive_ns()}});
    }
    fmt::print("{}\n", out.dump(2));
    if (channels.empty()) fmt::print(stderr, "{}\n", kNoData);
    return 0;
  }

  if (channels.empty()) {
    fmt::print("{}\n", kNoData);
    return 0;
  }
  using A = QueryTable::Align;
  QueryTable table({{"SOURCE ID"},
                    {"FIRST START"},
                    {"LAST END"},
                    {"RATE", A::kRight},
                    {"RECORDS", A::kRight},
                    {"BYTES", A::kRight},
                    {"LAST RECEIVE"},
                    {"LATENCY", A::kRight}});
  for (const auto& c : channels) {
    table.add_row({c.source_id(), human_time(c.first_start_ns()), human_time(c.last_end_ns()),
                   human_rate(c.sample_rate()), fmt::format("{}", c.record_count()), human_bytes(c.byte_count()),
                   human_time(c.last_receive_ns()), human_duration(now - c.last_receive_ns())});
  }
  table.print(stdout);
  return 0;
}

}  // namespace seisvault::cli
