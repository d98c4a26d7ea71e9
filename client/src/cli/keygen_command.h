// `seisvault keygen PREFIX`: makes a station's keys: the CURVE pair that
// authenticates its connection and the Ed25519 pair that signs its batches.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace seisvault::cli {

struct KeygenArgs {
  std::string prefix;
  bool signing_only = false;  // only PREFIX.sign(.pub), beside an existing PREFIX.key
};

// Adds the subcommand and its options (filled into `args`) to `app`.
CLI::App* add_keygen_command(CLI::App& app, KeygenArgs& args);

// Writes the key files and says where; returns the exit code.
int run_keygen(const KeygenArgs& args);

}  // namespace seisvault::cli
