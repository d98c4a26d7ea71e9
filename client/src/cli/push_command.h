// `seisvault push`: sends the records of files, directories or stdin to
// seisvaultd, optionally following files that grow.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

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
};

CLI::App* add_push_command(CLI::App& app, PushArgs& args);

// Runs the push; returns the exit code (exit_codes.h).
int run_push(const PushArgs& args);

}  // namespace seisvault::cli
