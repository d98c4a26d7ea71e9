// `seisvault export`: stored records with their proof, as a bundle that
// `seisvault verify --bundle` checks with nothing else (client's
// export_bundle.h, docs/provenance.md "Export bundles").
//
//   seisvault export --api HOST:PORT [SELECTION...] --start T --end T --out DIR
//
// Exit codes: 0 written (or "no data"); 2 usage, a bad selection or time,
// DIR exists, the server's INVALID_ARGUMENT; 3 the server could not be
// reached or failed, or no checkpoint covers the records yet.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "api_connection.h"

namespace seisvault::cli {

struct ExportArgs {
  ApiConnectionArgs connection;
  std::vector<std::string> patterns;  // NET.STA.LOC.CHA
  std::string start, end;             // ISO 8601 UTC
  std::string out;                    // the bundle directory (must not exist)
};

CLI::App* add_export_command(CLI::App& app, ExportArgs& args);
int run_export(const ExportArgs& args);

}  // namespace seisvault::cli
