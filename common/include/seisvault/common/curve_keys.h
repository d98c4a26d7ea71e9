// CURVE key pairs and their files.
//
// Keys are ZeroMQ CURVE (Curve25519) keys in Z85 text, 40 characters. A key
// file holds comment lines starting with '#' and one line with the key:
//   PREFIX.key  the secret key (mode 0600: whoever reads it can be the
//               station), under "# SeisVault CURVE secret key. ..."
//   PREFIX.pub  the public key (give it to the server operator), under
//               "# SeisVault CURVE public key."
// The server keeps its own pair as server.key / server.pub in its data
// directory.
#pragma once

#include <filesystem>
#include <string>

#include "seisvault/common/status.h"

namespace seisvault {

struct CurveKeyPair {
  std::string public_key;  // Z85, 40 characters
  std::string secret_key;  // Z85, 40 characters
};

// A new random key pair (libzmq, which uses libsodium's randomness).
Result<CurveKeyPair> generate_curve_key_pair();

// The public key that belongs to a secret key.
Result<std::string> curve_public_from_secret(const std::string& secret_key);

// Whether `text` is a well-formed Z85 key (40 characters of the Z85 alphabet).
bool is_z85_key(std::string_view text);

// Writes PREFIX.key (0600, with a comment saying it is a secret key) and
// PREFIX.pub (0644), each atomically and durably (atomic_file.h), never
// overwriting an existing file. InvalidArgument if either file exists;
// IoError naming the file and the reason.
Status write_key_files(const std::filesystem::path& prefix, const CurveKeyPair& pair);

// Reads the key of a .key or .pub file. Errors: NotFound, InvalidArgument
// (no well-formed key in it), or, for a secret key readable by others than
// its owner, InvalidArgument saying so (`require_private`).
Result<std::string> read_key_file(const std::filesystem::path& path, bool require_private = false);

// Reads the key of a file that must hold a PUBLIC key (a station's .pub for
// the authorized-stations list, the server's server.pub). A secret key is
// refused with InvalidArgument saying so: a file whose comment lines
// mention a "secret key" (any case), as every .key file written by
// write_key_files does, or whose key is the secret half of the pair in the
// .pub file beside it (same name, extension .pub). Other errors as
// read_key_file. A bare secret key with neither sign cannot be told from a
// public key (both are 40 Z85 characters).
Result<std::string> read_public_key_file(const std::filesystem::path& path);

// Loads DIR/server.key (and .pub), creating the pair on first start.
// `created` tells whether it was made now.
Result<CurveKeyPair> load_or_create_server_keys(const std::filesystem::path& dir, bool* created = nullptr);

}  // namespace seisvault
