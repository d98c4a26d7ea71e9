#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <fstream>

#include "seisvault/common/batch_signature.h"
#include "seisvault/common/curve_keys.h"
#include "seisvault/common/signing_keys.h"
#include "support/temp_dir.h"

using namespace seisvault;

namespace {

std::span<const uint8_t> bytes_of(const std::string& s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

}  // namespace

TEST_CASE("a signing key's text form reads back, and is told apart from a CURVE key", "[signing]") {
  const auto pair = generate_signing_key_pair().value();
  const auto text = signing_key_text(pair.public_key);
  CHECK(text.size() == 48);
  CHECK(text.rfind("ed25519:", 0) == 0);
  CHECK(is_signing_key_text(text));
  CHECK(parse_signing_key_text(text).value() == pair.public_key);
  const auto curve = generate_curve_key_pair()->public_key;
  CHECK_FALSE(is_signing_key_text(curve));
  CHECK(parse_signing_key_text(curve).status().code() == StatusCode::kInvalidArgument);
  CHECK_FALSE(is_signing_key_text("ed25519:" + curve.substr(0, 39)));
  CHECK_FALSE(is_signing_key_text("ed25519:" + curve.substr(0, 39) + "~"));  // not Z85
}

TEST_CASE("a signature verifies with its key and message only", "[signing]") {
  const auto a = generate_signing_key_pair().value(), b = generate_signing_key_pair().value();
  const std::string message = "the bytes of a batch";
  const auto sig = sign_message(a, bytes_of(message));
  CHECK(verify_signature(a.public_key, bytes_of(message), sig));
  CHECK_FALSE(verify_signature(b.public_key, bytes_of(message), sig));
  CHECK_FALSE(verify_signature(a.public_key, bytes_of(message + "."), sig));
  auto flipped = sig;
  flipped[10] ^= 1;
  CHECK_FALSE(verify_signature(a.public_key, bytes_of(message), flipped));
  CHECK_FALSE(verify_signature(a.public_key, bytes_of(message), std::span<const uint8_t>(sig.data(), 63)));
  // The pair is a function of its seed.
  CHECK(signing_key_pair_from_seed(a.seed).public_key == a.public_key);
}

TEST_CASE("signing key files: the secret is private and never overwritten, the public file refuses a secret",
          "[signing]") {
  test::TempDir dir;
  const auto prefix = dir.path() / "IU.ANMO";
  const auto pair = generate_signing_key_pair().value();
  REQUIRE(write_signing_key_files(prefix, pair).ok());
  struct stat st {};
  REQUIRE(::stat((prefix.string() + ".sign").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(read_signing_secret_file(prefix.string() + ".sign")->public_key == pair.public_key);
  CHECK(read_signing_public_file(prefix.string() + ".sign.pub").value() == pair.public_key);
  CHECK(write_signing_key_files(prefix, generate_signing_key_pair().value()).code() == StatusCode::kInvalidArgument);
  CHECK(read_signing_secret_file(prefix.string() + ".sign")->public_key == pair.public_key);

  auto secret_as_public = read_signing_public_file(prefix.string() + ".sign");
  CHECK(secret_as_public.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(secret_as_public.status().message(), Catch::Contains("secret key"));
  ::chmod((prefix.string() + ".sign").c_str(), 0644);
  auto loose = read_signing_secret_file(prefix.string() + ".sign");
  CHECK(loose.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(loose.status().message(), Catch::Contains("chmod 600"));
  CHECK(read_signing_public_file(dir.path() / "missing.sign.pub").status().code() == StatusCode::kNotFound);
}

TEST_CASE("the server's signing key is made on first start and the same afterwards", "[signing]") {
  test::TempDir dir;
  bool created = false;
  const auto first = load_or_create_server_signing_key(dir.path(), &created).value();
  CHECK(created);
  const auto again = load_or_create_server_signing_key(dir.path(), &created).value();
  CHECK_FALSE(created);
  CHECK(again.public_key == first.public_key);
  CHECK(read_signing_public_file(dir.path() / "server.sign.pub").value() == first.public_key);
}

TEST_CASE("the batch signing message is laid out as documented", "[signing]") {
  BatchSigningFields f;
  f.protocol_version = 1;
  f.key_id.fill(0xAB);
  f.batch_id = 0x0102030405060708ull;
  f.send_time_ns = -2;
  Sha256Digest h1{}, h2{};
  h1.fill(0x11);
  h2.fill(0x22);
  const std::vector<Sha256Digest> hashes{h1, h2};
  const auto m = batch_signing_message(f, hashes);
  REQUIRE(m.size() == 26 + 4 + 32 + 8 + 8 + 4 + 64);
  CHECK(m.substr(0, 26) == std::string("SeisVault batch signature\0", 26));
  CHECK(m.substr(26, 4) == std::string("\0\0\0\1", 4));
  CHECK(m.substr(30, 32) == std::string(32, '\xAB'));
  CHECK(m.substr(62, 8) == std::string("\1\2\3\4\5\6\7\10", 8));
  CHECK(m.substr(70, 8) == std::string("\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFE", 8));
  CHECK(m.substr(78, 4) == std::string("\0\0\0\2", 4));
  CHECK(m.substr(82, 32) == std::string(32, '\x11'));
  CHECK(m.substr(114, 32) == std::string(32, '\x22'));
  // Built record by record: the same bytes.
  std::string step;
  begin_batch_message(f, 2, step);
  add_batch_hash(h1, step);
  add_batch_hash(h2, step);
  CHECK(step == m);
}
