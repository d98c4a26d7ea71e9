#include "seisvault/common/sha256.h"

#include <openssl/sha.h>

namespace seisvault {

Sha256Digest sha256(std::span<const uint8_t> bytes) {
  Sha256Digest out;
  // One-shot SHA256() uses no heap and no shared state.
  SHA256(bytes.data(), bytes.size(), out.data());
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
