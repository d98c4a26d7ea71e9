#include "seisvault/common/curve_keys.h"

#include <sys/stat.h>
#include <zmq.h>

#include <cctype>
#include <fstream>

#include <fmt/format.h>

#include "key_file_text.h"
#include "seisvault/common/atomic_file.h"

namespace seisvault {

namespace {

constexpr std::string_view kZ85Alphabet =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

// What keygen writes above a secret key; read_public_key_file() refuses a
// file with a comment saying "secret key".
constexpr std::string_view kSecretKeyComment =
    "# SeisVault CURVE secret key. Keep it private: whoever has it can write as this key.";

// A key file's key line, which must be a Z85 key.
Result<KeyFileText> read_key_text(const std::filesystem::path& path) {
  auto text = read_key_file_text(path);
  if (!text.ok()) return text.status();
  if (!is_z85_key(text->key)) {
    return Status::invalid_argument(
        fmt::format("{} does not hold a CURVE key (expected 40 Z85 characters)", path.string()));
  }
  return text;
}

}  // namespace

bool is_z85_key(std::string_view text) {
  return text.size() == 40 && text.find_first_not_of(kZ85Alphabet) == std::string_view::npos;
}

Result<CurveKeyPair> generate_curve_key_pair() {
  char pub[41], sec[41];
  if (zmq_curve_keypair(pub, sec) != 0) {
    return Status::internal(fmt::format("cannot make a CURVE key pair: {}", zmq_strerror(zmq_errno())));
  }
  return CurveKeyPair{pub, sec};
}

Result<std::string> curve_public_from_secret(const std::string& secret_key) {
  if (!is_z85_key(secret_key)) return Status::invalid_argument("not a Z85 CURVE key (40 characters)");
  char pub[41];
  if (zmq_curve_public(pub, secret_key.c_str()) != 0) {
    return Status::invalid_argument(fmt::format("cannot derive the public key: {}", zmq_strerror(zmq_errno())));
  }
  return std::string(pub);
}

Status write_key_files(const std::filesystem::path& prefix, const CurveKeyPair& pair) {
  const std::filesystem::path sec = prefix.string() + ".key", pub = prefix.string() + ".pub";
  if (std::filesystem::exists(sec) || std::filesystem::exists(pub)) {
    return Status::invalid_argument(
        fmt::format("{} or {} already exists; not overwriting a key", sec.string(), pub.string()));
  }
  // Never replacing an existing file (a key is never overwritten, even by
  // a second keygen racing this one), and the secret readable by its owner
  // only from the moment it exists.
  if (auto s = write_file_atomically(sec, std::string(kSecretKeyComment) + "\n" + pair.secret_key + "\n",
                                     {.mode = 0600, .replace = false});
      !s.ok()) {
    return s;
  }
  return write_file_atomically(pub, "# SeisVault CURVE public key.\n" + pair.public_key + "\n",
                               {.mode = 0644, .replace = false});
}

Result<std::string> read_key_file(const std::filesystem::path& path, bool require_private) {
  if (require_private) {
    struct stat st{};
    if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
      return Status::invalid_argument(fmt::format(
          "secret key file {} is readable by others (mode {:o}); run: chmod 600 {}", path.string(),
          st.st_mode & 0777, path.string()));
    }
  }
  auto text = read_key_text(path);
  if (!text.ok()) return text.status();
  return std::move(text->key);
}

Result<std::string> read_public_key_file(const std::filesystem::path& path) {
  auto text = read_key_text(path);
  if (!text.ok()) return text.status();
  if (text->says_secret) {
    return Status::invalid_argument(fmt::format(
        "{} holds a secret key (its comment says so); give the public key file instead (PREFIX.pub from seisvault "
        "keygen). A secret key must stay on its station",
        path.string()));
  }
  // A secret key copied without its comment: it is the secret half of the
  // pair whose public half is beside it under the same name with .pub.
  std::filesystem::path sibling = path;
  sibling.replace_extension(".pub");
  std::error_code ec;
  if (sibling != path && std::filesystem::exists(sibling, ec)) {
    auto pub = read_key_text(sibling);
    auto derived = curve_public_from_secret(text->key);
    if (pub.ok() && derived.ok() && *derived == pub->key) {
      return Status::invalid_argument(fmt::format(
          "{} holds the secret key of {}; give that public key file instead. A secret key must stay on its station",
          path.string(), sibling.string()));
    }
  }
  return std::move(text->key);
}

Result<CurveKeyPair> load_or_create_server_keys(const std::filesystem::path& dir, bool* created) {
  const auto sec = dir / "server.key";
  if (created) *created = false;
  if (!std::filesystem::exists(sec)) {
    auto pair = generate_curve_key_pair();
    if (!pair.ok()) return pair.status();
    if (auto s = write_key_files(dir / "server", *pair); !s.ok()) return s;
    if (created) *created = true;
    return pair;
  }
  auto secret = read_key_file(sec, true);
  if (!secret.ok()) return secret.status();
  auto pub = curve_public_from_secret(*secret);
  if (!pub.ok()) return pub.status();
  return CurveKeyPair{*pub, *secret};
}

}  // namespace seisvault
