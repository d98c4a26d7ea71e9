// libFuzzer target: the push client's spool reader, Spool::read
// (client/include/seisvault/client/spool.h), driven through its public API
// on a spool directory in /dev/shm (one per fuzzing process, removed at
// exit). Each input is written as a batch file, byte for byte, as a crash,
// a bad disk or a hand edit may leave it.
//
// Checks:
//   - the reader's verdict is the format's: it returns the payload exactly
//     when the file has the magic, the right payload length and the right
//     SHA-256 (computed here independently of the reader), and Corruption
//     otherwise, never another error;
//   - the returned payload is the file's bytes after the 48-byte header;
//   - the same input given to Spool::write as a payload reads back
//     unchanged (write, then read: the spool's round trip).
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "fuzz_check.h"
#include "seisvault/client/spool.h"
#include "seisvault/common/sha256.h"

namespace {

using seisvault::StatusCode;
using seisvault::client::Spool;

constexpr uint64_t kBatchId = 1;

std::filesystem::path& spool_dir() {
  static std::filesystem::path dir;
  return dir;
}

std::optional<Spool>& spool() {
  static std::optional<Spool> s;
  return s;
}

void remove_spool_dir() {
  spool().reset();
  std::error_code ec;
  std::filesystem::remove_all(spool_dir(), ec);
}

// Whether `file` is a good batch file, by the format in spool.h.
bool well_formed(std::string_view file) {
  if (file.size() < Spool::kHeaderSize || file.substr(0, 8) != "SVBATCH1") return false;
  uint64_t length = 0;
  for (int i = 0; i < 8; ++i) length |= uint64_t{static_cast<uint8_t>(file[8 + i])} << (8 * i);
  if (length != file.size() - Spool::kHeaderSize) return false;
  const auto digest = seisvault::sha256(
      {reinterpret_cast<const uint8_t*>(file.data()) + Spool::kHeaderSize, file.size() - Spool::kHeaderSize});
  return std::memcmp(digest.data(), file.data() + 16, digest.size()) == 0;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spool_dir() = fmt::format("/dev/shm/seisvault-fuzz-spool-{}", ::getpid());
  remove_spool_dir();
  auto s = Spool::open(spool_dir());
  if (!s.ok()) {
    std::fprintf(stderr, "cannot open a spool in %s: %s\n", spool_dir().c_str(), s.status().message().c_str());
    std::exit(1);
  }
  spool().emplace(std::move(*s));
  std::atexit(remove_spool_dir);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Spool& s = *spool();
  const std::string_view file(reinterpret_cast<const char*>(data), size);
  {
    std::ofstream out(s.batch_path(kBatchId), std::ios::binary | std::ios::trunc);
    out.write(file.data(), static_cast<std::streamsize>(file.size()));
    FUZZ_CHECK(out.good(), fmt::format("cannot write {}", s.batch_path(kBatchId).string()));
  }
  const auto read = s.read(kBatchId);
  const bool good = well_formed(file);
  if (good) {
    FUZZ_CHECK(read.ok(), fmt::format("a well-formed batch file is refused: {}", read.status().message()));
    FUZZ_CHECK(*read == file.substr(Spool::kHeaderSize), "the payload read is not the file's payload");
  } else {
    FUZZ_CHECK(!read.ok(), "a malformed batch file is accepted");
    FUZZ_CHECK(read.status().code() == StatusCode::kCorruption,
               fmt::format("a malformed batch file gives {}, not corruption", read.status().to_string()));
  }

  const auto written = s.write(kBatchId, {data, size});
  FUZZ_CHECK(written.ok(), fmt::format("write: {}", written.message()));
  const auto back = s.read(kBatchId);
  FUZZ_CHECK(back.ok(), fmt::format("a batch just written does not read back: {}", back.status().message()));
  FUZZ_CHECK(*back == file, "a batch just written reads back different");
  return 0;
}
