#include "api_connection.h"

#include <cctype>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace seisvault::cli {

namespace {

Result<std::string> read_first_line(const std::string& path, std::string_view what) {
  std::ifstream in(path);
  if (!in) return Status::invalid_argument(fmt::format("cannot read {} {}", what, path));
  std::string line;
  std::getline(in, line);
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
  if (line.empty()) return Status::invalid_argument(fmt::format("no token in {}", path));
  return line;
}

Result<std::string> read_whole(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  if (!in || ss.str().empty()) return Status::invalid_argument(fmt::format("cannot read {} {}", what, path));
  return ss.str();
}

}  // namespace

CLI::Option* add_api_connection_options(CLI::App* cmd, ApiConnectionArgs& args, bool required) {
  auto* api = cmd->add_option("--api", args.api, "the server's query API, HOST:PORT (seisvaultd --api)")
                  ->envname("SEISVAULT_API");
  if (required) api->required();
  auto* token = cmd->add_option("--token", args.token,
                                "bearer token for a server started with --api-token-file (visible to other users "
                                "in the process list: prefer --token-file)");
  auto* token_file = cmd->add_option("--token-file", args.token_file, "file whose first line is the token")
                         ->check(CLI::ExistingFile);
  token->excludes(token_file);
  cmd->add_option("--tls-ca", args.tls_ca_file,
                  "TLS, trusting the CA certificate(s) in this PEM file (server started with --api-tls-cert)")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--tls", args.tls, "TLS, trusting the system's CA certificates");
  return api;
}

Result<client::QueryClientOptions> api_client_options(const ApiConnectionArgs& args) {
  client::QueryClientOptions options;
  options.target = args.api;
  options.token = args.token;
  if (!args.token_file.empty()) {
    auto token = read_first_line(args.token_file, "the token file");
    if (!token.ok()) return token.status();
    options.token = *token;
  }
  if (!args.tls_ca_file.empty()) {
    auto pem = read_whole(args.tls_ca_file, "the CA file");
    if (!pem.ok()) return pem.status();
    options.tls = true;
    options.tls_ca_pem = *pem;
  }
  options.tls = options.tls || args.tls;
  return options;
}

}  // namespace seisvault::cli
