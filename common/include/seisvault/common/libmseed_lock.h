// LibmseedLock: the one door to libmseed 2.
//
// libmseed 2.19 keeps process-global mutable state: the log callbacks, one
// static 200-byte buffer in which *every* log message is formatted (two
// threads logging at once garble each other's text), and byte-order and
// encoding overrides read from the environment on the first unpack/pack.
// So every call into libmseed in SeisVault is made while holding a
// LibmseedLock:
//   - the first lock initializes libmseed once (log routing; the environment
//     overrides are pinned to "detect from the record", so a stray
//     UNPACK_DATA_FORMAT in the environment cannot change how records are read);
//   - the lock is a process-wide mutex, so calls never overlap;
//   - messages libmseed logs while the lock is held are collected for the
//     holder (errors() / warnings()) instead of being printed; messages logged
//     outside a lock go to the project's logger.
// The cost is one uncontended mutex per record (~20 ns); libmseed's own work
// (about 1 us to parse and decode a 512-byte Steim-2 record) runs serially,
// which bounds validation near 1 M records/s on any number of cores, above
// what the store can take.
#pragma once

#include <mutex>
#include <string>
#include <string_view>

namespace seisvault {

class LibmseedLock {
 public:
  LibmseedLock();
  ~LibmseedLock();
  LibmseedLock(const LibmseedLock&) = delete;
  LibmseedLock& operator=(const LibmseedLock&) = delete;

  // Whether libmseed logged an error (its level >= 2) since the lock was
  // taken or since clear_messages().
  bool error_logged() const;
  // The first error message, trimmed ("" when none).
  std::string_view first_error() const;
  // The first warning message (level 1), trimmed ("" when none).
  std::string_view first_warning() const;
  void clear_messages();

 private:
  std::unique_lock<std::mutex> lock_;
};

}  // namespace seisvault
