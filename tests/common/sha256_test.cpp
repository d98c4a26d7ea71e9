#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "seisvault/common/sha256.h"

using namespace seisvault;

TEST_CASE("SHA-256 matches the FIPS 180-2 test vectors", "[sha256]") {
  auto h = [](std::string_view s) {
    return to_hex(sha256({reinterpret_cast<const uint8_t*>(s.data()), s.size()}));
  };
  CHECK(h("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(h("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("SHA-256 gives the same digests when called again and again from several threads", "[sha256]") {
  // Each thread reuses one OpenSSL context: a digest must not depend on the
  // previous input hashed on the same thread.
  auto h = [](std::string_view s) {
    return to_hex(sha256({reinterpret_cast<const uint8_t*>(s.data()), s.size()}));
  };
  const std::string long_input(1000, 'a');
  const auto expected_long = h(long_input);
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        if (h("abc") != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") ++wrong;
        if (h(long_input) != expected_long) ++wrong;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(wrong == 0);
  CHECK(expected_long == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
}
