#include "seisvault/client/station_keys.h"

#include <fmt/format.h>

namespace seisvault::client {

namespace fs = std::filesystem;

namespace {

Status check_prefix(const fs::path& prefix) {
  if (prefix.empty() || prefix.filename().empty()) {
    return Status::invalid_argument("give a key file prefix, e.g. /etc/seisvault/IU.ANMO");
  }
  const fs::path parent = prefix.parent_path().empty() ? fs::path(".") : prefix.parent_path();
  std::error_code ec;
  if (!fs::is_directory(parent, ec)) {
    return Status::io_error(fmt::format("directory {} does not exist", parent.string()));
  }
  return {};
}

// PREFIX of PREFIX, PREFIX.key or PREFIX.sign.
fs::path bare_prefix(const fs::path& path) {
  if (path.extension() == ".key" || path.extension() == ".sign") return fs::path(path).replace_extension();
  return path;
}

}  // namespace

Result<StationKeyFiles> create_station_keys(const fs::path& prefix) {
  if (auto s = check_prefix(prefix); !s.ok()) return s;
  std::error_code ec;
  for (const char* ext : {".key", ".pub", ".sign", ".sign.pub"}) {
    if (fs::exists(prefix.string() + ext, ec)) {
      return Status::invalid_argument(fmt::format("{}{} already exists; not overwriting a key", prefix.string(), ext));
    }
  }
  auto pair = generate_curve_key_pair();
  if (!pair.ok()) return pair.status();
  auto signing = generate_signing_key_pair();
  if (!signing.ok()) return signing.status();
  if (auto s = write_key_files(prefix, *pair); !s.ok()) return s;
  if (auto s = write_signing_key_files(prefix, *signing); !s.ok()) return s;
  return StationKeyFiles{prefix.string() + ".key",  prefix.string() + ".pub", prefix.string() + ".sign",
                         prefix.string() + ".sign.pub", std::move(*pair),     signing->public_key};
}

Result<StationKeyFiles> create_station_signing_key(const fs::path& path) {
  const fs::path prefix = bare_prefix(path);
  if (auto s = check_prefix(prefix); !s.ok()) return s;
  auto curve = load_station_keys(prefix);
  if (!curve.ok()) {
    return Status::invalid_argument(fmt::format("{} (a signing key is made beside an existing {}.key)",
                                                curve.status().message(), prefix.string()));
  }
  auto signing = generate_signing_key_pair();
  if (!signing.ok()) return signing.status();
  if (auto s = write_signing_key_files(prefix, *signing); !s.ok()) return s;
  return StationKeyFiles{{}, prefix.string() + ".pub", prefix.string() + ".sign", prefix.string() + ".sign.pub",
                         std::move(*curve), signing->public_key};
}

Result<SigningKeyPair> load_station_signing_key(const fs::path& path) {
  const fs::path file = bare_prefix(path).string() + ".sign";
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    return Status::not_found(fmt::format("no signing key {} (seisvault keygen --signing-only {} makes one)",
                                         file.string(), bare_prefix(path).string()));
  }
  return read_signing_secret_file(file);
}

fs::path signing_public_file_beside(const fs::path& public_key_file) {
  fs::path p = public_key_file;
  if (p.extension() == ".pub") p.replace_extension();
  return p.string() + ".sign.pub";
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
