// The value of a records-CF entry: a block of records of one channel.
// Internal to storage/.
//
//   header  format 1 (schemas 1-3): 8 bytes: u8 format, 3 bytes zero, u32 record count (LE)
//           format 2 (schema 4):     16 bytes: the same, then u64 the first record's sequence
//                                    number (LE); record i has that number + i
//           format 3 (schema 5):     40 bytes: as format 2, then u64 segment, u64 offset:
//                                    where the payload is (segment_files.h), u64 its XXH3-64
//           format 4 (schema 6):     as format 3
//   index   count x 72 bytes (formats 1-3) or 84 bytes (format 4), in start-time order:
//             i64 start_ns, i64 end_ns, i64 receive_ns, f64 sample rate, u32 sender id,
//             u32 length, u8[32] sha256,
//             format 4: u64 ledger entry number (0: none), u32 position in its batch
//   payload the records' bytes, concatenated in index order: formats 1 and 2
//           here, formats 3 and 4 in a segment file (the value ends with the index)
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "seisvault/common/status.h"
#include "seisvault/common/time.h"

namespace seisvault::storage {

inline constexpr uint8_t kBlockFormat = 4;
inline constexpr uint8_t kBlockFormatWithoutLedger = 3;
inline constexpr uint8_t kBlockFormatInline = 2;
inline constexpr uint8_t kBlockFormatWithoutSequence = 1;
inline constexpr size_t kBlockHeaderSize = 40;
inline constexpr size_t kBlockHeaderSizeInline = 16;
inline constexpr size_t kBlockHeaderSizeWithoutSequence = 8;
inline constexpr size_t kBlockEntrySize = 84;
inline constexpr size_t kBlockEntrySizeWithoutLedger = 72;

struct BlockEntry {
  TimeNs start_ns;
  TimeNs end_ns;
  TimeNs receive_ns;
  double sample_rate;
  uint32_t sender_id;
  uint32_t length;
  const uint8_t* sha256;  // 32 bytes inside the block
  const uint8_t* bytes;   // `length` bytes inside the block (format 3: its attached payload; null before)
  uint64_t sequence;      // the record's sequence number; 0 in a block written before schema 4
  uint64_t ledger_entry;  // the ledger entry of the batch that stored it (ledger.h); 0: none (before schema 6, or a local load)
  uint32_t batch_position;  // its position in that batch
};

// Where a format-3 or -4 block's payload is.
struct PayloadLocation {
  uint64_t segment = 0;
  uint64_t offset = 0;
  uint64_t length = 0;    // the sum of the records' lengths
  uint64_t checksum = 0;  // XXH3-64 of the payload
};

// Appends a block of format 4 to `out` (header and index) and its records'
// bytes to `payload`: begin, add each record, then finish. The builder keeps
// no allocation of its own.
class BlockBuilder {
 public:
  // count: how many records will be added; first_sequence: the sequence
  // number of the first (the others follow it, one each). The payload will
  // be at `payload_offset` of `segment` (where `payload`'s current end will
  // be written).
  void begin(std::string& out, std::string& payload, uint32_t count, uint64_t first_sequence, uint64_t segment,
             uint64_t payload_offset);
  void add(TimeNs start, TimeNs end, TimeNs receive, double sample_rate, uint32_t sender_id, std::span<const uint8_t, 32> sha,
           std::span<const uint8_t> bytes, uint64_t ledger_entry, uint32_t batch_position);
  void finish();

 private:
  std::string* out_ = nullptr;
  std::string* payload_ = nullptr;
  size_t header_pos_ = 0;
  size_t index_pos_ = 0;
  size_t payload_start_ = 0;
};

// A parsed view of a block; the block's bytes must outlive it.
class BlockView {
 public:
  // Checks the header and that every entry lies inside the value (formats 1
  // and 2) or that the value ends with the index (format 3); Corruption
  // otherwise.
  Status parse(std::string_view value);
  uint32_t size() const { return count_; }
  // Every field but `bytes` right after parse(); `bytes` too once the
  // payload is there (formats 1 and 2: always; format 3: attach_payload()).
  BlockEntry entry(uint32_t i) const;
  // The first record's sequence number; 0 for a block of format 1.
  uint64_t first_sequence() const { return first_sequence_; }
  // Formats 3 and 4: the payload is in a segment file, here.
  bool payload_elsewhere() const { return location_.has_value(); }
  const PayloadLocation& payload_location() const { return *location_; }
  // Formats 3 and 4: the payload read from payload_location(); it must outlive the
  // view. Corruption when its length or checksum differs.
  Status attach_payload(std::string_view payload);

 private:
  const uint8_t* base_ = nullptr;
  const uint8_t* payload_ = nullptr;
  uint32_t count_ = 0;
  size_t header_size_ = kBlockHeaderSize;
  size_t entry_size_ = kBlockEntrySize;
  bool has_ledger_ = true;
  uint64_t first_sequence_ = 0;
  std::optional<PayloadLocation> location_;
  // Payload offset of each entry, computed once in parse().
  std::vector<uint32_t> offsets_;
};

}  // namespace seisvault::storage
