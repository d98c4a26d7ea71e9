// Records for client tests: real miniSEED 2 records from libmseed's packer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace seisvault::test {

// `count` distinct 512-byte Steim-2 records of one channel, in time order.
std::vector<std::vector<uint8_t>> make_records(size_t count, uint32_t seed = 1);

// The records one after another, as a file holds them.
std::vector<uint8_t> concatenate(const std::vector<std::vector<uint8_t>>& records);

inline std::span<const uint8_t> bytes_of(const std::vector<uint8_t>& v) { return {v.data(), v.size()}; }

}  // namespace seisvault::test
