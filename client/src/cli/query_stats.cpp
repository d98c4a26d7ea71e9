// `seisvault query stats`: the server at a glance.
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "query_format.h"
#include "query_subcommands.h"

namespace seisvault::cli {

int run_query_stats(const QueryContext& ctx) {
  waveform::v1::Stats s;
  if (auto st = ctx.client.get_stats(&s); !st.ok()) return report_rpc_error(st);

  if (ctx.json) {
    auto rejections = nlohmann::ordered_json::object();
    for (const auto& r : s.rejections()) rejections[r.reason()] = r.count();
    const nlohmann::ordered_json out = {{"records_stored", s.records_stored()},
                                {"bytes_stored", s.bytes_stored()},
                                {"channels", s.channels()},
                                {"records_ingested", s.records_ingested()},
                                {"records_duplicate", s.records_duplicate()},
                                {"records_rejected", s.records_rejected()},
                                {"rejections", rejections},
                                {"ingest_records_per_second", s.ingest_records_per_second()},
                                {"ingest_bytes_per_second", s.ingest_bytes_per_second()},
                                {"connected_stations", s.connected_stations()},
                                {"uptime_seconds", s.uptime_seconds()},
                                {"subscribers", s.subscribers()}};
    fmt::print("{}\n", out.dump(2));
    return 0;
  }

  fmt::print("stored       {} records, {}, {} channels\n", s.records_stored(), human_bytes(s.bytes_stored()),
             s.channels());
  fmt::print("ingested     {} records since start-up, {} duplicate, {} rejected\n", s.records_ingested(),
             s.records_duplicate(), s.records_rejected());
  for (const auto& r : s.rejections()) fmt::print("  rejected   {:<28} {:>10}\n", r.reason(), r.count());
  fmt::print("ingest rate  {:.1f} records/s, {}/s (last ~10 s)\n", s.ingest_records_per_second(),
             human_bytes(static_cast<uint64_t>(s.ingest_bytes_per_second())));
  fmt::print("stations     {} connected\n", s.connected_stations());
  fmt::print("subscribers  {}\n", s.subscribers());
  fmt::print("uptime       {}\n",
             human_duration(static_cast<int64_t>(s.uptime_seconds() * static_cast<double>(kNanosPerSecond))));
  return 0;
}

}  // namespace seisvault::cli
