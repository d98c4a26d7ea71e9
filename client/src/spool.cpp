#include "seisvault/client/spool.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>
#include <string_view>
#include <system_error>

#include <fmt/format.h>

#include "seisvault/common/atomic_file.h"
#include "seisvault/common/sha256.h"

namespace seisvault::client {

namespace {

constexpr std::string_view kMagic = "SVBATCH1";
constexpr std::string_view kPrefix = "batch-";
constexpr std::string_view kSuffix = ".svb";
constexpr std::string_view kCounterFile = "next_batch_id";
// atomic_file.h writes through ".<name>.<pid>.tmp"; ".batch-<id>.tmp" is
// what versions before it left behind.
constexpr std::string_view kTempPrefixes[] = {".batch-", ".next_batch_id."};
constexpr std::string_view kTempSuffix = ".tmp";
constexpr std::string_view kLockFile = "lock";

std::string errno_text(int err) { return std::strerror(err); }

std::optional<uint64_t> parse_id(std::string_view digits) {
  if (digits.empty()) return std::nullopt;
  uint64_t id = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return id;
}

// The batch id of "batch-<digits>.svb", if `name` is one.
std::optional<uint64_t> batch_file_id(std::string_view name) {
  if (!name.starts_with(kPrefix) || !name.ends_with(kSuffix)) return std::nullopt;
  name.remove_prefix(kPrefix.size());
  name.remove_suffix(kSuffix.size());
  return parse_id(name);
}

bool is_temp_file(std::string_view name) {
  if (!name.ends_with(kTempSuffix)) return false;
  return std::any_of(std::begin(kTempPrefixes), std::end(kTempPrefixes),
                     [&](std::string_view prefix) { return name.starts_with(prefix); });
}

Result<std::vector<uint64_t>> scan(const std::filesystem::path& dir, bool delete_temp_files) {
  std::vector<uint64_t> ids;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (auto id = batch_file_id(name)) {
      ids.push_back(*id);
    } else if (delete_temp_files && is_temp_file(name)) {
      std::filesystem::remove(it->path(), ec);
      if (ec) break;
    }
  }
  if (ec) return Status::io_error(fmt::format("cannot list spool directory {}: {}", dir.string(), ec.message()));
  std::sort(ids.begin(), ids.end());
  return ids;
}

Result<uint64_t> read_counter(const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return uint64_t{1};
    return Status::io_error(fmt::format("cannot read {}: {}", path.string(), errno_text(errno)));
  }
  std::array<char, 64> buf{};
  const ssize_t n = ::read(fd.get(), buf.data(), buf.size() - 1);
  if (n < 0) return Status::io_error(fmt::format("cannot read {}: {}", path.string(), errno_text(errno)));
  std::string_view text(buf.data(), static_cast<size_t>(n));
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  auto id = parse_id(text);
  if (!id || *id == 0) {
    return Status::corruption(fmt::format(
        "{} does not hold a batch number; if the spool is otherwise intact, delete the file and it is rebuilt "
        "from the batch files",
        path.string()));
  }
  return *id;
}

}  // namespace

Spool::Spool(std::filesystem::path dir, UniqueFd lock, uint64_t next_id)
    : dir_(std::move(dir)), lock_(std::move(lock)), next_id_(next_id), reserved_end_(0) {}

Result<Spool> Spool::open(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::io_error(fmt::format("cannot create spool directory {}: {}", dir.string(), ec.message()));

  const auto lock_path = dir / kLockFile;
  UniqueFd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!lock.valid()) return Status::io_error(fmt::format("cannot open {}: {}", lock_path.string(), errno_text(errno)));
  if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return Status::invalid_argument(fmt::format(
          "spool directory {} is in use by another seisvault push; give each pusher its own spool", dir.string()));
    }
    return Status::io_error(fmt::format("cannot lock {}: {}", lock_path.string(), errno_text(errno)));
  }

  auto ids = scan(dir, /*delete_temp_files=*/true);
  if (!ids.ok()) return ids.status();
  auto counter = read_counter(dir / kCounterFile);
  if (!counter.ok()) return counter.status();
  const uint64_t next = std::max(*counter, ids->empty() ? uint64_t{1} : ids->back() + 1);
  Spool spool(dir, std::move(lock), next);
  spool.reserved_end_ = *counter;
  return spool;
}

