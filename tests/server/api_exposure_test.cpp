// Which --api addresses count as this machine only, and when a plain,
// token-less API is refused.
#include <catch2/catch.hpp>

#include "api_exposure.h"

using namespace seisvault;
using namespace seisvault::server;

TEST_CASE("loopback and unix-socket API addresses are recognized, everything else is not", "[server][exposure]") {
  for (const char* local : {"127.0.0.1:16601", "127.0.0.1:0", "127.8.9.10:1", "[::1]:16601", "localhost:16601",
                            "LocalHost:1", "[::ffff:127.0.0.1]:1", "unix:/run/seisvault/api.sock",
                            "unix:///run/seisvault/api.sock", "unix-abstract:seisvault"}) {
    INFO(local);
    CHECK(is_loopback_api_address(local));
  }
  for (const char* open : {"0.0.0.0:16601", "[::]:16601", ":16601", "10.1.2.3:16601", "192.168.0.1:1",
                           "[2001:db8::1]:1", "[::ffff:10.0.0.1]:1", "data.example.org:16601",
                           "127.0.0.1.example.org:1", "localhost.example.org:1", "128.0.0.1:1", "[::1:1",
                           "", "127.1:1"}) {
    INFO(open);
    CHECK_FALSE(is_loopback_api_address(open));
  }
}

TEST_CASE("a non-loopback API needs TLS, a token or --api-allow-insecure", "[server][exposure]") {
  const auto refused = check_api_exposure("0.0.0.0:16601", false, false, false);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(refused.message(), Catch::Contains("--api-allow-insecure"));
  CHECK_THAT(refused.message(), Catch::Contains("0.0.0.0:16601"));
  CHECK(check_api_exposure("0.0.0.0:16601", true, false, false).ok());
  CHECK(check_api_exposure("0.0.0.0:16601", false, true, false).ok());
  CHECK(check_api_exposure("0.0.0.0:16601", false, false, true).ok());
  CHECK(check_api_exposure("127.0.0.1:16601", false, false, false).ok());
}
