#include "push_command.h"

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "exit_codes.h"
#include "progress_reporter.h"
#include "push_from_seedlink.h"
#include "seisvault/client/file_follower.h"
#include "seisvault/client/file_source.h"
#include "seisvault/client/push_client.h"
#include "seisvault/client/station_keys.h"
#include "seisvault/common/logging.h"

namespace seisvault::cli {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

// The first SIGINT/SIGTERM stops reading (then what was read is flushed);
// the second stops waiting for the server. Signal handlers can only set
// flags, hence this global.
volatile std::sig_atomic_t g_signals = 0;

void on_signal(int) { g_signals = g_signals + 1; }

bool stop_requested() { return push_stop_requested(); }
bool abort_requested() { return push_abort_requested(); }
void install_signal_handlers() { install_push_signal_handlers(); }

constexpr auto kFollowInterval = milliseconds(200);
constexpr auto kRescanInterval = std::chrono::seconds(5);

milliseconds to_ms(double seconds) { return milliseconds(static_cast<int64_t>(seconds * 1000.0)); }

std::string bytes_text(uint64_t n) {
  if (n < 10 * 1024) return fmt::format("{} B", n);
  if (n < 10 * 1024 * 1024) return fmt::format("{} KiB", n / 1024);
  return fmt::format("{} MiB", n / (1024 * 1024));
}

struct ReadCounts {
  uint64_t pieces = 0;
  uint64_t non_records = 0;  // pieces next_piece() did not see as a miniSEED 2 record
  uint64_t bytes = 0;
  uint64_t files = 0;
  uint64_t input_errors = 0;
};

void print_summary(const client::PushClient& client, const ReadCounts& read, Clock::duration elapsed,
                   const std::string& spool_dir) {
  const auto& s = client.stats();
  const double seconds = std::chrono::duration<double>(elapsed).count();
  fmt::print("seisvault push: {} pieces ({}) read from {} inputs in {:.1f} s", read.pieces, bytes_text(read.bytes),
             read.files, seconds);
  if (seconds >= 0.5) fmt::print(", {:.0f} records acknowledged/s", static_cast<double>(s.records_acked()) / seconds);
  fmt::print("\n");
  if (read.non_records > 0) {
    fmt::print("  {} pieces were not miniSEED 2 records; they were sent too, for the server to say why\n",
               read.non_records);
  }
  print_delivery_summary(client, spool_dir);
}

}  // namespace

