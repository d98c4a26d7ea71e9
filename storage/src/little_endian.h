// Fixed-width values in the store's values (blocks, the sequence index):
// host byte order, which is little-endian on every platform SeisVault is
// built for (Debian amd64 and arm64). Internal to storage/.
#pragma once

#include <cstdint>
#include <cstring>

namespace seisvault::storage {

template <class T>
void put_le(uint8_t* p, T v) {
  std::memcpy(p, &v, sizeof v);
}

template <class T>
T get_le(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace seisvault::storage
