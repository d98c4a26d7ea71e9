#include "bearer_token.h"

#include <openssl/crypto.h>

#include <string>

namespace seisvault::server {

namespace {

Sha256Digest digest_of(std::string_view text) {
  return sha256({reinterpret_cast<const uint8_t*>(text.data()), text.size()});
}

}  // namespace

BearerToken::BearerToken(std::string_view token) : required_(!token.empty()) {
  if (required_) expected_ = digest_of("Bearer " + std::string(token));
}

bool BearerToken::accepts(std::string_view header) const {
  if (!required_) return true;
  const Sha256Digest given = digest_of(header);
  return CRYPTO_memcmp(given.data(), expected_.data(), given.size()) == 0;
}

}  // namespace seisvault::server
