#include <catch2/catch.hpp>

#include <string_view>

#include "seisvault/common/sha256.h"

using namespace seisvault;

TEST_CASE("SHA-256 matches the FIPS 180-2 test vectors", "[sha256]") {
  auto h = [](std::string_view s) {
    return to_hex(sha256({reinterpret_cast<const uint8_t*>(s.data()), s.size()}));
  };
  CHECK(h("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(h("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
