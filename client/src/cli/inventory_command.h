// `seisvault inventory`: the station metadata (FDSN StationXML) the FDSN
// station service answers from, kept in the store of a data directory.
//
//   seisvault inventory load   --data-dir DIR FILE...  validate every file, then store each under its base name
//                                                      (replacing a document of that name)
//   seisvault inventory list   --data-dir DIR          name, load time, size, networks/stations/channels
//   seisvault inventory remove --data-dir DIR NAME...  remove documents by name
//
// `load` validates every file before it stores any: one invalid file and
// nothing is loaded (each problem is printed with its file and line).
// The store is RocksDB, which one process at a time may open: stop
// seisvaultd first; it serves the metadata from its next start. Run as the
// user seisvaultd runs as (files written by another user would lock it out).
//
// Exit codes (exit_codes.h): 0 done; 1 load: some file is not valid
// StationXML (nothing loaded); 2 bad arguments, a file that cannot be read,
// a name that is not loaded (remove), a directory without a store (list,
// remove) or owned by another user; 3 the store cannot be opened or written
// (seisvaultd is running on DIR, I/O error).
#pragma once

#include "api_connection.h"

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace seisvault::cli {

struct InventoryArgs {
  std::string data_dir;            // the store of a stopped server, or
  ApiConnectionArgs connection;    // a running server's query API
  std::vector<std::string> files;  // load
  std::vector<std::string> names;  // remove
};

// Adds `inventory` and its subcommands to `app`, their options filled into `args`.
CLI::App* add_inventory_command(CLI::App& app, InventoryArgs& args);

// Runs the subcommand of `inventory` that was parsed; returns the exit code.
int run_inventory(const CLI::App& inventory, const InventoryArgs& args);

}  // namespace seisvault::cli