void install_push_signal_handlers() {
  struct sigaction sa{};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocked read of stdin returns, so Ctrl-C is noticed
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool push_stop_requested() { return g_signals >= 1; }
bool push_abort_requested() { return g_signals >= 2; }

void print_delivery_summary(const client::PushClient& client, const std::string& spool_dir) {
  const auto& s = client.stats();
  if (s.batches_recovered > 0) {
    fmt::print("  recovered from the spool  {} records in {} batches\n", s.records_recovered, s.batches_recovered);
  }
  fmt::print("  stored     {}\n  duplicate  {}\n  rejected   {}\n", s.stored, s.duplicate, s.rejected);
  for (const auto& [code, tally] : s.rejected_by_reason) {
    fmt::print("    {:<24} {:>8}  e.g. {}\n", tally.name, tally.count, tally.first_message);
  }
  if (s.records_kept > 0) {
    // Not rejected: the server could not store these then; they were kept
    // (in the spool, if any) and resent. Counted at each such answer.
    fmt::print("  kept for resend  {} records the server could not store then (in {} answers)\n", s.records_kept,
               s.retries);
    for (const auto& [cause, tally] : s.kept_by_cause) {
      fmt::print("    {:<24} {:>8}  e.g. {}\n", tally.name, tally.count, tally.first_message);
    }
  }
  if (s.batches_split > 0) fmt::print("  batches split to the server's limits  {}\n", s.batches_split);
  if (s.batches_resent > 0) fmt::print("  batches resent  {}\n", s.batches_resent);
  if (s.spool_files_quarantined > 0) {
    fmt::print("  corrupt spool files set aside  {}\n", s.spool_files_quarantined);
  }
  const uint64_t pending = client.unacknowledged_records();
  const uint64_t pending_batches = client.unacknowledged_batches();
  if (pending > 0 || pending_batches > 0) {
    fmt::print("  NOT acknowledged  {} records{}\n", pending,
               spool_dir.empty() ? " (no spool: send them again)"
                                 : fmt::format(" (kept in the spool {}; the next push sends them first)", spool_dir));
  }
}

std::string apply_push_args(const PushArgs& args, client::PushOptions& options) {
  options.endpoint = args.server;
  if (args.insecure) {
    if (!args.server_key_file.empty() || !args.key_prefix.empty()) {
      return "--insecure sends without CURVE: leave out --server-key and --key";
    }
  } else {
    if (args.server_key_file.empty() || args.key_prefix.empty()) {
      return "give --server-key (the server's server.pub) and --key (this station's PREFIX from seisvault keygen), "
             "or --insecure for a server started with --insecure";
    }
    auto server_key = client::load_public_key(args.server_key_file);
    if (!server_key.ok()) return server_key.status().message();
    auto keys = client::load_station_keys(args.key_prefix);
    if (!keys.ok()) return keys.status().message();
    options.server_public_key = std::move(*server_key);
    options.client_keys = std::move(*keys);
    // The signing key beside the CURVE key signs every batch; a station
    // without one (its keys made before stations signed) sends unsigned
    // batches, which the server takes only if its operator allows them.
    auto signing = client::load_station_signing_key(args.key_prefix);
    if (signing.ok()) {
      options.signing_key = std::move(*signing);
    } else if (signing.status().code() == StatusCode::kNotFound) {
      spdlog::warn("{}: batches go unsigned, which a server that has a signing key registered for this station "
                   "refuses",
                   signing.status().message());
    } else {
      return signing.status().message();
    }
  }
  options.spool_dir = args.spool_dir;
  options.max_batch_records = args.batch_records;
  options.max_in_flight = args.in_flight;
  options.ack_timeout = to_ms(args.ack_timeout_s);
  return {};
}

CLI::App* add_push_command(CLI::App& app, PushArgs& args) {
  auto* cmd = app.add_subcommand(
      "push", "send miniSEED records from files, directories or stdin, or from a station's SeedLink server, to "
              "seisvaultd");
  cmd->add_option("--server", args.server, "the server's ingest endpoint, tcp://HOST:PORT")->required();
  cmd->add_option("--server-key", args.server_key_file, "the server's public key file (its DATA_DIR/server.pub)");
  cmd->add_option("--key", args.key_prefix,
                  "this station's key PREFIX (reads PREFIX.key, and PREFIX.sign to sign its batches; both must be "
                  "mode 0600)");
  cmd->add_option("--spool", args.spool_dir,
                  "directory where batches wait until acknowledged; batches left there by an earlier run are sent "
                  "first");
  cmd->add_flag("--follow", args.follow,
                "keep reading files as they grow (and new files in directories) until SIGINT/SIGTERM");
  cmd->add_flag("--insecure", args.insecure, "no CURVE: for a server started with --insecure");
  cmd->add_option("--batch-records", args.batch_records, "records per batch at most")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--in-flight", args.in_flight, "batches sent and not yet acknowledged, at most")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--timeout", args.timeout_s,
                  "give up (exit 3) when the server has stored nothing for this many seconds while records wait "
                  "(no answer, or answers that it cannot store now); 0 waits for ever. With --follow, and with "
                  "--from-seedlink without --fetch: how long the final flush after SIGINT/SIGTERM may take")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--ack-timeout", args.ack_timeout_s, "resend a batch not acknowledged after this many seconds")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--log-level", args.log_level, "trace, debug, info, warn, error")->capture_default_str();
  auto* paths = cmd->add_option("PATH", args.paths,
                                "files, directories (read recursively, in sorted order) or - for stdin");
  add_seedlink_options(*cmd, args, paths);
  return cmd;
}

