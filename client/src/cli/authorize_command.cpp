#include "authorize_command.h"

#include <fmt/format.h>

#include "exit_codes.h"
#include "seisvault/client/station_authorization.h"
#include "seisvault/client/station_keys.h"
#include "seisvault/common/signing_keys.h"

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
  auto* signing = cmd->add_option("--signing-key", args.signing_key_file,
                                  "the station's signing public key file (PREFIX.sign.pub from seisvault keygen; "
                                  "default: the one beside --key): every batch of the key must be signed by it");
  auto* unsigned_ok = cmd->add_flag(
      "--allow-unsigned", args.allow_unsigned,
      "take the key's batches unsigned (stored marked unsigned), for a station whose client cannot sign yet");
  auto* revoke = cmd->add_flag("--revoke", args.revoke, "remove the key: its station can no longer connect");
  stations->excludes(revoke);
  signing->excludes(revoke);
  signing->excludes(unsigned_ok);
  unsigned_ok->excludes(revoke);
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
  client::StationSigning signing;
  signing.allow_unsigned = args.allow_unsigned;
  if (!args.allow_unsigned) {
    const std::filesystem::path file = args.signing_key_file.empty()
                                           ? client::signing_public_file_beside(args.key_file)
                                           : std::filesystem::path(args.signing_key_file);
    std::error_code ec;
    if (args.signing_key_file.empty() && !std::filesystem::exists(file, ec)) {
      fmt::print(stderr,
                 "seisvault authorize: no signing key: {} does not exist. Give the station's --signing-key "
                 "PREFIX.sign.pub (seisvault keygen makes it; --signing-only for an existing station), or "
                 "--allow-unsigned for a station whose client cannot sign yet\n",
                 file.string());
      return kExitUsage;
    }
    auto signing_key = read_signing_public_file(file);
    if (!signing_key.ok()) {
      fmt::print(stderr, "seisvault authorize: {}\n", signing_key.status().message());
      return kExitUsage;
    }
    signing.signing_key = signing_key_text(*signing_key);
  }
  const auto patterns = client::split_station_patterns(args.stations);
  auto change = client::authorize_station_key(args.data_dir, *key, patterns, args.comment, signing);
  if (!change.ok()) {
    fmt::print(stderr, "seisvault authorize: {}\n", change.status().message());
    return kExitUsage;
  }
  std::string joined;
  for (const auto& p : patterns) joined += (joined.empty() ? "" : ",") + p;
  joined += signing.allow_unsigned ? ", unsigned batches allowed" : ", batches signed by " + signing.signing_key;
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
