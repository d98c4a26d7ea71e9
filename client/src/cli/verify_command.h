// `seisvault verify --data-dir DIR`: checks offline, on a stopped server's
// data directory or a backup copy of its store, that every record is what
// its station sent (storage's store_verifier.h, docs/provenance.md).
// `seisvault verify --bundle DIR` checks an export bundle with nothing but
// the bundle (client's export_bundle.h).
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace seisvault::cli {

struct VerifyArgs {
  std::string data_dir;    // seisvaultd's --data-dir (or a directory holding a backup as store/)
  std::string bundle;      // or an export bundle (seisvault export)
  std::string server_key;  // the server's signing public key (default: DATA_DIR/server.sign.pub)
  bool quiet = false;      // no progress lines
};

CLI::App* add_verify_command(CLI::App& app, VerifyArgs& args);

// Exit 0 when nothing is wrong, 1 when anything is (kExitRejected), 2 when
// the directory cannot be verified (no store, the server holds it, not a
// bundle).
int run_verify(const VerifyArgs& args);

}  // namespace seisvault::cli
