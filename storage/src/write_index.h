// The value of a sequence-CF entry: what one write stored, in sequence
// order, so that a record can be found by its sequence number. Internal to
// storage/.
//
// One entry per write (not per record or block): the index costs one small
// RocksDB entry beside the write's blocks. Its key is the write's first
// record sequence number (keys::sequence_key); its records are numbered
// from there, block after block.
//
//   header  24 bytes: u8 format (1), 3 bytes zero, u32 block count,
//                     i64 commit time (ns, wall clock), u64 first block sequence number
//   blocks  count x 20 bytes: u8 column family (0 records, 1 long), 3 bytes zero,
//                     u32 channel id, i64 block start time (ns), u32 record count
// Integers little-endian. Block i's key is (channel id, start, first block
// sequence number + i): a write's blocks have consecutive block numbers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "seisvault/common/status.h"
#include "seisvault/common/time.h"

namespace seisvault::storage {

struct WriteIndexBlock {
  bool long_cf = false;
  uint32_t channel_id = 0;
  TimeNs start_ns = 0;
  uint32_t record_count = 0;
};

class WriteIndexBuilder {
 public:
  // Starts a new value in `out` (cleared).
  void begin(std::string& out, TimeNs commit_ns, uint64_t first_block_seq);
  void add(const WriteIndexBlock& block);
  bool empty() const { return count_ == 0; }

 private:
  std::string* out_ = nullptr;
  uint32_t count_ = 0;
};

class WriteIndexView {
 public:
  // Corruption when the value has a bad shape.
  Status parse(std::string_view value);
  uint32_t size() const { return count_; }
  TimeNs commit_ns() const { return commit_ns_; }
  uint64_t first_block_seq() const { return first_block_seq_; }
  WriteIndexBlock block(uint32_t i) const;
  // Records in the whole write.
  uint64_t record_count() const { return records_; }

 private:
  const uint8_t* base_ = nullptr;
  uint32_t count_ = 0;
  TimeNs commit_ns_ = 0;
  uint64_t first_block_seq_ = 0;
  uint64_t records_ = 0;
};

}  // namespace seisvault::storage
