#include "keygen_command.h"

#include <fmt/format.h>

#include "exit_codes.h"
#include "seisvault/client/station_keys.h"

namespace seisvault::cli {

CLI::App* add_keygen_command(CLI::App& app, KeygenArgs& args) {
  auto* cmd = app.add_subcommand(
      "keygen",
      "make a station's keys: PREFIX.key (secret, mode 0600) and PREFIX.pub, the CURVE pair of its connection; "
      "PREFIX.sign (secret, mode 0600) and PREFIX.sign.pub, the Ed25519 pair that signs its batches");
  cmd->add_option("PREFIX", args.prefix, "path and name of the key files, e.g. /etc/seisvault/IU.ANMO")->required();
  cmd->add_flag("--signing-only", args.signing_only,
                "make only the signing pair, for a station whose PREFIX.key was made before stations signed");
  return cmd;
}

int run_keygen(const KeygenArgs& args) {
  auto files = args.signing_only ? client::create_station_signing_key(args.prefix)
                                 : client::create_station_keys(args.prefix);
  if (!files.ok()) {
    fmt::print(stderr, "seisvault keygen: {}\n", files.status().message());
    return kExitUsage;
  }
  if (!files->secret_file.empty()) {
    fmt::print("wrote a station key pair (CURVE: connects and authenticates the station):\n"
               "  secret key  {}  (mode 0600; it stays on this station: whoever has it can write as this station)\n"
               "  public key  {}  {}\n",
               files->secret_file.string(), files->public_file.string(), files->keys.public_key);
  }
  fmt::print("wrote a signing key pair (Ed25519: signs every batch, so stored data can be proven to be this "
             "station's):\n"
             "  secret key  {}  (mode 0600; it stays on this station)\n"
             "  public key  {}  {}\n"
             "give {} and {} to the server operator, who runs:\n"
             "  seisvault authorize --data-dir DATA_DIR --key {} --stations NET.STA\n",
             files->sign_secret_file.string(), files->sign_public_file.string(),
             signing_key_text(files->signing_key), files->public_file.filename().string(),
             files->sign_public_file.filename().string(), files->public_file.filename().string());
  return kExitOk;
}

}  // namespace seisvault::cli
