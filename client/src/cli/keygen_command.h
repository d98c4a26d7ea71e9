// `seisvault keygen PREFIX`: makes a station key pair.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace seisvault::cli {

struct KeygenArgs {
  std::string prefix;
};

// Adds the subcommand and its options (filled into `args`) to `app`.
CLI::App* add_keygen_command(CLI::App& app, KeygenArgs& args);

// Writes PREFIX.key and PREFIX.pub and says where; returns the exit code.
int run_keygen(const KeygenArgs& args);

}  // namespace seisvault::cli
