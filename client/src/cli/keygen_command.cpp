#include "keygen_command.h"

#include <fmt/format.h>

#include "exit_codes.h"
#include "seisvault/client/station_keys.h"

namespace seisvault::cli {

CLI::App* add_keygen_command(CLI::App& app, KeygenArgs& args) {
  auto* cmd = app.add_subcommand("keygen", "make a station key pair: PREFIX.key (secret, mode 0600) and PREFIX.pub");
  cmd->add_option("PREFIX", args.prefix, "path and name of the key files, e.g. /etc/seisvault/IU.ANMO")->required();
  return cmd;
}

int run_keygen(const KeygenArgs& args) {
  auto files = client::create_station_keys(args.prefix);
  if (!files.ok()) {
    fmt::print(stderr, "seisvault keygen: {}\n", files.status().message());
    return kExitUsage;
  }
  fmt::print(
      "wrote a station key pair:\n"
      "  secret key  {}  (mode 0600; it stays on this station: whoever has it can write as this station)\n"
      "  public key  {}  {}\n"
      "give {} to the server operator, who runs:\n"
      "  seisvault authorize --data-dir DATA_DIR --key {} --stations NET.STA\n",
      files->secret_file.string(), files->public_file.string(), files->keys.public_key, files->public_file.string(),
      files->public_file.filename().string());
  return kExitOk;
}

}  // namespace seisvault::cli
