// write_file_atomically (atomic_file.h) and the files written through it:
// contents, modes, refusals, leftovers, and the order of the system calls
// that make a write durable (file fsync, rename, directory fsync).
#include <catch2/catch.hpp>

#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "seisvault/common/atomic_file.h"
#include "seisvault/common/curve_keys.h"
#include "seisvault/common/station_access_list.h"
#include "support/temp_dir.h"

using namespace seisvault;

// The system calls that make a write durable, as this process makes them.
// fsync and rename are defined here, so that the calls from seisvault_common
// (a static library linked into this program) come here first; each logs
// what it is called on and then does the real call (the C library's, found
// with RTLD_NEXT). Nothing is faked: the files are really written.
namespace {

std::mutex g_log_mutex;
std::vector<std::string> g_log;  // "fsync PATH", "rename FROM TO"

std::string fd_path(int fd) {
  char buf[PATH_MAX] = {};
  const auto link = fmt::format("/proc/self/fd/{}", fd);
  const ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string("?");
}

void log_call(std::string entry) {
  std::lock_guard lock(g_log_mutex);
  g_log.push_back(std::move(entry));
}

std::vector<std::string> take_log() {
  std::lock_guard lock(g_log_mutex);
  return std::exchange(g_log, {});
}

}  // namespace

extern "C" int fsync(int fd) {
  using Fn = int (*)(int);
  static const Fn real = reinterpret_cast<Fn>(::dlsym(RTLD_NEXT, "fsync"));
  log_call("fsync " + fd_path(fd));
  return real(fd);
}

extern "C" int rename(const char* from, const char* to) noexcept {
  using Fn = int (*)(const char*, const char*);
  static const Fn real = reinterpret_cast<Fn>(::dlsym(RTLD_NEXT, "rename"));
  log_call(fmt::format("rename {} {}", from, to));
  return real(from, to);
}

