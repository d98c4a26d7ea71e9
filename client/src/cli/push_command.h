// `seisvault push`: sends the records of files, directories or stdin to
// seisvaultd, optionally following files that grow, or (--from-seedlink)
// the records a station's SeedLink server serves (push_from_seedlink.h).
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace seisvault::client {
class PushClient;
struct PushOptions;
}

namespace seisvault::cli {

struct PushArgs {
  std::string server;           // tcp://HOST:PORT
  std::string server_key_file;  // the server's server.pub
  std::string key_prefix;       // this station's PREFIX (PREFIX.key)
  std::string spool_dir;
  bool follow = false;
  bool insecure = false;
  size_t batch_records = 1000;
  size_t in_flight = 8;
  double timeout_s = 60;
  double ack_timeout_s = 10;
  std::string log_level = "info";
  std::vector<std::string> paths;

  // --from-seedlink (push_from_seedlink.h)
  std::string from_seedlink;         // HOST[:PORT] of the station's SeedLink server
  std::vector<std::string> streams;  // NET_STA[:SELECTOR+...], comma-separated, repeatable
  bool fetch = false;                // dial-up: what the server has, then exit
  std::string seedlink_protocol = "auto";
  std::string seedlink_start = "next";  // a station without resume state: "next" or "oldest"
  double keepalive_s = 30;
  double seedlink_timeout_s = 300;
};

CLI::App* add_push_command(CLI::App& app, PushArgs& args);

// Runs the push; returns the exit code (exit_codes.h).
int run_push(const PushArgs& args);

// Shared by the ways of pushing (push_command.cpp, push_from_seedlink.cpp).
// The first SIGINT/SIGTERM asks to stop reading, the second to stop
// waiting for the server.
void install_push_signal_handlers();
bool push_stop_requested();
bool push_abort_requested();
// The part of the summary about delivery: stored, duplicate, rejected (by
// reason), kept, resent, and what is still unacknowledged.
void print_delivery_summary(const client::PushClient& client, const std::string& spool_dir);
// Fills the endpoint, keys (or --insecure), spool and batch options of
// `options` from the arguments. Empty on success, else what is wrong.
std::string apply_push_args(const PushArgs& args, client::PushOptions& options);

}  // namespace seisvault::cli
