// IngestStats: counters of the ingest pipeline, safe to read from any
// thread while it runs (relaxed atomics: each counter is exact, a snapshot
// of several is not one instant).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "seisvault/common/reject_reason.h"

namespace seisvault::ingest {

struct IngestStats {
  std::atomic<uint64_t> batches{0};            // batches acknowledged
  std::atomic<uint64_t> records_received{0};
  std::atomic<uint64_t> bytes_received{0};     // miniSEED bytes in received records
  std::atomic<uint64_t> records_stored{0};
  std::atomic<uint64_t> bytes_stored{0};
  std::atomic<uint64_t> records_duplicate{0};
  std::atomic<uint64_t> records_rejected{0};
  std::array<std::atomic<uint64_t>, kRejectReasonCount> rejected_by_reason{};
  std::atomic<uint64_t> malformed_messages{0};  // frames that were not an IngestBatch
  std::atomic<uint64_t> connections{0};         // station connections open now (handshakes included)
  std::atomic<uint64_t> auth_failures{0};       // handshakes refused (unknown key)
  std::atomic<uint64_t> connections_refused{0}; // closed at once: over max_connections or max_connections_per_key
  std::atomic<uint64_t> connections_revoked{0}; // closed because their key was removed from the list
  std::atomic<uint64_t> batches_busy{0};        // answered BUSY: the connection had too many batches or unread acks
  std::atomic<uint64_t> batches_oversized{0};   // answered OVERSIZED_BATCH
  std::atomic<uint64_t> acks_unsent{0};         // acks waiting for a station that does not read them (now)
  std::atomic<uint64_t> store_errors{0};
  std::atomic<uint64_t> batches_deferred{0};    // answered STORE_UNAVAILABLE: not stored, the station resends
  std::atomic<uint64_t> syncs{0};               // WAL fsyncs
  std::atomic<uint64_t> store_writes{0};        // RocksDB write batches
  std::atomic<uint64_t> store_blocks{0};        // record blocks (RocksDB entries) written
};

}  // namespace seisvault::ingest
