#include "push_from_seedlink.h"

#include <unistd.h>

#include <charconv>
#include <chrono>

#include <fmt/format.h>

#include "exit_codes.h"
#include "progress_reporter.h"
#include "seisvault/client/push_client.h"
#include "seisvault/client/seedlink_bridge.h"

#ifndef SEISVAULT_VERSION
#define SEISVAULT_VERSION "unknown"
#endif

namespace seisvault::cli {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

milliseconds to_ms(double seconds) { return milliseconds(static_cast<int64_t>(seconds * 1000.0)); }

// "HOST", "HOST:PORT", "[IPv6]:PORT"; the port defaults to SeedLink's 18000.
bool parse_address(std::string_view text, std::string& host, uint16_t& port) {
  port = 18000;
  std::string_view port_text;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return false;
    host = std::string(text.substr(1, close - 1));
    const auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (!rest.starts_with(':')) return false;
      port_text = rest.substr(1);
    }
  } else {
    const auto colon = text.rfind(':');
    if (colon != std::string_view::npos && text.find(':') != colon) return false;  // bare IPv6: use [..]
    host = std::string(text.substr(0, colon));
    if (colon != std::string_view::npos) port_text = text.substr(colon + 1);
  }
  if (host.empty()) return false;
  if (!port_text.empty() || text.ends_with(':')) {
    unsigned value = 0;
    const auto [end, err] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (err != std::errc() || end != port_text.data() + port_text.size() || value == 0 || value > 65535) return false;
    port = static_cast<uint16_t>(value);
  }
  return true;
}

std::string bytes_text(uint64_t n) {
  if (n < 10 * 1024) return fmt::format("{} B", n);
  if (n < 10 * 1024 * 1024) return fmt::format("{} KiB", n / 1024);
  return fmt::format("{} MiB", n / (1024 * 1024));
}

}  // namespace

void add_seedlink_options(CLI::App& push, PushArgs& args, CLI::Option* paths) {
  auto* from = push.add_option(
      "--from-seedlink", args.from_seedlink,
      "pull records from this SeedLink server, HOST[:PORT] (port 18000 if left out; [IPv6]:PORT): a datalogger, a "
      "SeisComP seedlink, a ringserver. SeedLink 4 when the server offers it, else 3. Needs --streams and --spool; "
      "the resume state (seedlink.state) lives in the spool and advances only when seisvaultd has acknowledged the "
      "records, so a restart or an outage loses nothing. Runs until SIGINT/SIGTERM (or --fetch)");
  push.add_option("--streams", args.streams,
                  "with --from-seedlink: the stations to pull, comma-separated, each NET_STA[:SELECTORS]; SELECTORS "
                  "are SELECT patterns joined by '+': SeedLink 3 style [!][LL]CCC[.T] (e.g. BHZ, 00HH?, --LHZ, "
                  "BH?.D for data records only; converted for SeedLink 4 servers) or SeedLink 4 style "
                  "[!]LOC_B_S_SS[.FS]. Example: --streams GE_WLF:BH?.D+HH?.D,GE_APE. No selector: every stream of "
                  "the station. May be given more than once")
      ->type_name("NET_STA[:SEL+SEL...],...");
  push.add_flag("--fetch", args.fetch,
                "with --from-seedlink: dial-up mode: take what the SeedLink server holds, deliver it and exit "
                "(--timeout then bounds the wait for seisvaultd, as for files)");
  push.add_option("--seedlink-protocol", args.seedlink_protocol,
                  "with --from-seedlink: auto (4 when offered, else 3) or 3")
      ->check(CLI::IsMember({"auto", "3"}))
      ->capture_default_str();
  push.add_option("--seedlink-start", args.seedlink_start,
                  "with --from-seedlink: where a station without resume state starts: next (what arrives from now "
                  "on) or oldest (everything the SeedLink server still holds)")
      ->check(CLI::IsMember({"next", "oldest"}))
      ->capture_default_str();
  push.add_option("--keepalive", args.keepalive_s,
                  "with --from-seedlink: send INFO ID after this many seconds of silence (0: never)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  push.add_option("--seedlink-timeout", args.seedlink_timeout_s,
                  "with --from-seedlink: reconnect when the SeedLink server has sent nothing for this many seconds")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  from->excludes(paths);
  if (auto* follow = push.get_option_no_throw("--follow")) from->excludes(follow);
}

