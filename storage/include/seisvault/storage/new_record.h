// NewRecord: one validated record on its way into the store, and what the
// store made of it.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "seisvault/common/sha256.h"
#include "seisvault/common/time.h"

namespace seisvault::storage {

// Non-owning: every view points at memory the caller keeps alive for the
// duration of RecordStore::write(). The store trusts these fields; the
// ingest validator is what makes them true.
struct NewRecord {
  std::string_view source_id;       // "NET.STA.LOC.CHA" (blank fields stay empty)
  TimeNs start_ns = 0;              // time of the first sample
  TimeNs end_ns = 0;                // time of the last sample (== start for 0 or 1 sample)
  double sample_rate = 0;           // Hz; 0 for records without a rate (TEXT logs)
  int64_t sample_count = 0;
  std::span<const uint8_t> bytes;   // the exact record as the station sent it
  Sha256Digest sha256{};            // SHA-256 of `bytes`, already verified
  TimeNs receive_ns = 0;            // when the server received it
  std::string_view sender;          // authenticated sender (station key id); "" for local loads
  // The record's batch: an index into write()'s `batches` (kNoLedgerBatch:
  // none), and its position in that batch (what its ledger entry's hash
  // list is indexed by).
  uint32_t ledger_batch = 0xffffffff;
  uint32_t batch_position = 0;
};

enum class WriteOutcome : uint8_t {
  kStored,     // new bytes, now in the store
  kDuplicate,  // byte-identical record already stored (or earlier in the same batch): kept once
  // Refused, not stored: the record is of a new channel, and its station
  // (NET.STA) already has StoreOptions::max_channels_per_station channels.
  // Records of the station's existing channels are still taken.
  kTooManyChannels,
  // Refused, not stored: the record is of a new channel, and its sender has
  // created StoreOptions::max_new_channels_per_sender_per_hour channels
  // within the last hour (token bucket). Resending later may succeed.
  kTooManyNewChannels,
  // Refused, not stored: the record's batch is signed and its id is at or
  // below the highest one its key has stored, and it is not that stored
  // batch again (the same record hashes): a replay, or a reused id.
  kReplayed,
};

}  // namespace seisvault::storage
