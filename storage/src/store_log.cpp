#include "store_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>

#include <spdlog/spdlog.h>

namespace seisvault::storage {

namespace {

constexpr uint64_t kRotateBytes = 64ull << 20;
constexpr size_t kMaxLine = 16 * 1024;

int open_append(const std::filesystem::path& p) {
  return ::open(p.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
}

const char* level_name(rocksdb::InfoLogLevel level) {
  switch (level) {
    case rocksdb::InfoLogLevel::DEBUG_LEVEL: return "DEBUG";
    case rocksdb::InfoLogLevel::INFO_LEVEL: return "INFO";
    case rocksdb::InfoLogLevel::WARN_LEVEL: return "WARN";
    case rocksdb::InfoLogLevel::ERROR_LEVEL: return "ERROR";
    case rocksdb::InfoLogLevel::FATAL_LEVEL: return "FATAL";
    case rocksdb::InfoLogLevel::HEADER_LEVEL: return "HEADER";
    default: return "?";
  }
}

}  // namespace

StoreLog::StoreLog(const std::filesystem::path& dir) : path_(dir / "LOG") {
  fd_ = open_append(path_);
  struct stat st {};
  if (fd_ >= 0 && ::fstat(fd_, &st) == 0) size_ = static_cast<uint64_t>(st.st_size);
}

StoreLog::~StoreLog() {
  if (fd_ >= 0) ::close(fd_);
}

void StoreLog::Logv(const char* format, va_list ap) { write_line(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap); }

void StoreLog::Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) {
  if (level < GetInfoLogLevel()) return;
  write_line(level, format, ap);
}

void StoreLog::write_line(rocksdb::InfoLogLevel level, const char* format, va_list ap) {
  char line[kMaxLine];
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  tm utc{};
  ::gmtime_r(&ts.tv_sec, &utc);
  int n = std::snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ %s ", utc.tm_year + 1900,
                        utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, ts.tv_nsec / 1000,
                        level_name(level));
  const size_t prefix = static_cast<size_t>(n);
  va_list copy;
  va_copy(copy, ap);
  n = std::vsnprintf(line + prefix, sizeof line - prefix - 1, format, copy);
  va_end(copy);
  size_t len = prefix + (n < 0 ? 0 : std::min(static_cast<size_t>(n), sizeof line - prefix - 2));
  if (len > 0 && line[len - 1] != '\n') line[len++] = '\n';
  if (level >= rocksdb::InfoLogLevel::WARN_LEVEL && level != rocksdb::InfoLogLevel::HEADER_LEVEL) {
    spdlog::warn("rocksdb: {}", std::string_view(line + prefix, len - prefix - 1));
  }
  std::lock_guard lock(mutex_);
  if (fd_ < 0) return;
  // A full disk drops the line; nothing here may fail louder than that.
  const ssize_t w = ::write(fd_, line, len);
  if (w > 0) size_ += static_cast<uint64_t>(w);
  rotate_if_large();
}

void StoreLog::rotate_if_large() {
  if (size_ < kRotateBytes) return;
  auto old = path_;
  old += ".old";
  ::rename(path_.c_str(), old.c_str());
  ::close(fd_);
  fd_ = open_append(path_);
  size_ = 0;
}

}  // namespace seisvault::storage
