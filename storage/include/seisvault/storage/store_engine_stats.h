// StoreEngineStats: what RocksDB says about the store's size, memory,
// compactions and write stalls (RecordStore::engine_stats()), for /metrics.
//
// Sizes are summed over the store's column families; the other figures are
// the database's. Taken from RocksDB's properties at the moment of the call:
// each figure is current, the set is not one instant.
#pragma once

#include <cstdint>

namespace seisvault::storage {

struct StoreEngineStats {
  // Table (SST) files: all of them, including files compaction has replaced
  // that a reader still holds (rocksdb.total-sst-files-size), and those of
  // the current version only (rocksdb.live-sst-files-size).
  uint64_t sst_files_bytes = 0;
  uint64_t live_sst_files_bytes = 0;
  // Blob files (rocksdb.total-blob-file-size): 0 unless BlobDB is enabled.
  uint64_t blob_files_bytes = 0;
  // Segment files (the records' bytes since schema 5): their number and size.
  uint64_t segment_files = 0;
  uint64_t segment_files_bytes = 0;
  // RocksDB's estimate of the live data (rocksdb.estimate-live-data-size):
  // what the store would shrink to once compaction dropped every overwritten
  // or deleted entry.
  uint64_t live_data_estimate_bytes = 0;
  // Memory held by memtables, active, immutable and pinned
  // (rocksdb.size-all-mem-tables).
  uint64_t memtable_bytes = 0;
  // Bytes compaction would have to rewrite to bring every level within its
  // target (rocksdb.estimate-pending-compaction-bytes): when it grows
  // without end, compaction cannot keep up and writes will be slowed, then
  // stopped.
  uint64_t pending_compaction_bytes = 0;
  uint64_t running_compactions = 0;  // rocksdb.num-running-compactions
  uint64_t running_flushes = 0;      // rocksdb.num-running-flushes
  bool compaction_pending = false;   // rocksdb.compaction-pending (any column family)
  // Whether writes are stopped now (rocksdb.is-write-stopped), and the rate
  // writes are slowed to now, in bytes per second (0 when they are not:
  // rocksdb.actual-delayed-write-rate).
  bool write_stopped = false;
  uint64_t delayed_write_rate = 0;
  // Since the store was opened: time writers spent stalled
  // (rocksdb.dbstats: db.user_write_stall_micros), and how often writes
  // were slowed down or stopped (rocksdb.cfstats: io_stalls.total_slowdown,
  // io_stalls.total_stop, summed over the column families).
  uint64_t write_stall_micros = 0;
  uint64_t write_slowdowns = 0;
  uint64_t write_stops = 0;
  // Since the store was opened, summed over the column families and levels
  // (rocksdb.cfstats: compaction.Sum.*): flushes and compactions run, the
  // time they took, and what they wrote (to table and blob files).
  uint64_t compactions = 0;
  double compaction_seconds = 0;
  uint64_t compaction_written_bytes = 0;
  // Background errors (rocksdb.background-errors) since the store was opened.
  uint64_t background_errors = 0;
};

}  // namespace seisvault::storage
