#include "verify_command.h"

#include <unistd.h>

#include <filesystem>

#include <fmt/format.h>

#include "exit_codes.h"
#include "seisvault/common/signing_keys.h"
#include "seisvault/storage/record_store.h"
#include "seisvault/storage/store_verifier.h"
#include "store_access.h"

namespace seisvault::cli {

namespace fs = std::filesystem;

CLI::App* add_verify_command(CLI::App& app, VerifyArgs& args) {
  auto* cmd = app.add_subcommand(
      "verify",
      "check offline that every stored record is what its station sent: records against the ledger, station "
      "signatures, the hash chain and the server's checkpoints (a stopped server's data directory, or a backup)");
  cmd->add_option("--data-dir", args.data_dir,
                  "seisvaultd's --data-dir (its store/ is verified), or a directory with a backup copy as store/")
      ->required();
  cmd->add_option("--server-key", args.server_key,
                  "the server's signing public key file that checkpoints must be signed by (default: "
                  "DATA_DIR/server.sign.pub, when it exists)");
  cmd->add_flag("--quiet", args.quiet, "no progress lines, only the result");
  return cmd;
}

int run_verify(const VerifyArgs& args) {
  const fs::path store = store_dir(args.data_dir);
  std::error_code ec;
  if (!fs::is_directory(store, ec)) {
    fmt::print(stderr, "seisvault verify: no store in {} ({} does not exist)\n", args.data_dir, store.string());
    return kExitUsage;
  }
  if (auto holder = store_lock_holder(store)) {
    fmt::print(stderr,
               "seisvault verify: seisvaultd (pid {}) has {} open: stop it, or verify a backup "
               "(seisvault admin backup --data-dir {} DEST, then seisvault verify --data-dir of a directory holding "
               "DEST as store/)\n",
               *holder, store.string(), args.data_dir);
    return kExitUsage;
  }
  storage::VerifyOptions options;
  const fs::path key_file =
      args.server_key.empty() ? fs::path(args.data_dir) / "server.sign.pub" : fs::path(args.server_key);
  if (!args.server_key.empty() || fs::exists(key_file, ec)) {
    auto key = read_signing_public_file(key_file);
    if (!key.ok()) {
      fmt::print(stderr, "seisvault verify: {}\n", key.status().message());
      return kExitUsage;
    }
    options.server_key = *key;
  }
  if (!args.quiet) options.progress = [](const std::string& line) { fmt::print(stderr, "{}\n", line); };
  auto opened = storage::RecordStore::open(store, admin_store_options(/*create_if_missing=*/false));
  if (!opened.ok()) {
    fmt::print(stderr, "seisvault verify: {}\n", opened.status().message());
    return kExitUsage;
  }
  auto report = storage::verify_store(**opened, options);
  if (!report.ok()) {
    fmt::print(stderr, "seisvault verify: {}\n", report.status().message());
    return kExitUsage;
  }
  const auto& r = *report;
  fmt::print("{}: {} records re-hashed ({} stored before the ledger began), {} ledger entries ({} signed by their "
             "station), {} checkpoint(s), the newest valid one covering {} entries{}\n",
             store.string(), r.records, r.records_before_ledger, r.ledger_entries, r.signed_entries, r.checkpoints,
             r.last_checkpoint_count,
             r.server_key_given ? "" : " (no server key given: checkpoints checked against the key they name)");
  if (r.ok()) {
    fmt::print("OK: every record is in the ledger as its batch stored it, every signature and link holds\n");
    return kExitOk;
  }
  uint64_t total = 0;
  for (const auto& [kind, count] : r.problems) total += count;
  fmt::print("{} problem(s):\n", total);
  for (const auto& [kind, count] : r.problems) fmt::print("  {:<26} {}\n", kind, count);
  fmt::print("the first of each kind:\n");
  for (const auto& p : r.first_problems) fmt::print("  {}: {}: {}\n", p.kind, p.where, p.what);
  return kExitRejected;
}

}  // namespace seisvault::cli
