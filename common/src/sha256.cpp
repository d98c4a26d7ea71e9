#include "seisvault/common/sha256.h"

#include <openssl/evp.h>

#include <memory>
#include <stdexcept>

namespace seisvault {

namespace {

// OpenSSL 3's one-shot SHA256() looks the algorithm up in the provider store
// (a lock) and allocates a context on every call: 0.53 us per 512-byte
// record here, against 0.33 us with the algorithm fetched once and a context
// kept per thread.
struct Sha256Context {
  std::unique_ptr<EVP_MD, decltype(&EVP_MD_free)> md{EVP_MD_fetch(nullptr, "SHA256", nullptr), &EVP_MD_free};
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx{EVP_MD_CTX_new(), &EVP_MD_CTX_free};
};

}  // namespace

Sha256Digest sha256(std::span<const uint8_t> bytes) {
  thread_local Sha256Context c;
  Sha256Digest out;
  unsigned int length = 0;
  if (!c.md || !c.ctx || EVP_DigestInit_ex2(c.ctx.get(), c.md.get(), nullptr) != 1 ||
      EVP_DigestUpdate(c.ctx.get(), bytes.data(), bytes.size()) != 1 ||
      EVP_DigestFinal_ex(c.ctx.get(), out.data(), &length) != 1 || length != out.size()) {
    // Only a broken OpenSSL installation (no default provider) gets here.
    throw std::runtime_error("OpenSSL cannot compute SHA-256");
  }
  return out;
}

std::string to_hex(std::span<const uint8_t> bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    s.push_back(kHex[b >> 4]);
    s.push_back(kHex[b & 15]);
  }
  return s;
}

}  // namespace seisvault