int run_push_from_seedlink(const PushArgs& args) {
  const auto usage_error = [](const std::string& message) {
    fmt::print(stderr, "seisvault push: {}\n", message);
    return kExitUsage;
  };
  if (args.spool_dir.empty()) {
    return usage_error(
        "--from-seedlink needs --spool DIR: unacknowledged batches and the SeedLink resume state live there");
  }
  if (args.streams.empty()) return usage_error("--from-seedlink needs --streams NET_STA[:SELECTORS],...");
  if (args.seedlink_timeout_s <= args.keepalive_s && args.keepalive_s > 0) {
    return usage_error("--seedlink-timeout must be longer than --keepalive");
  }

  client::SeedLinkBridgeOptions options;
  auto& sl = options.seedlink;
  if (!parse_address(args.from_seedlink, sl.host, sl.port)) {
    return usage_error(fmt::format("--from-seedlink {}: expected HOST[:PORT] or [IPv6]:PORT", args.from_seedlink));
  }
  std::string list;
  for (const auto& s : args.streams) list += (list.empty() ? "" : ",") + s;
  auto stations = client::parse_seedlink_streams(list);
  if (!stations.ok()) return usage_error(fmt::format("--streams: {}", stations.status().message()));
  sl.stations = std::move(*stations);
  for (auto& s : sl.stations) s.from_oldest = args.seedlink_start == "oldest";
  sl.allow_v4 = args.seedlink_protocol != "3";
  sl.dial_up = args.fetch;
  sl.user_agent = "seisvault/" SEISVAULT_VERSION;
  sl.keepalive_interval = to_ms(args.keepalive_s);
  sl.idle_timeout = to_ms(args.seedlink_timeout_s);

  if (auto problem = apply_push_args(args, options.push); !problem.empty()) return usage_error(problem);
  // Streaming, the server may be away for as long as it takes (the spool
  // keeps the records); a dial-up fetch gives up like a push of files.
  options.push.stall_timeout = args.fetch ? to_ms(args.timeout_s) : milliseconds::zero();
  // A dial-up fetch that cannot reach its SeedLink server gives up too.
  options.max_connect_attempts = args.fetch ? 4 : 0;

  ProgressReporter progress(::isatty(STDERR_FILENO) == 1);
  std::optional<client::SeedLinkBridge> bridge;
  options.push.on_connection = [&](client::ConnectionState state, std::string_view detail) {
    progress.message(detail, state != client::ConnectionState::kConnected);
  };
  options.push.keep_waiting = [] { return !push_abort_requested(); };
  options.keep_running = [] { return !push_stop_requested(); };
  options.on_progress = [&] {
    if (bridge) {
      const auto& c = bridge->push_client();
      progress.update(c.stats(), c.connection_state(), bridge->stats().records_added);
    }
  };
  options.on_message = [&](std::string_view text, bool warning) { progress.message(text, warning); };

  std::vector<std::string> station_ids;
  for (const auto& request : sl.stations) station_ids.push_back(request.id());

  install_push_signal_handlers();
  const auto started = Clock::now();
  {
    auto opened = client::SeedLinkBridge::open(std::move(options));
    if (!opened.ok()) {  // bad spool, a state file that does not parse, bad keys: configuration
      fmt::print(stderr, "seisvault push: {}\n", opened.status().message());
      return kExitUsage;
    }
    bridge.emplace(std::move(*opened));
  }
  progress.message(fmt::format("pulling {} station(s) from SeedLink {} into {}; resume state in {}",
                               station_ids.size(), bridge->server(), args.server, bridge->state_path().string()),
                   false);

  Status delivery = bridge->run();
  const bool run_ok = delivery.ok();
  if (run_ok && push_stop_requested() && !push_abort_requested()) {
    progress.message("stopping: sending what was read (interrupt again to stop waiting)", false);
  }
  // Streaming, --timeout bounds the final flush; a fetch is bounded by the
  // stall timeout (--timeout) instead. After a fatal error the flush only
  // writes the state.
  const milliseconds flush_limit = !run_ok ? milliseconds::zero()
                                   : (!args.fetch && args.timeout_s > 0) ? to_ms(args.timeout_s)
                                                                         : milliseconds::max();
  Status flushed = bridge->finish(flush_limit);
  if (run_ok) delivery = flushed;
  progress.finish();

  const auto& st = bridge->stats();
  const auto& ps = bridge->push_client().stats();
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  fmt::print("seisvault push: {} records ({}) from SeedLink {} in {:.1f} s, {} connection(s)", st.records_added,
             bytes_text(st.bytes_added), bridge->server(), seconds, st.connections);
  if (seconds >= 0.5) fmt::print(", {:.0f} records acknowledged/s", static_cast<double>(ps.records_acked()) / seconds);
  fmt::print("\n");
  if (st.connection_failures > 0) fmt::print("  connection attempts failed or lost  {}\n", st.connection_failures);
  if (st.skipped_packets > 0) fmt::print("  packets not miniSEED (not pushed)  {}\n", st.skipped_packets);
  if (st.other_station_packets > 0) fmt::print("  packets of stations not requested  {}\n", st.other_station_packets);
  if (st.error_packets > 0) fmt::print("  error packets from the SeedLink server  {}\n", st.error_packets);
  for (const auto& id : station_ids) {
    const auto point = bridge->acknowledged(id);
    if (point) {
      fmt::print("  {} resumes after sequence {} (SeedLink {})\n", id, point->sequence, point->protocol);
    } else {
      fmt::print("  {} has no acknowledged packet yet: it starts from the server's next packet\n", id);
    }
  }
  print_delivery_summary(bridge->push_client(), args.spool_dir);

  if (!delivery.ok()) {
    const char* what = delivery.code() == StatusCode::kCancelled ? "interrupted before every record was acknowledged"
                                                                    : "could not deliver";
    fmt::print(stderr, "seisvault push: {}: {}\n", what, delivery.message());
    return kExitNotDelivered;
  }
  if (ps.rejected > 0) return kExitRejected;
  return kExitOk;
}

}  // namespace seisvault::cli
