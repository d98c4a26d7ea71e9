// StoredRecord: a read-only view of one record as the store returns it.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "seisvault/common/time.h"

namespace seisvault::storage {

// Views are valid only inside the callback that receives the record.
struct StoredRecord {
  uint32_t channel_id = 0;
  std::string_view source_id;          // "NET.STA.LOC.CHA"
  TimeNs start_ns = 0;
  TimeNs end_ns = 0;                   // time of the last sample
  TimeNs receive_ns = 0;
  double sample_rate = 0;              // samples per second as the record's header gives it (0: none)
  std::string_view sender;             // who delivered it ("" for local loads)
  const uint8_t* sha256 = nullptr;     // 32 bytes: the SHA-256 computed on arrival
  std::span<const uint8_t> bytes;      // byte-identical to what was ingested
  // The record's commit sequence number (RecordStore::write): unique,
  // assigned in commit order; 0 for a record stored before schema 4.
  uint64_t sequence = 0;
  // The ledger entry of the batch that stored it, and its position in that
  // batch (docs/provenance.md); 0 for a record stored before schema 6 or
  // outside any batch (a local load).
  uint64_t ledger_entry = 0;
  uint32_t batch_position = 0;
};

}  // namespace seisvault::storage
