// The file system the record store gives RocksDB. Internal to storage/.
//
// It forwards to RocksDB's own (POSIX) file system and adds two things:
//
// 1. A guard between appends to write-ahead log files and RecordStore's
//    sync_wal(). RocksDB's SyncWAL() syncs the current log from the calling
//    thread while the writer may be appending to it; if an append fails (a
//    full disk), the log's writer remembers the error, and a SyncWAL() that
//    then reaches it aborts the process in Debian's build of RocksDB
//    (assertions are on: WritableFileWriter's "sync_without_flush_called_").
//    So a WAL append holds WalGuard::mutex, and so does sync_wal() around
//    SyncWAL(). A log file whose append failed counts in failed_wals until
//    RocksDB closes it (its recovery retires it for a new log): while any
//    is open, sync_wal() never calls SyncWAL() and the store takes no
//    write (a write would append to it: the same abort). The cost: an
//    append waits while an fsync of the log is in progress.
// 2. Faults on demand for tests (FaultInjection), when one is given.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>

#include <rocksdb/file_system.h>

#include "seisvault/storage/fault_injection.h"

namespace seisvault::storage {

struct WalGuard {
  std::mutex mutex;                       // held across each WAL append and across sync_wal()
  std::atomic<int> failed_wals{0};        // log files an append failed on, not yet closed by RocksDB
  std::atomic<bool> sync_failed{false};   // a WAL sync failed (set for good)
};

// `faults` may be null (no injected faults). `guard` must outlive the file
// system and every file it opened.
std::shared_ptr<rocksdb::FileSystem> make_store_file_system(std::shared_ptr<rocksdb::FileSystem> base,
                                                            std::shared_ptr<WalGuard> guard,
                                                            std::shared_ptr<FaultInjection> faults);

}  // namespace seisvault::storage
