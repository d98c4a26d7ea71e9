// StoreOptions: how the record store opens its RocksDB database.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "seisvault/storage/fault_injection.h"

namespace seisvault::storage {

struct StoreOptions {
  // Create the database when the directory holds none. Default: true.
  bool create_if_missing = true;
  // Open without changing a byte of the store (what `seisvault verify`
  // does with evidence): RocksDB read-only, no new segment file, no log
  // written; reads only (writes, retention, checkpoints fail). Only a store
  // of the current schema (older ones are migrated by a read-write open).
  bool read_only = false;

  // Size of one memtable of the records column family, in MiB, and how many
  // may exist at once. It holds the blocks' metadata (about 90 bytes per
  // record; the bytes are in segment files): 64 MiB is about 700,000
  // records. Larger ones make every insert dearer (a deeper skiplist: 256
  // MiB cost the committer 2.5 instead of 1.7 us per record), smaller ones
  // more compaction (32 MiB: the same CPU in all, write amplification 1.9x
  // instead of 1.6x). Memory is taken only as data arrives. Default: 64 MiB
  // x 4. Lower both for small machines or tests.
  size_t memtable_mib = 64;
  int max_memtables = 4;

  // Block cache shared by all column families, in MiB. Reads of recent data
  // come from memtables; the cache serves repeated reads of older data.
  // Default: 256 MiB.
  size_t block_cache_mib = 256;

  // Records of one channel that arrive in the same write are packed into
  // blocks of at most this many records / bytes (one RocksDB entry each),
  // which pays RocksDB's per-entry cost once per block instead of once per
  // record. Defaults: 32 records, 64 KiB.
  uint32_t block_max_records = 32;
  size_t block_max_bytes = 64 * 1024;

  // The records' bytes are appended to segment files (DIR/segments) of
  // about this many MiB; the blocks in RocksDB name where they are.
  // Retention deletes whole segments. Default: 256 MiB.
  size_t segment_mib = 256;

  // RocksDB background threads (flush + compaction). Default: 2.
  int background_jobs = 2;

  // Read and write table files with O_DIRECT (bypassing the page cache):
  // flushes, compactions and queries. The block cache above is then the only
  // cache of table data. Used when the filesystem supports it (checked at
  // open; tmpfs does not). Default: true.
  bool direct_io = true;

  // Obsolete files (flushed WALs, compaction inputs) are deleted in the
  // background by truncating them this many MiB at a time, at most this many
  // MiB per second. Deleting a file of hundreds of MiB at once holds up every
  // fsync on the filesystem meanwhile (ext4 with online discard: 40-60 ms per
  // 260 MiB file, and the WAL's fsync, which acknowledgements wait for,
  // waits as long). The rate must stay above what the store writes in all
  // (WAL, flushes, compactions), or deletions fall behind; past that much
  // trash (deleted_backlog_ratio x the size of the table files) files are
  // deleted at once again. 0 MiB/s: delete at once. Defaults: 16 MiB chunks,
  // 2048 MiB/s, ratio 2.
  size_t delete_chunk_mib = 16;
  size_t delete_rate_mib_per_s = 2048;
  double deleted_backlog_ratio = 2.0;

  // Free-space reserve. While the store's filesystem has fewer free bytes
  // than this, writes are refused (the store is paused: ingest waits and
  // stations keep their data); they are taken again by themselves once
  // min_free_bytes plus an eighth of it (at least 16 MiB) is free. Keep it
  // above what RocksDB needs to flush the memtables (memtable_mib x
  // max_memtables) and to finish a compaction, so that a full disk never
  // reaches RocksDB itself. 0: no reserve (RocksDB then runs into the full
  // disk: the store still pauses and resumes, through RocksDB's own
  // recovery). Default: 1 GiB.
  uint64_t min_free_bytes = 1ull << 30;

  // At most this many channels per station (NET.STA, counted over every
  // LOC.CHA of it, from the catalog at open and kept up to date). A record
  // that would create one more is refused (WriteOutcome::kTooManyChannels);
  // the station's existing channels are not affected. Real stations have
  // tens of channels, state-of-health-heavy ones a few hundred; the limit
  // stops a broken or hostile datalogger from filling the catalog with
  // made-up codes. Lowering it below what a station has refuses only new
  // channels. 0: no limit. Default: 1000.
  uint32_t max_channels_per_station = 1000;

  // At most this many new channels per hour per sender (the authenticated
  // key of NewRecord::sender; records without a sender are not counted): a
  // token bucket of that size, refilled evenly over an hour, kept in memory
  // (full again after a restart). A record that would create a channel beyond
  // it is refused (WriteOutcome::kTooManyNewChannels). One key that bridges a
  // whole network creates its channels once, so the default leaves room for
  // thousands at the first connection. 0: no limit. Default: 10,000.
  uint32_t max_new_channels_per_sender_per_hour = 10'000;

  // How long one read (RecordStore::read_records) may hold its RocksDB
  // snapshot and iterator. A reader's visitor may block for as long as its
  // client takes to take the data (a slow gRPC stream); meanwhile a snapshot
  // keeps overwritten data and an iterator keeps obsolete table files (whole
  // compaction inputs) on disk. Past this age the read lets both go between
  // two records and goes on from a fresh snapshot after the last record it
  // delivered. Lower means less held, at the cost of a seek per renewal.
  // 0: one snapshot for the whole read. Default: 10 s.
  std::chrono::milliseconds max_read_snapshot_age{10'000};

  // Tests only: file writes and syncs that fail on demand
  // (fault_injection.h). Default: none.
  std::shared_ptr<FaultInjection> faults;
};

}  // namespace seisvault::storage
