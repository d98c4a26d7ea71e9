#include "seisvault/client/station_keys.h"

#include <fmt/format.h>

namespace seisvault::client {

namespace fs = std::filesystem;

Result<StationKeyFiles> create_station_keys(const fs::path& prefix) {
  if (prefix.empty() || prefix.filename().empty()) {
    return Status::invalid_argument("give a key file prefix, e.g. /etc/seisvault/IU.ANMO");
  }
  const fs::path parent = prefix.parent_path().empty() ? fs::path(".") : prefix.parent_path();
  std::error_code ec;
  if (!fs::is_directory(parent, ec)) {
    return Status::io_error(fmt::format("directory {} does not exist", parent.string()));
  }
  auto pair = generate_curve_key_pair();
  if (!pair.ok()) return pair.status();
  if (auto s = write_key_files(prefix, *pair); !s.ok()) return s;
  return StationKeyFiles{prefix.string() + ".key", prefix.string() + ".pub", std::move(*pair)};
}

Result<CurveKeyPair> load_station_keys(const fs::path& prefix) {
  const fs::path file = prefix.extension() == ".key" ? prefix : fs::path(prefix.string() + ".key");
  auto secret = read_key_file(file, /*require_private=*/true);
  if (!secret.ok()) return secret.status();
  auto pub = curve_public_from_secret(*secret);
  if (!pub.ok()) return Status::invalid_argument(fmt::format("{}: {}", file.string(), pub.status().message()));
  return CurveKeyPair{std::move(*pub), std::move(*secret)};
}

Result<std::string> load_public_key(const fs::path& path) {
  if (path.extension() == ".key") {
    return Status::invalid_argument(fmt::format(
        "{} is a secret key file; give the public key file ({}) instead", path.string(),
        fs::path(path).replace_extension(".pub").string()));
  }
  std::error_code ec;
  const fs::path file = fs::exists(path, ec) || path.extension() == ".pub" ? path : fs::path(path.string() + ".pub");
  return read_public_key_file(file);
}

}  // namespace seisvault::client
