// libFuzzer target: `seisvault verify --bundle` on a hostile manifest
// (client/include/seisvault/client/export_bundle.h). A bundle comes from
// whoever hands it over: its manifest.json is untrusted input.
//
// The input is written as manifest.json into a bundle directory that also
// holds a data file (data/IU.COLA.00.LH1.mseed, 18,432 bytes: the seed's
// file name and size, other bytes), which the manifest may or may not list.
//
// Checks: verify_bundle() never crashes, hangs or allocates what the
// manifest claims without the bytes to back it; it refuses a manifest
// that is not one with a message, and every problem it reports has a
// kind, a place and a message. A report without problems must have
// checked at least the one checkpoint it needs.
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "fuzz_check.h"
#include "seisvault/client/export_bundle.h"

namespace {

const std::filesystem::path& bundle_dir() {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("seisvault-fuzz-bundle-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d / "data");
    std::ofstream(d / "data" / "IU.COLA.00.LH1.mseed", std::ios::binary) << std::string(18432, 'r');
    return d;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto& dir = bundle_dir();
  {
    std::ofstream out(dir / "manifest.json", std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  auto report = seisvault::client::verify_bundle(dir, std::nullopt);
  if (!report.ok()) {
    FUZZ_CHECK(!report.status().message().empty(), "a manifest refused without a message");
    return 0;
  }
  for (const auto& p : report->first_problems) {
    FUZZ_CHECK(!p.kind.empty() && !p.where.empty() && !p.what.empty(), "a problem without kind, place or message");
  }
  if (report->ok()) FUZZ_CHECK(report->checkpoint_count > 0, "a bundle verified without a checkpoint");
  return 0;
}
