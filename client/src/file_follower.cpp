#include "seisvault/client/file_follower.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace seisvault::client {

FileFollower::FileFollower(std::filesystem::path path, size_t block_size)
    : path_(std::move(path)), block_size_(block_size) {}

Status FileFollower::read_to_end(const PieceSink& sink, uint64_t* bytes_read) {
  for (;;) {
    auto room = stream_.prepare(block_size_);
    const ssize_t n = ::read(fd_.get(), room.data(), room.size());
    if (n < 0) {
      stream_.commit(0);
      if (errno == EINTR) continue;
      return Status::io_error(fmt::format("cannot read {}: {}", path_.string(), std::strerror(errno)));
    }
    stream_.commit(static_cast<size_t>(n));
    if (n == 0) return {};
    offset_ += static_cast<uint64_t>(n);
    if (bytes_read) *bytes_read += static_cast<uint64_t>(n);
    if (auto s = stream_.drain(/*at_eof=*/false, sink); !s.ok()) return s;
  }
}

// The open file will not grow any more under this path: read its rest and
// hand everything on, including a record it ends in the middle of.
Status FileFollower::finish(const PieceSink& sink, uint64_t* bytes_read) {
  if (auto s = read_to_end(sink, bytes_read); !s.ok()) return s;
  if (auto s = stream_.drain(/*at_eof=*/true, sink); !s.ok()) return s;
  fd_.reset();
  stream_.reset();
  offset_ = 0;
  ++restarts_;
  return {};
}

Status FileFollower::poll(const PieceSink& sink, uint64_t* bytes_read) {
  struct stat st{};
  const bool exists = ::stat(path_.c_str(), &st) == 0;
  if (!exists && errno != ENOENT) {
    return Status::io_error(fmt::format("cannot stat {}: {}", path_.string(), std::strerror(errno)));
  }
  if (fd_.valid() && (!exists || st.st_dev != dev_ || st.st_ino != ino_)) {
    if (auto s = finish(sink, bytes_read); !s.ok()) return s;
  }
  if (!exists) return {};
  if (!fd_.valid()) {
    fd_ = UniqueFd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd_.valid()) {
      if (errno == ENOENT) return {};  // gone between stat and open: next time
      return Status::io_error(fmt::format("cannot open {}: {}", path_.string(), std::strerror(errno)));
    }
    struct stat opened{};
    if (::fstat(fd_.get(), &opened) != 0) {
      return Status::io_error(fmt::format("cannot stat {}: {}", path_.string(), std::strerror(errno)));
    }
    dev_ = opened.st_dev;
    ino_ = opened.st_ino;
    offset_ = 0;
    stream_.reset();
  } else {
    struct stat now{};
    if (::fstat(fd_.get(), &now) != 0) {
      return Status::io_error(fmt::format("cannot stat {}: {}", path_.string(), std::strerror(errno)));
    }
    if (static_cast<uint64_t>(now.st_size) < offset_) {
      // Truncated in place: what was held back belongs to the old content.
      if (auto s = stream_.drain(/*at_eof=*/true, sink); !s.ok()) return s;
      stream_.reset();
      offset_ = 0;
      ++restarts_;
      if (::lseek(fd_.get(), 0, SEEK_SET) < 0) {
        return Status::io_error(fmt::format("cannot rewind {}: {}", path_.string(), std::strerror(errno)));
      }
    }
  }
  Status s = read_to_end(sink, bytes_read);
  stream_.shrink();
  return s;
}

}  // namespace seisvault::client
