// Key encodings of the records, catalog and summary column families.
// Internal to storage/.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "seisvault/common/time.h"

namespace seisvault::storage::keys {

static_assert(std::endian::native == std::endian::little, "SeisVault's on-disk encodings assume a little-endian host");

inline void put_u32_be(uint8_t* p, uint32_t v) {
  v = __builtin_bswap32(v);
  std::memcpy(p, &v, 4);
}
inline void put_u64_be(uint8_t* p, uint64_t v) {
  v = __builtin_bswap64(v);
  std::memcpy(p, &v, 8);
}
inline uint32_t get_u32_be(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return __builtin_bswap32(v);
}
inline uint64_t get_u64_be(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return __builtin_bswap64(v);
}

// Flipping the sign bit makes big-endian byte order match signed order.
inline uint64_t time_to_ordered(TimeNs t) { return static_cast<uint64_t>(t) ^ (uint64_t{1} << 63); }
inline TimeNs ordered_to_time(uint64_t u) { return static_cast<TimeNs>(u ^ (uint64_t{1} << 63)); }

// records and long CFs: channel id | block start time | block sequence number.
inline constexpr size_t kRecordKeySize = 4 + 8 + 8;
inline constexpr size_t kChannelPrefixSize = 4;
using RecordKey = std::array<uint8_t, kRecordKeySize>;

inline RecordKey record_key(uint32_t channel_id, TimeNs start, uint64_t seq) {
  RecordKey k;
  put_u32_be(k.data(), channel_id);
  put_u64_be(k.data() + 4, time_to_ordered(start));
  put_u64_be(k.data() + 12, seq);
  return k;
}

struct DecodedRecordKey {
  uint32_t channel_id;
  TimeNs start;
  uint64_t seq;
};

inline bool decode_record_key(std::string_view k, DecodedRecordKey& out) {
  if (k.size() != kRecordKeySize) return false;
  const auto* p = reinterpret_cast<const uint8_t*>(k.data());
  out.channel_id = get_u32_be(p);
  out.start = ordered_to_time(get_u64_be(p + 4));
  out.seq = get_u64_be(p + 12);
  return true;
}

inline std::string_view as_view(const RecordKey& k) {
  return {reinterpret_cast<const char*>(k.data()), k.size()};
}

// catalog CF.
inline std::string channel_by_name(std::string_view source_id) { return "c" + std::string(source_id); }
inline std::string channel_by_id(uint32_t id) {
  std::string k(5, '\0');
  k[0] = 'i';
  put_u32_be(reinterpret_cast<uint8_t*>(k.data()) + 1, id);
  return k;
}
inline std::string sender_by_name(std::string_view sender) { return "s" + std::string(sender); }
inline std::string sender_by_id(uint32_t id) {
  std::string k(5, '\0');
  k[0] = 'j';
  put_u32_be(reinterpret_cast<uint8_t*>(k.data()) + 1, id);
  return k;
}

// summary CF: the summaries of kSummaryPageChannels consecutive channel ids
// in one entry (a page), key "p" + page number (u32 BE). A write that touches
// every channel then rewrites one entry per 64 channels instead of one per
// channel. A summary is 72 bytes since schema version 3 (max_long_extent_ns
// added); schema 2 had pages of 64-byte summaries, schema 1 one 64-byte entry
// per channel, keyed by the bare 4-byte channel id (both migrated at open).
inline constexpr uint32_t kSummaryPageChannels = 64;
inline constexpr size_t kSummarySize = 72;
inline constexpr size_t kSummaryPageSize = kSummaryPageChannels * kSummarySize;
inline constexpr size_t kSummarySizeV2 = 64;  // schemas 1 and 2
inline constexpr size_t kSummaryPageSizeV2 = kSummaryPageChannels * kSummarySizeV2;
inline constexpr size_t kSummaryPageKeySize = 5;
using SummaryPageKey = std::array<uint8_t, kSummaryPageKeySize>;

inline uint32_t summary_page(uint32_t channel_id) { return channel_id / kSummaryPageChannels; }
inline SummaryPageKey summary_page_key(uint32_t page) {
  SummaryPageKey k;
  k[0] = 'p';
  put_u32_be(k.data() + 1, page);
  return k;
}
inline std::string_view as_view(const SummaryPageKey& k) {
  return {reinterpret_cast<const char*>(k.data()), k.size()};
}

// default CF.
inline constexpr std::string_view kSchemaVersionKey = "schema_version";
inline constexpr std::string_view kNextSeqKey = "next_block_seq";
inline constexpr std::string_view kNextRecordSeqKey = "next_record_seq";  // schema 4

// sequence CF: the first record sequence number of a write.
using SequenceKey = std::array<uint8_t, 8>;
inline SequenceKey sequence_key(uint64_t first_record_seq) {
  SequenceKey k;
  put_u64_be(k.data(), first_record_seq);
  return k;
}
inline std::string_view as_view(const SequenceKey& k) { return {reinterpret_cast<const char*>(k.data()), k.size()}; }
// default CF, schema 5: "segment/" + segment number (u64 BE) -> the records
// (u64 BE) and bytes (u64 BE) of that segment file that blocks still name:
// rewritten by every write that appends to it and by retention in the
// batch that deletes blocks. A segment at zero (or with no entry) that is
// no longer the active one is deleted by retention.
inline constexpr std::string_view kSegmentUsePrefix = "segment/";
inline std::string segment_use_key(uint64_t segment) {
  std::string k(kSegmentUsePrefix);
  k.resize(kSegmentUsePrefix.size() + 8);
  put_u64_be(reinterpret_cast<uint8_t*>(k.data()) + kSegmentUsePrefix.size(), segment);
  return k;
}

// ledger CF, schema 6 (record_store.h): entries by number, entry numbers by
// (key id, batch id), and each signing key's highest batch id.
inline std::string ledger_entry_key(uint64_t number) {
  std::string k(9, 'e');
  put_u64_be(reinterpret_cast<uint8_t*>(k.data()) + 1, number);
  return k;
}
inline std::string ledger_batch_key(std::string_view key_id, uint64_t batch_id) {
  std::string k = "k";
  k.push_back(static_cast<char>(key_id.size()));
  k.append(key_id);
  k.resize(k.size() + 8);
  put_u64_be(reinterpret_cast<uint8_t*>(k.data()) + k.size() - 8, batch_id);
  return k;
}
inline std::string ledger_checkpoint_key(uint64_t count) {
  std::string k(9, 'c');
  put_u64_be(reinterpret_cast<uint8_t*>(k.data()) + 1, count);
  return k;
}
// default CF: the first record sequence number the ledger covers.
inline constexpr std::string_view kLedgerSinceSeqKey = "ledger_since_seq";
inline std::string ledger_highest_key(std::string_view key_id) {
  std::string k = "h";
  k.push_back(static_cast<char>(key_id.size()));
  k.append(key_id);
  return k;
}

// ledger CF: the entry of each key's latest registration, while registered
// ("r" + 1 when signed + key id length + key id).
inline std::string ledger_registration_key(std::string_view key_id, bool is_signed) {
  std::string k = "r";
  k.push_back(static_cast<char>(is_signed ? 1 : 0));
  k.push_back(static_cast<char>(key_id.size()));
  k.append(key_id);
  return k;
}

// Written to the memtable only (no log), to keep it from being empty:
// record_store.cpp's keep_memtable_nonempty().
inline constexpr std::string_view kMemtableCanaryKey = "memtable_canary";

}  // namespace seisvault::storage::keys
