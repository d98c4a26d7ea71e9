// seisvaultd: the SeisVault server.
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "seisvault/common/logging.h"
#include "seisvault/common/record_splitter.h"
#include "seisvault/common/sha256.h"
#include "seisvault/ingest/record_validator.h"
#include "seisvault/storage/record_store.h"

namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

}  // namespace

int main(int argc, char** argv) {
  using namespace seisvault;
  CLI::App app{"seisvaultd: the SeisVault seismic data server"};
  std::string data_dir = "./seisvault-data";
  std::string log_level = "info";
  std::vector<std::string> load;
  app.add_option("--data-dir", data_dir, "directory of the record store (created if missing)")->capture_default_str();
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")->capture_default_str();
  app.add_option("--load", load, "miniSEED files to validate and store at start-up");
  CLI11_PARSE(app, argc, argv);
  if (auto s = configure_logging(log_level); !s.ok()) {
    fmt::print(stderr, "{}\n", s.message());
    return 2;
  }
  auto store = storage::RecordStore::open(data_dir);
  if (!store.ok()) {
    spdlog::critical("{}", store.status().message());
    return 1;
  }
  spdlog::info("record store open in {}", data_dir);
  ingest::RecordValidator validator;
  for (const auto& path : load) {
    std::ifstream in(path, std::ios::binary);
    std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)), {});
    size_t off = 0, stored = 0, dups = 0, rejected = 0;
    std::vector<ingest::Validation> ok;
    while (auto piece = next_piece(std::span(data).subspan(off), true)) {
      auto v = validator.validate(std::span(data).subspan(off, piece->length), now_ns());
      if (v.ok()) {
        storage::NewRecord r{v.record.source_id(), v.record.start_ns, v.record.end_ns, v.record.sample_rate,
                             v.record.sample_count, v.record.bytes, sha256(v.record.bytes), now_ns(), {}};
        storage::WriteOutcome out;
        if (auto s = (*store)->write({&r, 1}, {&out, 1}, false); !s.ok()) {
          spdlog::error("{}", s.message());
          return 1;
        }
        (out == storage::WriteOutcome::kStored ? stored : dups)++;
      } else {
        ++rejected;
        spdlog::warn("{}: byte {}: rejected ({}): {}", path, off, ingest::reject_reason_name(v.reason), v.message);
      }
      off += piece->length;
    }
    spdlog::info("{}: {} stored, {} duplicate, {} rejected", path, stored, dups, rejected);
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  spdlog::info("serving; stop with SIGTERM or Ctrl-C");
  while (!g_stop) pause();
  spdlog::info("stopping");
  return 0;
}
