// The subcommands of `seisvault query`, one file each (query_<name>.cpp).
// Each prints its answer on stdout (a table for a person, or JSON with
// --json), its messages on stderr, and returns the exit code (query_command.h).
#pragma once

#include "query_context.h"

namespace seisvault::cli {

// The channels with their extent, size, last arrival and latency.
int run_query_channels(const QueryContext& ctx);
// The raw records, byte-identical, into --out FILE (or - for stdout).
int run_query_records(const QueryContext& ctx);
// The samples as CSV rows or JSON segments (--format).
int run_query_samples(const QueryContext& ctx);
// Spans and gaps per channel.
int run_query_availability(const QueryContext& ctx);
// One line per record as it arrives, until Ctrl-C or --count records.
int run_query_follow(const QueryContext& ctx);
// Blocks SIGINT and SIGTERM in the calling thread and the threads it starts
// later, so that run_query_follow can take them (sigtimedwait) and end the
// subscription cleanly. Call it before the QueryClient exists.
void block_stop_signals();
// The problems the server finds in stored records, and its summary.
int run_query_verify(const QueryContext& ctx);
// The server's counters.
int run_query_stats(const QueryContext& ctx);

}  // namespace seisvault::cli