Result<std::vector<uint64_t>> Spool::list() const { return scan(dir_, /*delete_temp_files=*/false); }

Status Spool::reserve_ids(uint64_t until) {
  if (auto s = write_file_atomically(dir_ / kCounterFile, fmt::format("{}\n", until)); !s.ok()) return s;
  reserved_end_ = until;
  return {};
}

Result<uint64_t> Spool::allocate_batch_id() {
  if (next_id_ >= reserved_end_) {
    if (auto s = reserve_ids(next_id_ + kBatchIdBlock); !s.ok()) return s;
  }
  return next_id_++;
}

Status Spool::skip_past(uint64_t id) {
  if (next_id_ > id) return {};
  next_id_ = id + 1;
  if (next_id_ >= reserved_end_) return reserve_ids(next_id_ + kBatchIdBlock);
  return {};
}

std::filesystem::path Spool::batch_path(uint64_t batch_id) const {
  return dir_ / fmt::format("{}{:020}{}", kPrefix, batch_id, kSuffix);
}

Status Spool::write(uint64_t batch_id, std::span<const uint8_t> payload) {
  std::array<uint8_t, kHeaderSize> header{};
  std::memcpy(header.data(), kMagic.data(), kMagic.size());
  uint64_t length = payload.size();
  for (int i = 0; i < 8; ++i) header[8 + i] = static_cast<uint8_t>(length >> (8 * i));
  const Sha256Digest digest = sha256(payload);
  std::memcpy(header.data() + 16, digest.data(), digest.size());
  const std::array<std::span<const uint8_t>, 2> parts{std::span<const uint8_t>(header), payload};
  return write_file_atomically(batch_path(batch_id), parts);
}

Result<std::string> Spool::read(uint64_t batch_id) const {
  const auto path = batch_path(batch_id);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return Status::not_found(fmt::format("spool file {} does not exist", path.string()));
    return Status::io_error(fmt::format("cannot open {}: {}", path.string(), errno_text(errno)));
  }
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) {
    return Status::io_error(fmt::format("cannot stat {}: {}", path.string(), errno_text(errno)));
  }
  const auto size = static_cast<uint64_t>(st.st_size);
  if (size < kHeaderSize) {
    return Status::corruption(fmt::format("spool file {} is {} bytes, shorter than its header", path.string(), size));
  }
  std::string data(size, '\0');
  size_t got = 0;
  while (got < size) {
    const ssize_t n = ::read(fd.get(), data.data() + got, size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::io_error(fmt::format("cannot read {}: {}", path.string(), errno_text(errno)));
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  if (got != size) return Status::io_error(fmt::format("{} shrank while being read", path.string()));
  if (std::string_view(data).substr(0, kMagic.size()) != kMagic) {
    return Status::corruption(fmt::format("spool file {} does not start with {}", path.string(), kMagic));
  }
  uint64_t length = 0;
  for (int i = 0; i < 8; ++i) length |= uint64_t{static_cast<uint8_t>(data[8 + i])} << (8 * i);
  if (length != size - kHeaderSize) {
    return Status::corruption(fmt::format("spool file {} says its payload is {} bytes but holds {}", path.string(),
                                          length, size - kHeaderSize));
  }
  const auto* bytes = reinterpret_cast<const uint8_t*>(data.data());
  const Sha256Digest digest = sha256({bytes + kHeaderSize, static_cast<size_t>(length)});
  if (std::memcmp(digest.data(), bytes + 16, digest.size()) != 0) {
    return Status::corruption(fmt::format("spool file {} fails its SHA-256 check", path.string()));
  }
  data.erase(0, kHeaderSize);
  return data;
}

Status Spool::remove(uint64_t batch_id) {
  const auto path = batch_path(batch_id);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Status::io_error(fmt::format("cannot delete {}: {}", path.string(), errno_text(errno)));
  }
  return {};
}

Status Spool::quarantine(uint64_t batch_id) {
  const auto path = batch_path(batch_id);
  const auto target = path.string() + ".corrupt";
  if (::rename(path.c_str(), target.c_str()) != 0) {
    return Status::io_error(fmt::format("cannot rename {} to {}: {}", path.string(), target, errno_text(errno)));
  }
  return {};
}

}  // namespace seisvault::client
