#include "verify_command.h"

#include <unistd.h>

#include <filesystem>
#include <optional>

#include <fmt/format.h>

#include "exit_codes.h"
#include "seisvault/client/export_bundle.h"
#include "seisvault/common/signing_keys.h"
#include "seisvault/common/verify_problems.h"
#include "seisvault/storage/record_store.h"
#include "seisvault/storage/store_verifier.h"
#include "store_access.h"

namespace seisvault::cli {

namespace fs = std::filesystem;

namespace {

// The verdict, the count of each kind of problem, and the first of each.
int print_outcome(const VerifyProblems& r) {
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

}  // namespace

CLI::App* add_verify_command(CLI::App& app, VerifyArgs& args) {
  auto* cmd = app.add_subcommand(
      "verify",
      "check offline that every stored record is what its station sent: records against the ledger, station "
      "signatures, the hash chain and the server's checkpoints (a stopped server's data directory, a backup, or "
      "an export bundle)");
  auto* data_dir = cmd->add_option(
      "--data-dir", args.data_dir,
      "seisvaultd's --data-dir (its store/ is verified), or a directory with a backup copy as store/");
  auto* bundle = cmd->add_option("--bundle", args.bundle, "an export bundle's directory (seisvault export)");
  data_dir->excludes(bundle);
  cmd->callback([data_dir, bundle] {
    if (data_dir->count() + bundle->count() == 0) throw CLI::RequiredError("--data-dir or --bundle");
  });
  cmd->add_option("--server-key", args.server_key,
                  "the server's signing public key file that checkpoints must be signed by (default with "
                  "--data-dir: DATA_DIR/server.sign.pub, when it exists; with --bundle, without it the "
                  "checkpoint's own key is taken as given)");
  cmd->add_flag("--quiet", args.quiet, "no progress lines, only the result");
  return cmd;
}

namespace {

int verify_bundle(const VerifyArgs& args) {
  std::optional<SigningPublicKey> server_key;
  if (!args.server_key.empty()) {
    auto key = read_signing_public_file(args.server_key);
    if (!key.ok()) {
      fmt::print(stderr, "seisvault verify: {}\n", key.status().message());
      return kExitUsage;
    }
    server_key = *key;
  }
  auto report = client::verify_bundle(args.bundle, server_key);
  if (!report.ok()) {
    fmt::print(stderr, "seisvault verify: {}\n", report.status().message());
    return kExitUsage;
  }
  const auto& r = *report;
  fmt::print("{}: {} records in {} file(s), ledger entries {} to {} ({} signed batches, {} station key event(s)), "
             "checkpoint of {} entries signed by {}{}\n",
             args.bundle, r.records, r.files, r.chain_first, r.chain_first + r.chain_entries - 1, r.signed_batches,
             r.key_events, r.checkpoint_count, r.checkpoint_key,
             r.server_key_given ? "" : " (no --server-key given: compare that key with the server's server.sign.pub)");
  return print_outcome(r);
}

}  // namespace

int run_verify(const VerifyArgs& args) {
  if (!args.bundle.empty()) return verify_bundle(args);
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
  // Read-only: verifying evidence changes none of it.
  auto store_options = admin_store_options(/*create_if_missing=*/false);
  store_options.read_only = true;
  auto opened = storage::RecordStore::open(store, store_options);
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
             "station, {} station key event(s), {} of retention that removed {} records), {} checkpoint(s), the "
             "newest valid one covering {} entries{}\n",
             store.string(), r.records, r.records_before_ledger, r.ledger_entries, r.signed_entries, r.key_events,
             r.retention_entries, r.records_expired, r.checkpoints, r.last_checkpoint_count,
             r.server_key_given ? "" : " (no server key given: checkpoints checked against the key they name)");
  return print_outcome(r);
}

}  // namespace seisvault::cli
