#include "segment_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "seisvault/common/atomic_file.h"

namespace seisvault::storage {

namespace {

constexpr std::string_view kSuffix = ".seg";

std::string errno_text(int e) { return std::strerror(e); }

// "00000000000000000042.seg" -> 42; nullopt for anything else.
std::optional<uint64_t> segment_number(const std::filesystem::path& p) {
  const auto name = p.filename().string();
  if (name.size() <= kSuffix.size() || !name.ends_with(kSuffix)) return std::nullopt;
  uint64_t n = 0;
  for (size_t i = 0; i + kSuffix.size() < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(name[i] - '0');
  }
  return n;
}

}  // namespace

SegmentFiles::SegmentFiles(std::filesystem::path dir, uint64_t segment_bytes, std::shared_ptr<FaultInjection> faults)
    : dir_(std::move(dir)), segment_bytes_(std::max<uint64_t>(segment_bytes, 1)), faults_(std::move(faults)) {}

SegmentFiles::~SegmentFiles() {
  if (active_fd_ >= 0) {
    if (dirty_) ::fdatasync(active_fd_);
    ::close(active_fd_);
  }
}

SegmentFiles::ReadFile::~ReadFile() {
  if (fd >= 0) ::close(fd);
}

std::filesystem::path SegmentFiles::path_of(uint64_t segment) const {
  return dir_ / fmt::format("{:020}{}", segment, kSuffix);
}

Result<std::unique_ptr<SegmentFiles>> SegmentFiles::open(const std::filesystem::path& dir, uint64_t segment_bytes,
                                                         std::shared_ptr<FaultInjection> faults, bool read_only) {
  std::error_code ec;
  if (!read_only) std::filesystem::create_directories(dir, ec);
  if (ec) return Status::io_error(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
  std::unique_ptr<SegmentFiles> files(new SegmentFiles(dir, segment_bytes, std::move(faults)));
  uint64_t last = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const auto n = segment_number(entry.path());
    if (!n) continue;
    std::error_code size_ec;
    const auto size = std::filesystem::file_size(entry.path(), size_ec);
    last = std::max(last, *n);
    // An empty segment (a store opened and closed without a write, or a
    // crash right after a new segment was made) holds nothing any block
    // could name: gone, so restarts do not pile them up.
    if (!read_only && !size_ec && size == 0 && ::unlink(entry.path().c_str()) == 0) continue;
    files->sizes_[*n] = size_ec ? 0 : size;
  }
  if (ec) return Status::io_error(fmt::format("cannot list {}: {}", dir.string(), ec.message()));
  if (read_only) return files;  // no active segment: append() fails
  if (auto st = files->start_segment(last + 1); !st.ok()) return st;
  return files;
}

Status SegmentFiles::start_segment(uint64_t number) {
  const auto path = path_of(number);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Status::io_error(fmt::format("cannot create {}: {}", path.string(), errno_text(errno)));
  if (auto st = fsync_directory(dir_); !st.ok()) {
    ::close(fd);
    ::unlink(path.c_str());
    return st;
  }
  if (active_fd_ >= 0) {
    // Full: its bytes are synced before it is closed, so that sync() need
    // only ever look at the active segment.
    if (dirty_ && ::fdatasync(active_fd_) != 0) {
      const int e = errno;
      ::close(fd);
      ::unlink(path.c_str());
      return Status::io_error(fmt::format("cannot sync {}: {}", path_of(active_).string(), errno_text(e)));
    }
    ::close(active_fd_);
  }
  active_fd_ = fd;
  active_ = number;
  end_ = 0;
  dirty_ = false;
  std::lock_guard lock(sizes_mutex_);
  sizes_[number] = 0;
  return {};
}

Result<SegmentFiles::Position> SegmentFiles::next_position() {
  if (end_ >= segment_bytes_) {
    if (auto st = start_segment(active_ + 1); !st.ok()) return st;
  }
  return Position{active_, end_};
}

Status SegmentFiles::write_at_end(std::span<const uint8_t> bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::pwrite(active_fd_, bytes.data() + done, bytes.size() - done,
                               static_cast<off_t>(end_ + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::io_error(fmt::format("cannot append to {}: {}", path_of(active_).string(), errno_text(errno)));
    }
    done += static_cast<size_t>(n);
  }
  return {};
}

Status SegmentFiles::append(std::span<const uint8_t> bytes) {
  if (faults_ && faults_->fail_all_writes()) {
    faults_->count_failure();
    failed_bytes_ = bytes.size();
    return Status::io_error(fmt::format("cannot append to {}: {}", path_of(active_).string(), errno_text(ENOSPC)));
  }
  if (auto st = write_at_end(bytes); !st.ok()) {
    failed_bytes_ = bytes.size();
    return st;
  }
  end_ += bytes.size();
  dirty_ = dirty_ || !bytes.empty();
  std::lock_guard lock(sizes_mutex_);
  sizes_[active_] = end_;
  return {};
}

Status SegmentFiles::probe() {
  const size_t bytes = std::max<size_t>(failed_bytes_, 4096);
  if (faults_ && faults_->fail_all_writes()) {
    faults_->count_failure();
    return Status::io_error(fmt::format("cannot append to {}: {}", path_of(active_).string(), errno_text(ENOSPC)));
  }
  if (::fallocate(active_fd_, FALLOC_FL_KEEP_SIZE, static_cast<off_t>(end_), static_cast<off_t>(bytes)) == 0) return {};
  if (errno != EOPNOTSUPP) {
    return Status::io_error(fmt::format("cannot allocate {} bytes in {}: {}", bytes, path_of(active_).string(),
                                        errno_text(errno)));
  }
  const std::string zeros(bytes, '\0');
  if (auto st = write_at_end({reinterpret_cast<const uint8_t*>(zeros.data()), zeros.size()}); !st.ok()) return st;
  dirty_ = true;
  return {};
}

Status SegmentFiles::sync() {
  if (!dirty_) return {};
  if (faults_ && faults_->fail_wal_syncs()) {
    faults_->count_failure();
    return Status::io_error(fmt::format("cannot sync {}: {}", path_of(active_).string(), errno_text(EIO)));
  }
  if (::fdatasync(active_fd_) != 0) {
    return Status::io_error(fmt::format("cannot sync {}: {}", path_of(active_).string(), errno_text(errno)));
  }
  dirty_ = false;
  return {};
}

std::shared_ptr<SegmentFiles::ReadFile> SegmentFiles::reader(uint64_t segment) const {
  {
    std::shared_lock lock(readers_mutex_);
    if (auto it = readers_.find(segment); it != readers_.end()) return it->second;
  }
  std::unique_lock lock(readers_mutex_);
  if (auto it = readers_.find(segment); it != readers_.end()) return it->second;
  if (removing_.count(segment) > 0) {
    errno = ENOENT;
    return nullptr;
  }
  auto file = std::make_shared<ReadFile>();
  file->fd = ::open(path_of(segment).c_str(), O_RDONLY | O_CLOEXEC);
  if (file->fd < 0) return nullptr;
  readers_.emplace(segment, file);
  return file;
}

Status SegmentFiles::read(uint64_t segment, uint64_t offset, size_t length, std::string& out) const {
  out.resize(length);
  const auto file = reader(segment);
  if (!file) {
    if (errno == ENOENT) return Status::not_found(fmt::format("segment {} no longer exists", segment));
    return Status::io_error(fmt::format("cannot open {}: {}", path_of(segment).string(), errno_text(errno)));
  }
  size_t done = 0;
  while (done < length) {
    const ssize_t n = ::pread(file->fd, out.data() + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::io_error(fmt::format("cannot read {}: {}", path_of(segment).string(), errno_text(errno)));
    }
    if (n == 0) {
      {
        std::shared_lock lock(readers_mutex_);
        if (removing_.count(segment) > 0) {
          return Status::not_found(fmt::format("segment {} is being deleted", segment));
        }
      }
      return Status::corruption(fmt::format("{} ends at {} bytes, before the {} bytes a block names at offset {}",
                                            path_of(segment).string(), offset + done, length, offset));
    }
    done += static_cast<size_t>(n);
  }
  return {};
}

Status SegmentFiles::remove(uint64_t segment, uint64_t chunk_bytes, uint64_t bytes_per_second) {
  if (segment >= active()) return Status::invalid_argument("the active segment cannot be removed");
  const auto path = path_of(segment);
  {
    std::unique_lock lock(readers_mutex_);
    readers_.erase(segment);  // a read holding it finishes first (ReadFile closes it)
    removing_.insert(segment);
  }
  std::error_code ec;
  uint64_t size = std::filesystem::file_size(path, ec);
  if (!ec && bytes_per_second > 0 && chunk_bytes > 0 && size > chunk_bytes) {
    const auto pause = std::chrono::duration<double>(static_cast<double>(chunk_bytes) / bytes_per_second);
    while (size > chunk_bytes) {
      size -= chunk_bytes;
      if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0) break;  // unlink below deletes it all
      std::this_thread::sleep_for(pause);
    }
  }
  const bool gone = ::unlink(path.c_str()) == 0 || errno == ENOENT;
  const int e = errno;
  if (!gone) return Status::io_error(fmt::format("cannot delete {}: {}", path.string(), errno_text(e)));
  std::lock_guard lock(sizes_mutex_);
  sizes_.erase(segment);
  return {};
}

