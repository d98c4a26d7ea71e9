// FaultInjection: makes the record store's file writes and syncs fail on
// demand, so that tests can show what SeisVault does when its disk fails
// (StoreOptions::faults). Never set outside tests: with no FaultInjection the
// store uses RocksDB's own file system directly.
//
// Thread-safe: switches may be flipped from any thread while the store runs;
// a switch takes effect from the next file operation on.
#pragma once

#include <atomic>
#include <cstdint>

namespace seisvault::storage {

class FaultInjection {
 public:
  // While set, appends to write-ahead log files fail with "No space left on
  // device" (what a full disk does).
  void set_fail_wal_writes(bool on) { fail_wal_writes_.store(on); }
  // While set, syncs (fsync/fdatasync) of write-ahead log files fail with an
  // I/O error (what a failing disk does).
  void set_fail_wal_syncs(bool on) { fail_wal_syncs_.store(on); }
  // While set, appends to table files (flushes and compactions) fail with
  // "No space left on device".
  void set_fail_table_writes(bool on) { fail_table_writes_.store(on); }
  // While set, every append to any file of the store fails with "No space
  // left on device": a full disk.
  void set_fail_all_writes(bool on) { fail_all_writes_.store(on); }

  bool fail_wal_writes() const { return fail_wal_writes_.load(); }
  bool fail_wal_syncs() const { return fail_wal_syncs_.load(); }
  bool fail_table_writes() const { return fail_table_writes_.load(); }
  bool fail_all_writes() const { return fail_all_writes_.load(); }

  // How many file operations were made to fail so far.
  uint64_t failures() const { return failures_.load(); }
  void count_failure() { failures_.fetch_add(1); }

 private:
  std::atomic<bool> fail_wal_writes_{false};
  std::atomic<bool> fail_wal_syncs_{false};
  std::atomic<bool> fail_table_writes_{false};
  std::atomic<bool> fail_all_writes_{false};
  std::atomic<uint64_t> failures_{0};
};

}  // namespace seisvault::storage
