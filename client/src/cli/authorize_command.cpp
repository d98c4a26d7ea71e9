#include "authorize_command.h"

#include <fmt/format.h>

#include "exit_codes.h"
#include "seisvault/client/station_authorization.h"
#include "seisvault/client/station_keys.h"

namespace seisvault::cli {

namespace {

constexpr char kReloadHint[] =
    "a running seisvaultd reads the list again on SIGHUP: kill -HUP <pid of seisvaultd> (or systemctl reload "
    "seisvaultd)\n";

}  // namespace

CLI::App* add_authorize_command(CLI::App& app, AuthorizeArgs& args) {
  auto* cmd = app.add_subcommand(
      "authorize", "let a station key write some stations (edits DATA_DIR/authorized_stations), or --revoke it");
  cmd->add_option("--data-dir", args.data_dir, "the server's data directory")->required();
  cmd->add_option("--key", args.key_file, "the station's public key file (PREFIX.pub from seisvault keygen)")
      ->required();
  auto* stations = cmd->add_option("--stations", args.stations,
                                   "NET.STA patterns the key may write, comma-separated; ? and * are wildcards "
                                   "(e.g. IU.ANMO,IU.COLA or XX.*); replaces what the key had");
  cmd->add_option("--comment", args.comment, "a note kept beside the key (e.g. where the datalogger is)");
  auto* revoke = cmd->add_flag("--revoke", args.revoke, "remove the key: its station can no longer connect");
  stations->excludes(revoke);
  return cmd;
}

int run_authorize(const AuthorizeArgs& args) {
  if (!args.revoke && args.stations.empty()) {
    fmt::print(stderr, "seisvault authorize: give --stations NET.STA[,...] (or --revoke)\n");
    return kExitUsage;
  }
  auto key = client::load_public_key(args.key_file);
  if (!key.ok()) {
    fmt::print(stderr, "seisvault authorize: {}\n", key.status().message());
    return kExitUsage;
  }
  const auto list_path = client::authorized_stations_path(args.data_dir).string();
  if (args.revoke) {
    auto removed = client::revoke_station_key(args.data_dir, *key);
    if (!removed.ok()) {
      fmt::print(stderr, "seisvault authorize: {}\n", removed.status().message());
      return kExitUsage;
    }
    if (!*removed) {
      fmt::print("key {} is not in {}; nothing changed\n", *key, list_path);
      return kExitOk;
    }
    fmt::print("revoked key {} in {}\n{}", *key, list_path, kReloadHint);
    return kExitOk;
  }
  const auto patterns = client::split_station_patterns(args.stations);
  auto change = client::authorize_station_key(args.data_dir, *key, patterns, args.comment);
  if (!change.ok()) {
    fmt::print(stderr, "seisvault authorize: {}\n", change.status().message());
    return kExitUsage;
  }
  std::string joined;
  for (const auto& p : patterns) joined += (joined.empty() ? "" : ",") + p;
  switch (*change) {
    case client::AuthorizeChange::kAdded:
      fmt::print("added key {} for {} to {}\n{}", *key, joined, list_path, kReloadHint);
      break;
    case client::AuthorizeChange::kUpdated:
      fmt::print("updated key {}: it may now write {} ({})\n{}", *key, joined, list_path, kReloadHint);
      break;
    case client::AuthorizeChange::kUnchanged:
      fmt::print("key {} already may write {}; nothing changed in {}\n", *key, joined, list_path);
      break;
  }
  return kExitOk;
}

}  // namespace seisvault::cli
