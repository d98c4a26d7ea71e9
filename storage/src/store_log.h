// StoreLog: RocksDB's informational log (DIR/LOG), written so that a full
// disk cannot crash the server. Internal to storage/.
//
// RocksDB's own log writer goes through its WritableFileWriter, which in
// Debian's build (assertions on) aborts the process when it is used again
// after a failed write. On a full disk the LOG file's first "No space left
// on device", followed by the error handler's next log line, killed
// seisvaultd (WritableFileWriter::AssertFalseAndGetStatusForPrevError). This
// logger writes the same lines with plain write(2) and drops what does not
// fit; warnings and errors also go to the server's log. The file is rotated
// to LOG.old at 64 MiB. Thread-safe (RocksDB logs from its background
// threads).
#pragma once

#include <cstdarg>
#include <filesystem>
#include <memory>
#include <mutex>

#include <rocksdb/env.h>

namespace seisvault::storage {

class StoreLog : public rocksdb::Logger {
 public:
  // Opens (appends to) DIR/LOG. Never fails: without a file, lines are
  // dropped (warnings still reach the server's log).
  explicit StoreLog(const std::filesystem::path& dir);
  ~StoreLog() override;

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override;
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override;

 private:
  void write_line(rocksdb::InfoLogLevel level, const char* format, va_list ap);
  void rotate_if_large();  // under mutex_

  std::filesystem::path path_;
  std::mutex mutex_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

}  // namespace seisvault::storage
