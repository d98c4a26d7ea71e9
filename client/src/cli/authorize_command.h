// `seisvault authorize`: adds, updates or revokes a station key in a server's
// authorized_stations list.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace seisvault::cli {

struct AuthorizeArgs {
  std::string data_dir;
  std::string key_file;  // the station's PREFIX.pub
  std::string stations;  // "NET.STA[,NET.STA...]"
  std::string comment;
  std::string signing_key_file;  // PREFIX.sign.pub (default: beside key_file)
  bool allow_unsigned = false;
  bool revoke = false;
};

CLI::App* add_authorize_command(CLI::App& app, AuthorizeArgs& args);

// Edits DATA_DIR/authorized_stations and reminds to reload the server;
// returns the exit code.
int run_authorize(const AuthorizeArgs& args);

}  // namespace seisvault::cli
