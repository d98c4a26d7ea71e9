#include "store_access.h"

#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include <fmt/format.h>

namespace seisvault::cli {

std::filesystem::path store_dir(const std::string& data_dir) { return std::filesystem::path(data_dir) / "store"; }

storage::StoreOptions admin_store_options(bool create_if_missing) {
  storage::StoreOptions options;
  options.create_if_missing = create_if_missing;
  options.memtable_mib = 16;
  options.max_memtables = 2;
  options.block_cache_mib = 8;
  options.background_jobs = 1;
  options.min_free_bytes = 0;
  return options;
}

std::string user_name(uid_t uid) {
  if (const passwd* pw = ::getpwuid(uid)) return pw->pw_name;
  return fmt::format("uid {}", uid);
}

std::optional<pid_t> store_lock_holder(const std::filesystem::path& store) {
  const auto lock_file = store / "LOCK";
  const int fd = ::open(lock_file.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = 0;
  fl.l_len = 0;
  const int rc = ::fcntl(fd, F_GETLK, &fl);
  ::close(fd);  // this process holds no lock on the file: closing releases nothing
  if (rc != 0 || fl.l_type == F_UNLCK) return std::nullopt;
  return fl.l_pid;
}

}  // namespace seisvault::cli
