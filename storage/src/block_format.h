// The value of a records-CF entry: a block of records of one channel.
// Internal to storage/.
//
//   header  format 1 (schemas 1-3): 8 bytes: u8 format, 3 bytes zero, u32 record count (LE)
//           format 2 (schema 4):     16 bytes: the same, then u64 the first record's sequence
//                                    number (LE); record i has that number + i
//   index   count x 72 bytes, in start-time order:
//             i64 start_ns, i64 end_ns, i64 receive_ns, f64 sample rate, u32 sender id,
//             u32 length, u8[32] sha256
//   payload the records' bytes, concatenated in index order
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "seisvault/common/status.h"
#include "seisvault/common/time.h"

namespace seisvault::storage {

inline constexpr uint8_t kBlockFormat = 2;
inline constexpr uint8_t kBlockFormatWithoutSequence = 1;
inline constexpr size_t kBlockHeaderSize = 16;
inline constexpr size_t kBlockHeaderSizeWithoutSequence = 8;
inline constexpr size_t kBlockEntrySize = 72;

struct BlockEntry {
  TimeNs start_ns;
  TimeNs end_ns;
  TimeNs receive_ns;
  double sample_rate;
  uint32_t sender_id;
  uint32_t length;
  const uint8_t* sha256;  // 32 bytes inside the block
  const uint8_t* bytes;   // `length` bytes inside the block
  uint64_t sequence;      // the record's sequence number; 0 in a block written before schema 4
};

// Appends a block to `out`, built in two passes: begin, add each record,
// then finish. The builder keeps no allocation of its own.
class BlockBuilder {
 public:
  // count: how many records will be added; first_sequence: the sequence
  // number of the first (the others follow it, one each).
  void begin(std::string& out, uint32_t count, uint64_t first_sequence);
  void add(TimeNs start, TimeNs end, TimeNs receive, double sample_rate, uint32_t sender_id, std::span<const uint8_t, 32> sha,
           std::span<const uint8_t> bytes);

 private:
  std::string* out_ = nullptr;
  size_t index_pos_ = 0;
};

// A parsed view of a block; the block's bytes must outlive it.
class BlockView {
 public:
  // Checks the header and that every entry lies inside the value; Corruption
  // otherwise.
  Status parse(std::string_view value);
  uint32_t size() const { return count_; }
  BlockEntry entry(uint32_t i) const;
  // The first record's sequence number; 0 for a block of format 1.
  uint64_t first_sequence() const { return first_sequence_; }

 private:
  const uint8_t* base_ = nullptr;
  uint32_t count_ = 0;
  size_t header_size_ = kBlockHeaderSize;
  uint64_t first_sequence_ = 0;
  // Payload offset of each entry, computed once in parse().
  std::vector<uint32_t> offsets_;
};

}  // namespace seisvault::storage
