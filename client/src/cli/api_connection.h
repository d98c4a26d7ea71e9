// ApiConnection: how a `seisvault` command reaches seisvaultd's query API
// (--api, --token/--token-file, --tls/--tls-ca), the same options wherever
// a command talks to a running server.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "seisvault/client/query_client.h"
#include "seisvault/common/status.h"

namespace seisvault::cli {

struct ApiConnectionArgs {
  std::string api;         // HOST:PORT
  std::string token;       // sent as "authorization: Bearer TOKEN"
  std::string token_file;  // first line holds the token
  std::string tls_ca_file; // PEM CA certificates; turns TLS on
  bool tls = false;        // TLS with the system's CA certificates
};

// Adds --api (SEISVAULT_API; required when `required`), --token,
// --token-file, --tls-ca and --tls to `cmd`. Returns the --api option.
CLI::Option* add_api_connection_options(CLI::App* cmd, ApiConnectionArgs& args, bool required);

// The client options those flags give (reads the token and CA files);
// InvalidArgument when a file cannot be read.
Result<client::QueryClientOptions> api_client_options(const ApiConnectionArgs& args);

}  // namespace seisvault::cli
