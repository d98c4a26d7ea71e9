// Ed25519 signing keys (libsodium) and their files: what a station signs its
// batches with, and what the server signs its ledger checkpoints with
// (docs/provenance.md).
//
// Text form of a public key: "ed25519:" followed by the 32 key bytes in Z85
// (40 characters), 48 characters in all; the prefix keeps it apart from a
// CURVE key, which is 40 Z85 characters alone. Files, beside the CURVE pair
// of the same prefix (curve_keys.h):
//   PREFIX.sign      the secret key (its 32-byte seed in Z85), mode 0600,
//                    under "# SeisVault Ed25519 signing secret key. ..."
//   PREFIX.sign.pub  the public key in text form, mode 0644
// The server keeps its own pair as server.sign / server.sign.pub in its data
// directory.
//
// Thread-safety: every function may be called from any thread (libsodium is
// initialized once, on first use).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "seisvault/common/status.h"

namespace seisvault {

using SigningPublicKey = std::array<uint8_t, 32>;
using Signature = std::array<uint8_t, 64>;

struct SigningKeyPair {
  SigningPublicKey public_key{};
  std::array<uint8_t, 32> seed{};    // the secret: everything else derives from it
  std::array<uint8_t, 64> secret{};  // libsodium's expanded secret key (seed + public key)
};

// A new random key pair. Internal only if libsodium cannot initialize.
Result<SigningKeyPair> generate_signing_key_pair();

// The pair that belongs to a seed.
SigningKeyPair signing_key_pair_from_seed(const std::array<uint8_t, 32>& seed);

// "ed25519:<Z85>" of a public key.
std::string signing_key_text(const SigningPublicKey& key);

// Reads the text form back: InvalidArgument saying what is wrong, also for
// text of the right alphabet and length that does not decode to 32 bytes
// (a Z85 group spelling more than 32 bits).
Result<SigningPublicKey> parse_signing_key_text(std::string_view text);

// Whether `text` looks like a signing public key ("ed25519:" + 40 Z85).
bool is_signing_key_text(std::string_view text);

// Writes PREFIX.sign (0600) and PREFIX.sign.pub (0644), atomically and
// durably, never overwriting: InvalidArgument if either exists; IoError
// naming the file and the reason.
Status write_signing_key_files(const std::filesystem::path& prefix, const SigningKeyPair& pair);

// Reads a PREFIX.sign file. NotFound; InvalidArgument for a malformed file
// or one readable by others than its owner.
Result<SigningKeyPair> read_signing_secret_file(const std::filesystem::path& path);

// Reads a PREFIX.sign.pub file (or any file whose one key line is the text
// form). A file holding a secret key is refused with InvalidArgument.
Result<SigningPublicKey> read_signing_public_file(const std::filesystem::path& path);

// Loads DIR/server.sign, creating the pair (and server.sign.pub) on first
// start. `created` tells whether it was made now.
Result<SigningKeyPair> load_or_create_server_signing_key(const std::filesystem::path& dir, bool* created = nullptr);

// An Ed25519 signature of `message`.
Signature sign_message(const SigningKeyPair& key, std::span<const uint8_t> message);

// Whether `signature` is `key`'s signature of `message`.
bool verify_signature(const SigningPublicKey& key, std::span<const uint8_t> message,
                      std::span<const uint8_t> signature);

}  // namespace seisvault
