// Station key files: making them (`seisvault keygen`) and loading them
// (`seisvault push --key`). The file format is common's curve_keys.h.
#pragma once

#include <filesystem>
#include <string>

#include "seisvault/common/curve_keys.h"
#include "seisvault/common/status.h"

namespace seisvault::client {

struct StationKeyFiles {
  std::filesystem::path secret_file;  // PREFIX.key, mode 0600
  std::filesystem::path public_file;  // PREFIX.pub, mode 0644
  CurveKeyPair keys;
};

// Makes a new key pair and writes PREFIX.key (0600) and PREFIX.pub.
// InvalidArgument if either file exists (a key is never overwritten) or
// the prefix is empty; IoError if the files cannot be written (e.g. the
// directory does not exist).
Result<StationKeyFiles> create_station_keys(const std::filesystem::path& prefix);

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
