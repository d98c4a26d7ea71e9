// QueryContext: what every `seisvault query` subcommand works with (the
// client, the scope asked for, the output mode), and the one way each of
// them reports a failure, so that messages and exit codes agree everywhere.
#pragma once

#include <string_view>

#include <grpcpp/grpcpp.h>

#include "seisvault/client/query_client.h"

namespace seisvault::cli {

struct QueryArgs;

struct QueryContext {
  const client::QueryClient& client;
  client::QueryScope scope;  // selection and window, already checked
  const QueryArgs& args;
  bool json = false;         // machine-readable output on stdout
};

// Exit code of `seisvault query verify` when it found problems.
inline constexpr int kExitQueryProblems = 1;

// Prints "seisvault query: CODE: message" on stderr; returns 2 for
// INVALID_ARGUMENT (the request needs fixing) and 3 for every other code
// (the server could not be reached, refused the token, failed, timed out).
int report_rpc_error(const grpc::Status& status);

// Prints "seisvault query: message" on stderr; returns 2.
int report_usage_error(std::string_view message);

// The words printed (on stderr when stdout carries data, else on stdout)
// for an answer that is empty: not an error.
inline constexpr std::string_view kNoData = "no data";

}  // namespace seisvault::cli
