// BearerToken: checks a query's "authorization: Bearer TOKEN" metadata
// against the token the server was given, in constant time.
//
// The expected value's SHA-256 is computed once; each check hashes the
// value it is given and compares the two digests with OpenSSL's
// CRYPTO_memcmp. The time a check takes therefore depends only on the length
// of the value the caller sent (which the caller knows), never on the
// token's length or on how much of it the caller guessed right.
// Immutable after construction: thread-safe.
#pragma once

#include <string_view>

#include "seisvault/common/sha256.h"

namespace seisvault::server {

class BearerToken {
 public:
  // An empty `token` requires nothing: accepts() is then always true.
  explicit BearerToken(std::string_view token);

  bool required() const { return required_; }
  // Whether `header` (the whole metadata value) is "Bearer " + the token.
  bool accepts(std::string_view header) const;

 private:
  bool required_;
  Sha256Digest expected_{};
};

}  // namespace seisvault::server
