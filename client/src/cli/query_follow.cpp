// `seisvault query follow`: one line per record as seisvaultd stores it
// (after the backlog from --since), until SIGINT/SIGTERM or --count records.
//
// The signals are blocked in every thread (block_stop_signals, before gRPC
// starts its threads) and taken by a watcher thread with sigtimedwait, which
// cancels the subscription: no signal handler, no global flag.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <optional>
#include <span>
#include <stop_token>
#include <thread>

#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "exit_codes.h"
#include "query_command.h"
#include "query_format.h"
#include "query_scope.h"
#include "query_subcommands.h"

namespace seisvault::cli {

namespace v1 = waveform::v1;

namespace {

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

// The sample count of a miniSEED 2 record's fixed header (bytes 30-31), in
// the byte order its year field (bytes 20-21) shows; nullopt when neither
// order gives a plausible year.
std::optional<uint32_t> sample_count(const std::string& mseed) {
  if (mseed.size() < 48) return std::nullopt;
  const auto u16 = [&](size_t at, bool big) {
    const auto a = static_cast<uint8_t>(mseed[at]), b = static_cast<uint8_t>(mseed[at + 1]);
    return static_cast<uint32_t>(big ? (a << 8 | b) : (b << 8 | a));
  };
  for (const bool big : {true, false}) {
    const uint32_t year = u16(20, big);
    if (year >= 1900 && year <= 2100) return u16(30, big);
  }
  return std::nullopt;
}

// Takes SIGINT/SIGTERM (blocked everywhere) and requests `stop`; ends when
// its own stop token is requested.
void watch_signals(std::stop_token own, std::stop_source& stop, int& taken) {
  const sigset_t set = stop_signals();
  const timespec tick{0, 100'000'000};
  while (!own.stop_requested()) {
    const int sig = sigtimedwait(&set, nullptr, &tick);
    if (sig > 0) {
      taken = sig;
      stop.request_stop();
      return;
    }
  }
}

}  // namespace

void block_stop_signals() {
  const sigset_t set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int run_query_follow(const QueryContext& ctx) {
  auto since = parse_time_option("--since", ctx.args.since);
  if (!since.ok()) return report_usage_error(since.status().message());
  const uint64_t limit = ctx.args.count;

  std::stop_source stop;
  int signal_taken = 0;  // written by the watcher before it requests stop, read after it is joined
  std::jthread watcher(watch_signals, std::ref(stop), std::ref(signal_taken));

  fmt::print(stderr, "seisvault query: following {}{} ({})\n",
             ctx.scope.patterns.empty() ? "every channel" : fmt::format("{}", fmt::join(ctx.scope.patterns, " ")),
             *since ? fmt::format(", stored records from {} first", human_time(**since)) : "",
             limit > 0 ? fmt::format("until {} records or Ctrl-C", limit) : "until Ctrl-C");

  uint64_t records = 0, bytes = 0, skipped = 0;
  bool count_reached = false;
  auto status = ctx.client.subscribe(
      ctx.scope.patterns, *since,
      [&](const v1::SubscribeEvent& e) {
        const TimeNs now = now_ns();
        if (e.has_skipped()) {
          skipped += e.skipped().records();
          if (ctx.json) {
            fmt::print("{}\n", nlohmann::ordered_json{{"skipped", e.skipped().records()}}.dump());
          } else {
            fmt::print("SKIPPED  {} records: this subscriber fell behind and the server dropped them for it (they "
                       "are stored: fetch them with seisvault query records)\n",
                       e.skipped().records());
          }
        } else if (e.has_record()) {
          const auto& r = e.record();
          const auto n = sample_count(r.mseed());
          ++records;
          bytes += r.mseed().size();
          if (ctx.json) {
            nlohmann::ordered_json line = {{"source_id", r.source_id()},
                                   {"start", format_iso8601(r.start_ns())},
                                   {"end", format_iso8601(r.end_ns())},
                                   {"receive", format_iso8601(r.receive_ns())},
                                   {"bytes", r.mseed().size()},
                                   {"latency_s", static_cast<double>(now - r.receive_ns()) / 1e9},
                                   {"start_ns", r.start_ns()},
                                   {"end_ns", r.end_ns()},
                                   {"receive_ns", r.receive_ns()}};
            line["samples"] = n ? nlohmann::ordered_json(*n) : nlohmann::ordered_json();
            fmt::print("{}\n", line.dump());
          } else {
            fmt::print("{:<15}  {:<24}  {:<24}  {:>5} samples  {:>5} B  latency {}\n", r.source_id(),
                       human_time(r.start_ns()), human_time(r.end_ns()), n ? fmt::format("{}", *n) : "?",
                       r.mseed().size(), human_duration(now - r.receive_ns()));
          }
        }
        std::fflush(stdout);
        if (limit > 0 && records >= limit) {
          count_reached = true;
          return false;
        }
        return true;
      },
      stop.get_token());
  watcher.request_stop();
  watcher.join();

  if (!status.ok()) return report_rpc_error(status);
  const std::string why = count_reached      ? fmt::format("--count {} reached", limit)
                          : signal_taken > 0 ? fmt::format("stopped by SIG{}", sigabbrev_np(signal_taken))
                                             : "the server ended the subscription (it is shutting down)";
  fmt::print(stderr, "seisvault query: {} records ({}) received, {} skipped; {}\n", records, human_bytes(bytes),
             skipped, why);
  if (!count_reached && signal_taken == 0) return kExitNotDelivered;
  return kExitOk;
}

}  // namespace seisvault::cli