namespace {

// Copies the first `length` bytes of `from` into a new file `to`, synced.
Status copy_prefix(const std::filesystem::path& from, const std::filesystem::path& to, uint64_t length) {
  const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return Status::io_error(fmt::format("cannot open {}: {}", from.string(), errno_text(errno)));
  const int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (out < 0) {
    const int e = errno;
    ::close(in);
    return Status::io_error(fmt::format("cannot create {}: {}", to.string(), errno_text(e)));
  }
  Status st;
  loff_t in_off = 0;
  while (st.ok() && static_cast<uint64_t>(in_off) < length) {
    const ssize_t n = ::copy_file_range(in, &in_off, out, nullptr, length - static_cast<uint64_t>(in_off), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      st = Status::io_error(fmt::format("cannot copy {} to {}: {}", from.string(), to.string(),
                                        n == 0 ? "the file is shorter than expected" : errno_text(errno)));
    }
  }
  if (st.ok() && ::fsync(out) != 0) st = Status::io_error(fmt::format("cannot sync {}: {}", to.string(), errno_text(errno)));
  ::close(in);
  ::close(out);
  return st;
}

}  // namespace

Status SegmentFiles::copy_into(const std::filesystem::path& dest, uint64_t& files, uint64_t& bytes,
                               uint64_t& linked) const {
  std::error_code ec;
  std::filesystem::create_directories(dest, ec);
  if (ec) return Status::io_error(fmt::format("cannot create {}: {}", dest.string(), ec.message()));
  const uint64_t active_now = active();
  for (const auto& [segment, size] : list()) {
    const auto from = path_of(segment);
    const auto to = dest / from.filename();
    // Only full segments never change again: the active one (and any that
    // became active since) is copied.
    const bool full = segment < active_now;
    if (full && ::link(from.c_str(), to.c_str()) == 0) {
      ++linked;
    } else if (full && errno != EXDEV && errno != EPERM) {
      return Status::io_error(fmt::format("cannot link {} to {}: {}", from.string(), to.string(), errno_text(errno)));
    } else if (auto st = copy_prefix(from, to, size); !st.ok()) {
      return st;
    }
    ++files;
    bytes += size;
  }
  return fsync_directory(dest);
}

std::vector<SegmentFiles::Info> SegmentFiles::list() const {
  std::lock_guard lock(sizes_mutex_);
  std::vector<Info> out;
  out.reserve(sizes_.size());
  for (const auto& [n, size] : sizes_) out.push_back({n, size});
  return out;
}

uint64_t SegmentFiles::active() const {
  std::lock_guard lock(sizes_mutex_);
  return sizes_.empty() ? 0 : sizes_.rbegin()->first;
}

}  // namespace seisvault::storage
