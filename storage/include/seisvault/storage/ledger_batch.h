// LedgerBatch: what a station batch contributes to the store's ledger
// (common's ledger_entry.h, docs/provenance.md "The ledger"), given to
// RecordStore::write() beside its records.
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <string_view>

#include "seisvault/common/sha256.h"
#include "seisvault/common/time.h"

namespace seisvault::storage {

// NewRecord::ledger_batch of a record that belongs to no batch (a local
// load, a test): it gets no ledger entry.
inline constexpr uint32_t kNoLedgerBatch = std::numeric_limits<uint32_t>::max();

// Non-owning: the views must stay valid for the duration of write().
struct LedgerBatch {
  // Signed: the station's Ed25519 public key (32 bytes). Unsigned: the
  // authenticated sender (CURVE public key, Z85), or empty (--insecure).
  std::string_view key_id;
  bool is_signed = false;
  uint32_t protocol_version = 0;
  uint64_t batch_id = 0;
  TimeNs send_ns = 0;     // the station's send time (signed batches)
  TimeNs receive_ns = 0;  // when the server received the batch
  // 32 bytes per record of the batch, in its order: what the station
  // signed (signed batches) or the records' SHA-256 (unsigned ones). Every
  // record of the batch, whether it is among write()'s records or not.
  std::span<const uint8_t> hashes;
  std::span<const uint8_t> signature;  // 64 bytes, or empty when unsigned
};

// The ledger's head: entries 1..count, the last one's hash.
struct LedgerHead {
  uint64_t count = 0;
  Sha256Digest hash{};
};

}  // namespace seisvault::storage
