#include "admin_command.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "exit_codes.h"
#include "seisvault/client/query_client.h"
#include "seisvault/storage/record_store.h"
#include "store_access.h"

namespace seisvault::cli {

namespace {

namespace fs = std::filesystem;

void report(const std::string& data_dir, const fs::path& dest, uint64_t files, uint64_t bytes, uint64_t linked,
            double seconds, std::string_view how) {
  fmt::print("backup of {} written to {} {}: {} segment file(s), {:.1f} MiB ({} hard-linked), in {:.1f} s\n"
             "restore: stop seisvaultd, move {}/store aside, put {} in its place, start seisvaultd\n",
             data_dir, dest.string(), how, files, static_cast<double>(bytes) / (1 << 20), linked, seconds, data_dir,
             dest.string());
}

int backup_through_api(const AdminArgs& args, const fs::path& dest) {
  ApiConnectionArgs connection = args.connection;
  if (connection.api.empty()) {
    std::ifstream in(fs::path(args.data_dir) / "api.endpoint");
    std::getline(in, connection.api);
    if (connection.api.empty()) {
      fmt::print(stderr,
                 "seisvault admin backup: seisvaultd is running on {} but {}/api.endpoint gives no API address: "
                 "give it with --api HOST:PORT\n",
                 args.data_dir, args.data_dir);
      return kExitUsage;
    }
  }
  auto options = api_client_options(connection);
  if (!options.ok()) {
    fmt::print(stderr, "seisvault admin backup: {}\n", options.status().message());
    return kExitUsage;
  }
  client::QueryClient client(std::move(*options));
  waveform::v1::BackupResponse response;
  const auto started = std::chrono::steady_clock::now();
  if (const auto st = client.backup(dest.string(), &response); !st.ok()) {
    fmt::print(stderr, "seisvault admin backup: {}: {}\n", client::grpc_code_name(st.error_code()),
               st.error_message());
    return st.error_code() == grpc::StatusCode::INVALID_ARGUMENT ? kExitUsage : kExitNotDelivered;
  }
  report(args.data_dir, dest, response.segment_files(), response.segment_bytes(), response.linked_segment_files(),
         std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
         fmt::format("by the running seisvaultd ({})", connection.api));
  return kExitOk;
}

int backup_directly(const AdminArgs& args, const fs::path& store, const fs::path& dest) {
  auto opened = storage::RecordStore::open(store, admin_store_options(false));
  if (!opened.ok()) {
    fmt::print(stderr, "seisvault admin backup: {}\n", opened.status().message());
    return kExitNotDelivered;
  }
  const auto started = std::chrono::steady_clock::now();
  auto stats = (*opened)->backup(dest);
  if (!stats.ok()) {
    fmt::print(stderr, "seisvault admin backup: {}\n", stats.status().message());
    return stats.status().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitNotDelivered;
  }
  report(args.data_dir, dest, stats->segment_files, stats->segment_bytes, stats->linked_segment_files,
         std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(), "(no server running)");
  return kExitOk;
}

int run_backup(const AdminArgs& args) {
  std::error_code ec;
  const auto store = store_dir(args.data_dir);
  if (!fs::exists(store / "CURRENT", ec)) {
    fmt::print(stderr, "seisvault admin backup: no store in {} (give seisvaultd's --data-dir)\n", args.data_dir);
    return kExitUsage;
  }
  const fs::path dest = fs::absolute(args.destination, ec);
  if (ec || fs::exists(dest, ec)) {
    fmt::print(stderr, "seisvault admin backup: {} exists already: a backup goes into a new directory\n",
               args.destination);
    return kExitUsage;
  }
  if (!fs::is_directory(dest.parent_path(), ec)) {
    fmt::print(stderr, "seisvault admin backup: {} is not a directory: make it first\n",
               dest.parent_path().string());
    return kExitUsage;
  }
  if (store_lock_holder(store)) return backup_through_api(args, dest);
  return backup_directly(args, store, dest);
}

}  // namespace

CLI::App* add_admin_command(CLI::App& app, AdminArgs& args) {
  auto* admin = app.add_subcommand("admin", "operator tasks on a server's data directory");
  admin->require_subcommand(1);
  auto* backup = admin->add_subcommand(
      "backup",
      "a consistent copy of the store in DEST, a new directory (through the running seisvaultd when there is one)");
  backup->add_option("--data-dir", args.data_dir, "seisvaultd's --data-dir")->required();
  backup->add_option("DEST", args.destination, "the directory to make (must not exist; its parent must)")->required();
  add_api_connection_options(backup, args.connection, false);
  return admin;
}

int run_admin(const CLI::App& admin, const AdminArgs& args) {
  if (admin.got_subcommand("backup")) return run_backup(args);
  return kExitUsage;
}

}  // namespace seisvault::cli
