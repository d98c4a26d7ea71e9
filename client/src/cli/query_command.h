// `seisvault query`: reads from seisvaultd's query API (gRPC, --api).
//
//   seisvault query --api HOST:PORT [--token-file FILE | --token TOKEN] [--tls-ca FILE] [--json] SUBCOMMAND
//
// Subcommands: channels, records, samples, availability, follow, verify,
// stats (query_subcommands.h). Exit codes: 0 done (also for an empty
// result, which prints "no data"); 1 verify found problems; 2 usage, a bad
// time or selection, a file that cannot be read or written, or the server's
// INVALID_ARGUMENT; 3 the call failed otherwise (UNAVAILABLE,
// UNAUTHENTICATED, DEADLINE_EXCEEDED, ...). A failed call prints
// "seisvault query: CODE: message".
#pragma once

#include "api_connection.h"

#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace seisvault::cli {

// Every option of every query subcommand; a subcommand fills only its own.
struct QueryArgs {
  // The connection (options of `query`, also accepted after the subcommand).
  ApiConnectionArgs connection;
  bool json = false;       // machine-readable output
  double timeout_s = 60;   // deadline of each call (see add_query_command)

  // The selection: NET.STA.LOC.CHA patterns, or fields combined into one.
  std::vector<std::string> patterns;
  std::vector<std::string> net, sta, loc, cha;

  // The window and the per-subcommand options (ISO 8601 UTC times).
  std::string start, end;
  std::string out;             // records: FILE or - (stdout)
  std::string format;          // samples: csv or json (default: json with --json, else csv)
  double tolerance_s = -1;     // availability: negative means the server's default
  std::string since;           // follow: backlog from this time
  uint64_t count = 0;          // follow: stop after this many records (0: until Ctrl-C)
  std::string server_key;      // verify: the server's signing public key file (checkpoints)
};

// Adds `query` and its subcommands to `app`, their options filled into `args`.
CLI::App* add_query_command(CLI::App& app, QueryArgs& args);

// Runs the subcommand of `query` that was parsed; returns the exit code.
int run_query(const CLI::App& query, const QueryArgs& args);

}  // namespace seisvault::cli
