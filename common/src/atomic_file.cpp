#include "seisvault/common/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>

namespace seisvault {

namespace {

std::string errno_text(int err) { return std::strerror(err); }

// Closes a descriptor when it goes out of scope. (client/'s UniqueFd is the
// same thing; common/ cannot depend on client/.)
class ClosingFd {
 public:
  explicit ClosingFd(int fd) : fd_(fd) {}
  ~ClosingFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  ClosingFd(const ClosingFd&) = delete;
  ClosingFd& operator=(const ClosingFd&) = delete;
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Closes now and reports close()'s error: on some file systems (NFS) a
  // write error is only reported here.
  int close() {
    const int r = ::close(fd_);
    fd_ = -1;
    return r;
  }

 private:
  int fd_;
};

Status write_all(int fd, std::span<const uint8_t> data, const std::filesystem::path& what) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::io_error(fmt::format("cannot write {}: {}", what.string(), errno_text(errno)));
    }
    data = data.subspan(static_cast<size_t>(n));
  }
  return {};
}

// Moves `tmp` to `path` only if `path` does not exist. renameat2's
// RENAME_NOREPLACE does it in one step; file systems without it get link()
// (which also refuses an existing name) and unlink().
int move_no_replace(const std::filesystem::path& tmp, const std::filesystem::path& path) {
  if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) return -1;
  if (::link(tmp.c_str(), path.c_str()) != 0) return -1;
  ::unlink(tmp.c_str());
  return 0;
}

}  // namespace

Status fsync_directory(const std::filesystem::path& dir) {
  const std::filesystem::path d = dir.empty() ? std::filesystem::path(".") : dir;
  ClosingFd fd(::open(d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid() || ::fsync(fd.get()) != 0) {
    return Status::io_error(fmt::format("cannot fsync directory {}: {}", d.string(), errno_text(errno)));
  }
  return {};
}

Status write_file_atomically(const std::filesystem::path& path, std::span<const std::span<const uint8_t>> parts,
                             const AtomicWriteOptions& options) {
  if (path.filename().empty()) return Status::invalid_argument(fmt::format("'{}' is not a file name", path.string()));
  const std::filesystem::path tmp =
      path.parent_path() / fmt::format(".{}.{}.tmp", path.filename().string(), static_cast<long>(::getpid()));
  const auto fail = [&](std::string what, int err) {
    ::unlink(tmp.c_str());
    return Status::io_error(fmt::format("cannot {}: {}", what, errno_text(err)));
  };
  {
    // Whatever is left under the temporary name (a file from a process
    // that died with this pid, or a symbolic link planted there) goes, and
    // the file is created new (O_EXCL, O_NOFOLLOW): the bytes can only land
    // in a file made here, with the mode given here.
    if (::unlink(tmp.c_str()) != 0 && errno != ENOENT) {
      return Status::io_error(fmt::format("cannot remove the leftover {}: {}", tmp.string(), errno_text(errno)));
    }
    ClosingFd fd(
        ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, options.mode & 07777));
    if (!fd.valid()) return Status::io_error(fmt::format("cannot create {}: {}", tmp.string(), errno_text(errno)));
    // The umask may have taken bits away at creation: set exactly the mode
    // asked for.
    if (::fchmod(fd.get(), options.mode & 07777) != 0) return fail(fmt::format("chmod {}", tmp.string()), errno);
    for (const auto part : parts) {
      if (auto s = write_all(fd.get(), part, tmp); !s.ok()) {
        ::unlink(tmp.c_str());
        return s;
      }
    }
    if (::fsync(fd.get()) != 0) return fail(fmt::format("fsync {}", tmp.string()), errno);
    if (fd.close() != 0) return fail(fmt::format("close {}", tmp.string()), errno);
  }
  if (options.replace) {
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
      return fail(fmt::format("rename {} to {}", tmp.string(), path.string()), errno);
    }
  } else if (move_no_replace(tmp, path) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    if (err == EEXIST) {
      return Status::invalid_argument(fmt::format("{} already exists; not overwriting it", path.string()));
    }
    return Status::io_error(fmt::format("cannot create {}: {}", path.string(), errno_text(err)));
  }
  return fsync_directory(path.parent_path());
}

Status write_file_atomically(const std::filesystem::path& path, std::string_view content,
                             const AtomicWriteOptions& options) {
  const std::array<std::span<const uint8_t>, 1> parts{
      std::span(reinterpret_cast<const uint8_t*>(content.data()), content.size())};
  return write_file_atomically(path, parts, options);
}

}  // namespace seisvault
