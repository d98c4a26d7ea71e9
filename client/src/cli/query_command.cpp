#include "query_command.h"

#include <cctype>
#include <chrono>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "exit_codes.h"
#include "query_context.h"
#include "query_scope.h"
#include "query_subcommands.h"

namespace seisvault::cli {

namespace {

constexpr char kSelectionHelp[] =
    "NET.STA.LOC.CHA patterns: ? and * wildcards, comma lists in any field, -- for an empty location, missing "
    "trailing fields mean *; several patterns are OR-ed; none selects every channel";

// The selection options shared by the subcommands that read channels.
void add_selection_options(CLI::App* sub, QueryArgs& args) {
  sub->add_option("SELECTION", args.patterns, kSelectionHelp);
  const auto field = [&](const char* name, std::vector<std::string>& into, const char* help) {
    sub->add_option(name, into, help)->allow_extra_args(false);
  };
  // Together they make one pattern; a field not given is *.
  field("--net", args.net, "network code(s), a comma list, wildcards; with --sta/--loc/--cha instead of SELECTION");
  field("--sta", args.sta, "station code(s)");
  field("--loc", args.loc, "location code(s); --loc=-- for the empty code");
  field("--cha", args.cha, "channel code(s)");
}

void add_window_options(CLI::App* sub, QueryArgs& args, bool required) {
  auto* start = sub->add_option("--start", args.start, "window start, ISO 8601 UTC (2024-03-01T12:00:00Z)");
  auto* end = sub->add_option("--end", args.end, "window end (inclusive), ISO 8601 UTC");
  if (required) {
    start->required();
    end->required();
  }
}

std::chrono::milliseconds to_ms(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000.0));
}

}  // namespace

CLI::App* add_query_command(CLI::App& app, QueryArgs& args) {
  auto* cmd = app.add_subcommand(
      "query", "read from seisvaultd's query API: channels, records, samples, availability, follow, verify, stats");
  cmd->require_subcommand(1);
  add_api_connection_options(cmd, args.connection, true);
  cmd->add_flag("--json", args.json, "machine-readable JSON on stdout instead of tables");
  cmd->add_option("--timeout", args.timeout_s,
                  "deadline in seconds of each call: applies to channels, availability and stats (default 60), and "
                  "to records, samples and verify only when given; follow has none")
      ->check(CLI::PositiveNumber);

  // Options of `query` are also accepted after the subcommand's name.
  const auto sub = [&](const char* name, const char* help) {
    auto* s = cmd->add_subcommand(name, help);
    s->fallthrough();
    return s;
  };

  auto* channels = sub("channels", "the channels stored: extent, sample rate, records, bytes, last arrival, latency");
  add_selection_options(channels, args);

  auto* records = sub("records", "the stored miniSEED records, byte-identical, into a file or stdout");
  add_selection_options(records, args);
  add_window_options(records, args, true);
  records->add_option("--out", args.out, "output file (written whole or not at all), or - for stdout")->required();

  auto* samples = sub("samples", "the samples, as CSV rows (source_id,time,value) or JSON segments");
  add_selection_options(samples, args);
  add_window_options(samples, args, true);
  samples->add_option("--format", args.format, "csv or json (default: json with --json, else csv)")
      ->check(CLI::IsMember({"csv", "json"}));

  auto* availability = sub("availability", "spans of continuous data and the gaps and overlaps between them");
  add_selection_options(availability, args);
  add_window_options(availability, args, false);
  availability
      ->add_option("--tolerance", args.tolerance_s,
                   "seconds by which a record may start off the expected time and still continue a span "
                   "(default: half a sample period)")
      ->check(CLI::NonNegativeNumber);

  auto* follow = sub("follow", "print each record as it is stored, until Ctrl-C or --count records");
  add_selection_options(follow, args);
  follow->add_option("--since", args.since,
                     "first the stored records starting at or after this time (ISO 8601 UTC), then the live ones");
  follow->add_option("--count", args.count, "stop after this many records (default: until Ctrl-C)")
      ->check(CLI::PositiveNumber);

  auto* verify = sub("verify",
                     "have the server re-check stored records against their bytes and the ledger, and check the "
                     "ledger here (chain, station signatures, the server's checkpoints); exit 1 if any problem is "
                     "found");
  add_selection_options(verify, args);
  add_window_options(verify, args, false);
  verify->add_option("--server-key", args.server_key,
                     "the server's signing public key file (DATA_DIR/server.sign.pub) the checkpoints must be signed "
                     "by; without it, each checkpoint's own key is taken as given");

  sub("stats", "the server's counters: store size, ingest rate, rejections, stations, subscribers, uptime");
  return cmd;
}

int run_query(const CLI::App& query, const QueryArgs& args) {
  const auto parsed = query.get_subcommands();
  if (parsed.empty()) return report_usage_error("give a subcommand (seisvault query --help)");
  const std::string name = parsed.front()->get_name();

  static const std::map<std::string, int (*)(const QueryContext&)> kRun = {
      {"channels", run_query_channels}, {"records", run_query_records}, {"samples", run_query_samples},
      {"availability", run_query_availability}, {"follow", run_query_follow}, {"verify", run_query_verify},
      {"stats", run_query_stats}};
  const auto run = kRun.find(name);
  if (run == kRun.end()) return report_usage_error(fmt::format("unknown subcommand {}", name));

  auto connection = api_client_options(args.connection);
  if (!connection.ok()) return report_usage_error(connection.status().message());
  client::QueryClientOptions options = std::move(*connection);
  options.unary_timeout = to_ms(args.timeout_s);
  if (query.get_option("--timeout")->count() > 0) options.stream_timeout = to_ms(args.timeout_s);

  auto scope = make_query_scope(args);
  if (!scope.ok()) return report_usage_error(scope.status().message());

  // Before the client exists: gRPC's threads inherit the signal mask.
  if (name == "follow") block_stop_signals();
  const client::QueryClient client(std::move(options));
  const QueryContext ctx{client, std::move(*scope), args, args.json};
  return run->second(ctx);
}

}  // namespace seisvault::cli
