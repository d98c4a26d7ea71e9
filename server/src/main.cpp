// seisvaultd: the SeisVault server.
//
// Signals: SIGHUP reloads DATA_DIR/authorized_stations without dropping
// connections; SIGTERM and SIGINT stop reading, finish and acknowledge every
// batch already read, close the store and exit 0.
#include <pthread.h>
#include <signal.h>

#include <filesystem>
#include <fstream>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "seisvault/common/curve_keys.h"
#include "seisvault/common/logging.h"
#include "seisvault/ingest/access_control.h"
#include "seisvault/ingest/ingest_server.h"
#include "seisvault/storage/record_store.h"
#include "api_server.h"
#include "server_config.h"
#include "subscription_hub.h"

namespace {

using namespace seisvault;

void write_endpoint(const std::filesystem::path& path, const std::string& endpoint) {
  const auto tmp = path.string() + ".tmp";
  std::ofstream(tmp) << endpoint << "\n";
  std::filesystem::rename(tmp, path);
}

int run(const server::ServerConfig& cfg) {
  // Signals are taken by sigwait() below, on this thread only. Block them
  // before any thread exists (RocksDB starts its own when the store opens),
  // so that every thread inherits the mask: otherwise a second SIGTERM
  // during shutdown would be delivered to such a thread and kill the process.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  const std::filesystem::path dir = cfg.data_dir;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    spdlog::critical("cannot create data directory {}: {}", dir.string(), ec.message());
    return 1;
  }
  spdlog::info("seisvaultd starting: {}", cfg.describe());

  auto store = storage::RecordStore::open(dir / "store", cfg.store_options());
  if (!store.ok()) {
    spdlog::critical("{}", store.status().message());
    return 1;
  }

  auto options = cfg.ingest_options();
  if (!cfg.insecure) {
    bool created = false;
    auto keys = load_or_create_server_keys(dir, &created);
    if (!keys.ok()) {
      spdlog::critical("server key: {}", keys.status().message());
      return 1;
    }
    options.server_keys = *keys;
    spdlog::info("{} server key; stations need its public key: {} ({})", created ? "created the" : "loaded the",
                 keys->public_key, (dir / "server.pub").string());
  }

  const auto access_path = dir / "authorized_stations";
  if (!std::filesystem::exists(access_path)) {
    if (auto s = StationAccessList{}.save(access_path); !s.ok()) {
      spdlog::critical("{}", s.message());
      return 1;
    }
  }
  ingest::AccessControl access(access_path);
  if (auto s = access.reload(); !s.ok()) {
    spdlog::critical("{}", s.message());
    return 1;
  }
  spdlog::info("{} station key(s) authorized in {}", access.current()->entries().size(), access_path.string());

  auto api_options = cfg.api_options();
  if (!api_options.ok()) {
    spdlog::critical("{}", api_options.status().message());
    return 1;
  }
  server::SubscriptionHub hub;
  options.on_durable = [&hub](std::shared_ptr<const ingest::DurableRecords> records) {
    hub.publish(std::move(records));
  };
  auto ingest = ingest::IngestServer::start(options, **store, access);
  if (!ingest.ok()) {
    spdlog::critical("{}", ingest.status().message());
    return 1;
  }
  auto api = server::ApiServer::start(*api_options, **store, &(*ingest)->stats(), hub);
  if (!api.ok()) {
    spdlog::critical("{}", api.status().message());
    return 1;
  }
  // For scripts and tests that asked for free ports. api.endpoint first:
  // ingest.endpoint appearing means the server is fully up.
  write_endpoint(dir / "api.endpoint", (*api)->address());
  write_endpoint(dir / "ingest.endpoint", (*ingest)->endpoint());

  for (;;) {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig == SIGHUP) {
      if (auto s = access.reload_lenient(); !s.ok()) {
        spdlog::error("SIGHUP: kept the previous station list: {}", s.message());
        continue;
      }
      const auto problems = access.problems();
      for (const auto& p : problems) spdlog::error("SIGHUP: {}: {}", access_path.string(), p);
      spdlog::log(problems.empty() ? spdlog::level::info : spdlog::level::err,
                  "SIGHUP: reloaded {} ({} station key(s){})", access_path.string(),
                  access.current()->entries().size(),
                  problems.empty() ? std::string()
                                   : fmt::format("; {} line(s) left out, their keys have no access: fix the file "
                                                 "and send SIGHUP again",
                                                 problems.size()));
      continue;
    }
    spdlog::info("{}: stopping (finishing the batches already received)", sig == SIGINT ? "SIGINT" : "SIGTERM");
    break;
  }
  (*ingest)->stop();
  (*api)->stop();
  api->reset();
  ingest->reset();
  store->reset();
  std::filesystem::remove(dir / "ingest.endpoint", ec);
  std::filesystem::remove(dir / "api.endpoint", ec);
  spdlog::info("seisvaultd stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"seisvaultd: the SeisVault seismic data server"};
  server::ServerConfig cfg;
  cfg.add_to(app);
  CLI11_PARSE(app, argc, argv);
  if (auto s = configure_logging(cfg.log_level); !s.ok()) {
    fmt::print(stderr, "seisvaultd: {}\n", s.message());
    return 2;
  }
  if (auto s = cfg.validate(); !s.ok()) {
    fmt::print(stderr, "seisvaultd: {}\n", s.message());
    return 2;
  }
  return run(cfg);
}