namespace {

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

unsigned mode_of(const std::filesystem::path& p) {
  struct stat st{};
  REQUIRE(::lstat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

size_t entries(const std::filesystem::path& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

// The canonical form of a path, as /proc/self/fd shows it.
std::string real(const std::filesystem::path& p) { return std::filesystem::canonical(p).string(); }

// Sets the umask for one scope.
class Umask {
 public:
  explicit Umask(mode_t m) : old_(::umask(m)) {}
  ~Umask() { ::umask(old_); }
  Umask(const Umask&) = delete;
  Umask& operator=(const Umask&) = delete;

 private:
  mode_t old_;
};

}  // namespace

TEST_CASE("an atomic write leaves the whole content under the name with exactly the mode asked, whatever the umask",
          "[atomic_file]") {
  test::TempDir dir;
  Umask umask(077);
  const auto pub = dir.path() / "a.pub";
  REQUIRE(write_file_atomically(pub, "public\n", {.mode = 0644}).ok());
  CHECK(read_text(pub) == "public\n");
  CHECK(mode_of(pub) == 0644);
  const auto sec = dir.path() / "a.key";
  REQUIRE(write_file_atomically(sec, "secret\n", {.mode = 0600}).ok());
  CHECK(mode_of(sec) == 0600);
  CHECK(entries(dir.path()) == 2);  // no temporary file left
}

TEST_CASE("an atomic write of several parts writes them one after another", "[atomic_file]") {
  test::TempDir dir;
  const std::string a = "head:", b = "body";
  const std::array<std::span<const uint8_t>, 2> parts{
      std::span(reinterpret_cast<const uint8_t*>(a.data()), a.size()),
      std::span(reinterpret_cast<const uint8_t*>(b.data()), b.size())};
  REQUIRE(write_file_atomically(dir.path() / "f", parts).ok());
  CHECK(read_text(dir.path() / "f") == "head:body");
}

TEST_CASE("an atomic write replaces an existing file, or with replace=false refuses and keeps it",
          "[atomic_file]") {
  test::TempDir dir;
  const auto path = dir.path() / "list";
  REQUIRE(write_file_atomically(path, "old").ok());
  REQUIRE(write_file_atomically(path, "new").ok());
  CHECK(read_text(path) == "new");

  const Status s = write_file_atomically(path, "other", {.mode = 0600, .replace = false});
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(s.message(), Catch::Contains(path.string()) && Catch::Contains("already exists"));
  CHECK(read_text(path) == "new");
  CHECK(entries(dir.path()) == 1);

  REQUIRE(write_file_atomically(dir.path() / "fresh", "x", {.mode = 0600, .replace = false}).ok());
  CHECK(read_text(dir.path() / "fresh") == "x");
}

TEST_CASE("an atomic write that cannot be made names the file and the reason", "[atomic_file]") {
  test::TempDir dir;
  const auto path = dir.path() / "missing-dir" / "f";
  const Status s = write_file_atomically(path, "x");
  CHECK(s.code() == StatusCode::kIoError);
  CHECK_THAT(s.message(), Catch::Contains((dir.path() / "missing-dir").string()) &&
                              Catch::Contains("No such file or directory"));
  CHECK(write_file_atomically(dir.path() / "", "x").code() == StatusCode::kInvalidArgument);
}

TEST_CASE("an atomic write neither follows a link planted under its temporary name nor keeps a leftover's mode",
          "[atomic_file]") {
  test::TempDir dir;
  const auto target = dir.path() / "elsewhere";
  { std::ofstream(target) << "untouched"; }
  const auto path = dir.path() / "f";
  const auto tmp = dir.path() / fmt::format(".f.{}.tmp", static_cast<long>(::getpid()));
  std::filesystem::create_symlink(target, tmp);
  REQUIRE(write_file_atomically(path, "content", {.mode = 0600}).ok());
  CHECK(read_text(path) == "content");
  CHECK(mode_of(path) == 0600);
  CHECK(read_text(target) == "untouched");
  CHECK_FALSE(std::filesystem::exists(std::filesystem::symlink_status(tmp)));
}

TEST_CASE("an atomic write fsyncs the file, then renames it, then fsyncs the directory", "[atomic_file]") {
  test::TempDir dir;
  const auto path = dir.path() / "f";
  take_log();
  REQUIRE(write_file_atomically(path, "x").ok());
  const auto log = take_log();
  const auto tmp = fmt::format("{}/.f.{}.tmp", real(dir.path()), static_cast<long>(::getpid()));
  CHECK(log == std::vector<std::string>{"fsync " + tmp, fmt::format("rename {}/.f.{}.tmp {}", dir.path().string(),
                                                                    static_cast<long>(::getpid()), path.string()),
                                        "fsync " + real(dir.path())});
}

TEST_CASE("the authorized-stations list is saved durably: the directory is fsynced after the rename",
          "[atomic_file][station_access_list]") {
  test::TempDir dir;
  StationAccessList list;
  list.upsert({generate_curve_key_pair()->public_key, {"IU.ANMO"}, ""});
  const auto path = dir.path() / "authorized_stations";
  take_log();
  REQUIRE(list.save(path).ok());
  const auto log = take_log();
  REQUIRE(log.size() >= 2);
  CHECK_THAT(log[log.size() - 2], Catch::StartsWith("rename ") && Catch::EndsWith(" " + path.string()));
  CHECK(log.back() == "fsync " + real(dir.path()));
  CHECK(StationAccessList::load(path)->entries().size() == 1);
  CHECK(mode_of(path) == 0644);
}

TEST_CASE("key files are written durably and never over an existing one", "[atomic_file][keys]") {
  test::TempDir dir;
  const auto pair = *generate_curve_key_pair();
  take_log();
  REQUIRE(write_key_files(dir.path() / "st", pair).ok());
  const auto log = take_log();
  CHECK(std::count(log.begin(), log.end(), "fsync " + real(dir.path())) == 2);  // after each file
  CHECK(mode_of(dir.path() / "st.key") == 0600);
  CHECK(mode_of(dir.path() / "st.pub") == 0644);
  CHECK(*read_key_file(dir.path() / "st.key") == pair.secret_key);
  CHECK(*read_key_file(dir.path() / "st.pub") == pair.public_key);
  const auto other = *generate_curve_key_pair();
  CHECK(write_key_files(dir.path() / "st", other).code() == StatusCode::kInvalidArgument);
  CHECK(*read_key_file(dir.path() / "st.key") == pair.secret_key);
  CHECK(entries(dir.path()) == 2);
}
