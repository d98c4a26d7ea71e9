// Station key files: making them (`seisvault keygen`) and loading them
// (`seisvault push --key`). A station has a CURVE pair (PREFIX.key,
// PREFIX.pub: common's curve_keys.h) and an Ed25519 signing pair
// (PREFIX.sign, PREFIX.sign.pub: common's signing_keys.h).
#pragma once

#include <filesystem>
#include <string>

#include "seisvault/common/curve_keys.h"
#include "seisvault/common/signing_keys.h"
#include "seisvault/common/status.h"

namespace seisvault::client {

struct StationKeyFiles {
  std::filesystem::path secret_file;       // PREFIX.key, mode 0600 (empty: not made now)
  std::filesystem::path public_file;       // PREFIX.pub, mode 0644
  std::filesystem::path sign_secret_file;  // PREFIX.sign, mode 0600
  std::filesystem::path sign_public_file;  // PREFIX.sign.pub, mode 0644
  CurveKeyPair keys;
  SigningPublicKey signing_key{};
};

// Makes a new CURVE pair and a new signing pair and writes PREFIX.key
// (0600), PREFIX.pub, PREFIX.sign (0600) and PREFIX.sign.pub.
// InvalidArgument if any of them exists (a key is never overwritten) or
// the prefix is empty; IoError if the files cannot be written (e.g. the
// directory does not exist).
Result<StationKeyFiles> create_station_keys(const std::filesystem::path& prefix);

// For a station that has its CURVE pair already (made before stations
// signed): makes only the signing pair, PREFIX.sign and PREFIX.sign.pub.
// InvalidArgument if PREFIX.key does not exist or PREFIX.sign does.
Result<StationKeyFiles> create_station_signing_key(const std::filesystem::path& prefix);

// Loads PREFIX.sign (`prefix` may also name the .key or .sign file).
// NotFound when there is none; InvalidArgument as read_signing_secret_file.
Result<SigningKeyPair> load_station_signing_key(const std::filesystem::path& prefix);

// The signing public key file that belongs beside a station's public CURVE
// key file (PREFIX.pub -> PREFIX.sign.pub), whether or not it exists.
std::filesystem::path signing_public_file_beside(const std::filesystem::path& public_key_file);

// Loads PREFIX.key, which must not be readable by others than its owner,
// and derives the public key from it. `prefix` may also name the .key file
// itself. NotFound, InvalidArgument (malformed key, loose file mode).
Result<CurveKeyPair> load_station_keys(const std::filesystem::path& prefix);

// Loads a public key file (e.g. the server's server.pub, or a station's
// PREFIX.pub). `path` may also be a prefix to which ".pub" is added.
// A secret key is refused with InvalidArgument, so that a secret is not
// handed around (or written into the server's world-readable
// authorized_stations) by mistake: a file named .key, or any file that
// read_public_key_file() (curve_keys.h) recognizes as holding a secret key.
Result<std::string> load_public_key(const std::filesystem::path& path);

}  // namespace seisvault::client
