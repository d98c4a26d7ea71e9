#include "seisvault/common/signing_keys.h"

#include <sodium.h>
#include <sys/stat.h>
#include <zmq.h>


#include <fmt/format.h>

#include "key_file_text.h"
#include "seisvault/common/atomic_file.h"
#include "seisvault/common/curve_keys.h"

namespace seisvault {

namespace {

constexpr std::string_view kPrefix = "ed25519:";
constexpr std::string_view kSecretComment =
    "# SeisVault Ed25519 signing secret key. Keep it private: whoever has it can sign as this key.";
constexpr std::string_view kPublicComment = "# SeisVault Ed25519 signing public key.";

bool sodium_ready() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

std::string z85(std::span<const uint8_t, 32> bytes) {
  char out[41];
  zmq_z85_encode(out, bytes.data(), bytes.size());
  return std::string(out, 40);
}

bool from_z85(std::string_view text, std::array<uint8_t, 32>& out) {
  if (!is_z85_key(text)) return false;
  const std::string terminated(text);
  return zmq_z85_decode(out.data(), terminated.c_str()) != nullptr;
}

}  // namespace

Result<SigningKeyPair> generate_signing_key_pair() {
  if (!sodium_ready()) return Status::internal("libsodium cannot be initialized");
  std::array<uint8_t, 32> seed{};
  randombytes_buf(seed.data(), seed.size());
  auto pair = signing_key_pair_from_seed(seed);
  sodium_memzero(seed.data(), seed.size());
  return pair;
}

SigningKeyPair signing_key_pair_from_seed(const std::array<uint8_t, 32>& seed) {
  sodium_ready();
  SigningKeyPair pair;
  pair.seed = seed;
  crypto_sign_seed_keypair(pair.public_key.data(), pair.secret.data(), seed.data());
  return pair;
}

std::string signing_key_text(const SigningPublicKey& key) { return std::string(kPrefix) + z85(key); }

bool is_signing_key_text(std::string_view text) {
  return text.size() == kPrefix.size() + 40 && text.substr(0, kPrefix.size()) == kPrefix &&
         is_z85_key(text.substr(kPrefix.size()));
}

Result<SigningPublicKey> parse_signing_key_text(std::string_view text) {
  SigningPublicKey key{};
  if (!is_signing_key_text(text) || !from_z85(text.substr(kPrefix.size()), key) ||
      z85(key) != text.substr(kPrefix.size())) {
    return Status::invalid_argument(fmt::format(
        "'{}' is not an Ed25519 signing public key (\"ed25519:\" and 40 Z85 characters, from seisvault keygen's "
        "PREFIX.sign.pub)",
        text.substr(0, 60)));
  }
  return key;
}

Status write_signing_key_files(const std::filesystem::path& prefix, const SigningKeyPair& pair) {
  const std::filesystem::path sec = prefix.string() + ".sign", pub = prefix.string() + ".sign.pub";
  std::error_code ec;
  if (std::filesystem::exists(sec, ec) || std::filesystem::exists(pub, ec)) {
    return Status::invalid_argument(
        fmt::format("{} or {} already exists; not overwriting a key", sec.string(), pub.string()));
  }
  if (auto s = write_file_atomically(sec, fmt::format("{}\n{}\n", kSecretComment, z85(pair.seed)),
                                     {.mode = 0600, .replace = false});
      !s.ok()) {
    return s;
  }
  return write_file_atomically(pub, fmt::format("{}\n{}\n", kPublicComment, signing_key_text(pair.public_key)),
                               {.mode = 0644, .replace = false});
}

Result<SigningKeyPair> read_signing_secret_file(const std::filesystem::path& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    return Status::invalid_argument(fmt::format("secret key file {} is readable by others (mode {:o}); run: chmod 600 {}",
                                                path.string(), st.st_mode & 0777, path.string()));
  }
  auto line = read_key_file_text(path);
  if (!line.ok()) return line.status();
  std::array<uint8_t, 32> seed{};
  if (!from_z85(line->key, seed)) {
    return Status::invalid_argument(
        fmt::format("{} does not hold an Ed25519 signing secret key (40 Z85 characters)", path.string()));
  }
  auto pair = signing_key_pair_from_seed(seed);
  sodium_memzero(seed.data(), seed.size());
  return pair;
}

Result<SigningPublicKey> read_signing_public_file(const std::filesystem::path& path) {
  auto line = read_key_file_text(path);
  if (!line.ok()) return line.status();
  if (line->says_secret || !is_signing_key_text(line->key)) {
    if (line->says_secret || is_z85_key(line->key)) {
      return Status::invalid_argument(fmt::format(
          "{} does not hold a signing public key{}; give PREFIX.sign.pub from seisvault keygen", path.string(),
          line->says_secret ? " (it holds a secret key, which must stay on its station)" : ""));
    }
    return Status::invalid_argument(
        fmt::format("{} does not hold a signing public key (\"ed25519:\" and 40 Z85 characters)", path.string()));
  }
  return parse_signing_key_text(line->key);
}

Result<SigningKeyPair> load_or_create_server_signing_key(const std::filesystem::path& dir, bool* created) {
  const auto sec = dir / "server.sign";
  if (created) *created = false;
  std::error_code ec;
  if (!std::filesystem::exists(sec, ec)) {
    auto pair = generate_signing_key_pair();
    if (!pair.ok()) return pair.status();
    if (auto s = write_signing_key_files(dir / "server", *pair); !s.ok()) return s;
    if (created) *created = true;
    return pair;
  }
  return read_signing_secret_file(sec);
}

Signature sign_message(const SigningKeyPair& key, std::span<const uint8_t> message) {
  sodium_ready();
  Signature sig{};
  crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), key.secret.data());
  return sig;
}

bool verify_signature(const SigningPublicKey& key, std::span<const uint8_t> message,
                      std::span<const uint8_t> signature) {
  if (signature.size() != crypto_sign_BYTES || !sodium_ready()) return false;
  return crypto_sign_verify_detached(signature.data(), message.data(), message.size(), key.data()) == 0;
}

}  // namespace seisvault
