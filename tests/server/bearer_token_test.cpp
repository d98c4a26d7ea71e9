// BearerToken on its own: exactly "Bearer " + the token passes, nothing else.
// (That the comparison is constant-time is a property of how it is written,
// digests compared with CRYPTO_memcmp, not something a test can time.)
#include <catch2/catch.hpp>

#include "bearer_token.h"

using seisvault::server::BearerToken;

TEST_CASE("a bearer token accepts exactly 'Bearer TOKEN' and refuses every near miss", "[server][token]") {
  const BearerToken t("s3cret-token");
  CHECK(t.required());
  CHECK(t.accepts("Bearer s3cret-token"));
  for (const char* wrong : {"", "Bearer ", "Bearer s3cret-toke", "Bearer s3cret-token2", "Bearer s3cret-tokeN",
                            "bearer s3cret-token", "Bearer  s3cret-token", "s3cret-token", "Basic s3cret-token",
                            "Bearer s3cret-token\n"}) {
    INFO(wrong);
    CHECK_FALSE(t.accepts(wrong));
  }
  // A token may contain anything, a NUL byte included.
  const std::string with_nul("ab\0cd", 5);
  const BearerToken n(with_nul);
  CHECK(n.accepts("Bearer " + with_nul));
  CHECK_FALSE(n.accepts("Bearer ab"));
}

TEST_CASE("without a token every call is accepted", "[server][token]") {
  const BearerToken none("");
  CHECK_FALSE(none.required());
  CHECK(none.accepts(""));
  CHECK(none.accepts("Bearer anything"));
}
