// `seisvault admin`: operator tasks on a server's data directory.
//
//   seisvault admin backup --data-dir DIR DEST   a consistent copy of the store in DEST (a new directory)
//
// backup: while seisvaultd runs on DIR, it asks it through its query API
// (the address in DIR/api.endpoint unless --api says otherwise; token
// options as for `query`), and the server writes the copy (RocksDB
// checkpoint and segment files: hard links where DEST is on the same file
// system), ingest and queries going on meanwhile. While no server runs, the
// command opens the store and writes the copy itself. Restore: stop
// seisvaultd, put DEST in place of DIR/store (keep the old one aside),
// start it (docs/storage.md, "Backup and restore").
//
// Exit codes (exit_codes.h): 0 done; 2 bad arguments (DEST exists or is
// not absolute on the server's machine, DIR has no store); 3 the backup
// failed (the server refused or could not write it, I/O error).
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "api_connection.h"

namespace seisvault::cli {

struct AdminArgs {
  std::string data_dir;
  std::string destination;
  ApiConnectionArgs connection;  // --api defaults to DIR/api.endpoint
};

CLI::App* add_admin_command(CLI::App& app, AdminArgs& args);

// Runs the subcommand of `admin` that was parsed; returns the exit code.
int run_admin(const CLI::App& admin, const AdminArgs& args);

}  // namespace seisvault::cli