int run_push(const PushArgs& args) {
  if (auto s = configure_logging(args.log_level); !s.ok()) {
    fmt::print(stderr, "seisvault push: {}\n", s.message());
    return kExitUsage;
  }
  const auto usage_error = [](const std::string& message) {
    fmt::print(stderr, "seisvault push: {}\n", message);
    return kExitUsage;
  };

  if (!args.from_seedlink.empty()) return run_push_from_seedlink(args);
  if (args.paths.empty()) return usage_error("give the files to push (PATH..., - for stdin), or --from-seedlink");

  client::PushOptions options;
  if (auto problem = apply_push_args(args, options); !problem.empty()) return usage_error(problem);
  auto inputs = client::expand_input_paths(args.paths);
  if (!inputs.ok()) return usage_error(inputs.status().message());

  // While following, the server may be away for as long as it takes.
  if (!args.follow) options.stall_timeout = to_ms(args.timeout_s);

  ProgressReporter progress(::isatty(STDERR_FILENO) == 1);
  ReadCounts read;
  std::optional<client::PushClient> client;
  options.on_connection = [&](client::ConnectionState state, std::string_view detail) {
    progress.message(detail, state != client::ConnectionState::kConnected);
  };
  options.keep_waiting = [&] {
    if (client) progress.update(client->stats(), client->connection_state(), read.pieces);
    return !abort_requested();
  };

  install_signal_handlers();
  const auto started = Clock::now();
  {
    auto opened = client::PushClient::open(std::move(options));
    if (!opened.ok()) {  // bad endpoint, keys or spool: all a matter of configuration
      fmt::print(stderr, "seisvault push: {}\n", opened.status().message());
      return kExitUsage;
    }
    client.emplace(std::move(*opened));
  }

  Status delivery;  // the first error of the client: nothing more can be sent
  const client::PieceSink sink = [&](std::span<const uint8_t> piece, PieceKind kind) {
    ++read.pieces;
    if (kind != PieceKind::kRecord) ++read.non_records;
    Status s = client->add(piece);
    if (!s.ok()) {
      delivery = s;
      return s;
    }
    progress.update(client->stats(), client->connection_state(), read.pieces);
    return s;
  };
  const auto keep_reading = [] { return !stop_requested(); };
  // An input that cannot be read is reported, and the others are still sent.
  const auto handle_read_error = [&](const Status& s) {
    if (s.ok() || !delivery.ok() || s.code() == StatusCode::kCancelled) return;
    ++read.input_errors;
    progress.message(s.message(), true);
  };

  // Files (and stdin) read to their end; in follow mode, stdin only.
  std::vector<client::FileFollower> followers;
  std::set<fs::path> followed;
  for (const auto& path : *inputs) {
    if (stop_requested() || !delivery.ok()) break;
    if (args.follow && path != client::kStdinPath) {
      followers.emplace_back(path);
      followed.insert(path);
      continue;
    }
    ++read.files;
    Status s = client::read_file_pieces(path, sink, keep_reading, &read.bytes);
    handle_read_error(s);
  }

  if (args.follow && delivery.ok()) {
    read.files += followers.size();
    std::vector<std::string> directories;
    for (const auto& p : args.paths) {
      std::error_code ec;
      if (p != client::kStdinPath && fs::is_directory(p, ec)) directories.push_back(p);
    }
    auto next_rescan = Clock::now() + kRescanInterval;
    while (!stop_requested() && delivery.ok()) {
      for (auto& f : followers) {
        Status s = f.poll(sink, &read.bytes);
        handle_read_error(s);
        if (!delivery.ok() || stop_requested()) break;
      }
      if (!delivery.ok() || stop_requested()) break;
      if (!directories.empty() && Clock::now() >= next_rescan) {
        next_rescan = Clock::now() + kRescanInterval;
        if (auto found = client::expand_input_paths(directories); found.ok()) {
          for (const auto& path : *found) {
            if (followed.insert(path).second) {
              followers.emplace_back(path);
              ++read.files;
            }
          }
        }
      }
      if (auto s = client->poll(kFollowInterval); !s.ok()) delivery = s;
    }
    for (const auto& f : followers) {
      if (f.held_back_bytes() > 0) {
        progress.message(fmt::format("{}: the last {} bytes were not sent (a record still being written); the next "
                                     "push of this file sends it",
                                     f.path().string(), f.held_back_bytes()),
                         false);
      }
    }
  }

  if (delivery.ok() || delivery.code() == StatusCode::kCancelled) {
    if (stop_requested() && !abort_requested()) {
      progress.message("stopping: sending what was read (interrupt again to stop waiting)", false);
    }
    // Without --follow, stall_timeout bounds the wait; with it, --timeout bounds the final flush.
    const milliseconds flush_limit =
        args.follow && args.timeout_s > 0 ? to_ms(args.timeout_s) : milliseconds::max();
    delivery = client->flush(flush_limit);
  }
  progress.finish();
  print_summary(*client, read, Clock::now() - started, args.spool_dir);

  if (!delivery.ok()) {
    const char* what = delivery.code() == StatusCode::kCancelled ? "interrupted before every record was acknowledged"
                                                                    : "could not deliver";
    fmt::print(stderr, "seisvault push: {}: {}\n", what, delivery.message());
    return kExitNotDelivered;
  }
  if (read.input_errors > 0) return kExitUsage;
  if (client->stats().rejected > 0) return kExitRejected;
  return kExitOk;
}

}  // namespace seisvault::cli
