// `seisvault push --from-seedlink HOST[:PORT] --streams NET_STA[:SELECTORS],...`:
// the bridge from station equipment that serves SeedLink (a datalogger, a
// SeisComP seedlink, a ringserver) to seisvaultd, over the normal push path
// (station key, spool, acks). A thin layer over client::SeedLinkBridge
// (seedlink_bridge.h), with push's progress line and summary.
//
// Runs until SIGINT/SIGTERM (then sends what it has read and writes the
// resume state; a second signal stops waiting), or with --fetch until the
// SeedLink server has sent what it holds. Exit codes as push: 0 every
// record stored or duplicate, 1 some rejected, 2 usage, 3 not delivered.
#pragma once

#include <CLI/CLI.hpp>

#include "push_command.h"

namespace seisvault::cli {

// Adds --from-seedlink, --streams, --fetch, --seedlink-protocol,
// --keepalive and --seedlink-timeout to `push` (`paths` is its PATH
// option, which --from-seedlink excludes).
void add_seedlink_options(CLI::App& push, PushArgs& args, CLI::Option* paths);

// Runs the bridge (run_push calls it, logging configured); returns the
// exit code (exit_codes.h).
int run_push_from_seedlink(const PushArgs& args);

}  // namespace seisvault::cli
