// IngestStats: counters of the ingest pipeline, safe to read from any
// thread while it runs (relaxed atomics: each counter is exact, a snapshot
// of several is not one instant). The server shows them on /metrics and in
// GetStats.
//
// Cost on the hot path: counters are relaxed atomic additions, at most a
// few per record; the histograms, queue gauges and per-station totals are
// updated once per batch or per store write, never per record.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "seisvault/common/latency_histogram.h"
#include "seisvault/common/reject_reason.h"
#include "seisvault/common/string_map.h"

namespace seisvault::ingest {

// Records and bytes stored per station ("NET.STA"), since the server
// started. The committer adds one store write's figures at a time, already
// summed per station: one lock per write, and an allocation only for a
// station never seen before. The number of stations is bounded by what the
// authorized keys may write (and, in insecure mode, by the store's channel
// limits). Thread-safe.
class StationTotals {
 public:
  struct Delta {
    std::string_view station;  // "NET.STA"; only needs to live for the call
    uint64_t records = 0;
    uint64_t bytes = 0;
  };
  struct Entry {
    std::string station;
    uint64_t records = 0;
    uint64_t bytes = 0;
  };

  void add(std::span<const Delta> deltas);
  // Every station counted so far, sorted by station.
  std::vector<Entry> snapshot() const;

 private:
  struct Totals {
    uint64_t records = 0;
    uint64_t bytes = 0;
  };
  mutable std::mutex mutex_;
  StringMap<Totals> totals_;  // guarded by mutex_
};

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
  std::atomic<uint64_t> batches_bad_signature{0};  // answered BAD_SIGNATURE: unsigned, badly signed, or no signing key
  std::atomic<uint64_t> batches_replayed{0};     // answered REPLAYED_BATCH: a signed batch under a spent id
  std::atomic<uint64_t> acks_unsent{0};         // acks waiting for a station that does not read them (now)
  std::atomic<uint64_t> store_errors{0};
  std::atomic<uint64_t> batches_deferred{0};    // answered STORE_UNAVAILABLE: not stored, the station resends
  std::atomic<uint64_t> syncs{0};               // WAL fsyncs
  std::atomic<uint64_t> store_writes{0};        // RocksDB write batches
  std::atomic<uint64_t> store_blocks{0};        // record blocks (RocksDB entries) written

  // Gauges: batches in the pipeline now, and where they wait. A batch is in
  // flight from the moment the receiver reads it until its ack goes back to
  // the receiver (the cap is IngestOptions::max_in_flight_batches); the
  // three queues are the waits between the stages (the rest of the batches
  // in flight are in a validation worker's or the committer's hands).
  std::atomic<uint64_t> batches_in_flight{0};
  std::atomic<uint64_t> validate_queue_batches{0};  // read, waiting for a validation worker
  std::atomic<uint64_t> commit_queue_batches{0};    // validated, waiting for the committer (in arrival order)
  std::atomic<uint64_t> sync_queue_batches{0};      // written to the store, waiting for the WAL fsync and the ack

  // Per batch that went through the pipeline (acks sent by the receiver
  // itself, for BUSY, oversized or malformed batches, are not counted): from
  // the receiver reading it to its ack being handed back to the receiver
  // for sending, i.e. validation, queueing, the store write and the fsync.
  LatencyHistogram ack_latency;
  // Per RecordStore::write of the committer (several batches each); under
  // SyncPolicy::kEveryBatch it includes the fsync of the WAL.
  LatencyHistogram store_write_duration;
  // Per RecordStore::sync_wal of the syncer (group commit only: under
  // kEveryBatch the fsync is part of the write).
  LatencyHistogram wal_sync_duration;

  // Records and bytes stored (not duplicates) per station.
  StationTotals stored_by_station;
};

}  // namespace seisvault::ingest
