// SHA-256 over a byte range, with OpenSSL (which uses the CPU's SHA
// extensions when present). Thread-safe: each thread keeps its own context.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

namespace seisvault {

using Sha256Digest = std::array<uint8_t, 32>;

Sha256Digest sha256(std::span<const uint8_t> bytes);

// Lower-case hex of any bytes (64 characters for a digest).
std::string to_hex(std::span<const uint8_t> bytes);

}  // namespace seisvault
