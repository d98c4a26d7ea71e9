// seisvaultd: the SeisVault server.
//
// Signals: SIGHUP reloads DATA_DIR/authorized_stations without dropping
// connections; SIGTERM and SIGINT stop reading, finish and acknowledge every
// batch already read, close the store and exit 0.
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>

#include <CLI/CLI.hpp>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "seisvault/common/atomic_file.h"
#include "seisvault/common/curve_keys.h"
#include "seisvault/common/signing_keys.h"
#include "seisvault/common/logging.h"
#include "seisvault/ingest/access_control.h"
#include "seisvault/ingest/ingest_server.h"
#include "seisvault/storage/record_store.h"
#include "api_server.h"
#include "server_config.h"
#include "http_server.h"
#include "server_metrics.h"
#include "station_metadata.h"
#include "query_service.h"
#include "retention_runner.h"
#include "ledger_checkpointer.h"
#include "station_key_events.h"
#include "subscription_hub.h"

namespace {

using namespace seisvault;

void write_endpoint(const std::filesystem::path& path, const std::string& endpoint) {
  if (auto s = write_file_atomically(path, endpoint + "\n"); !s.ok()) spdlog::error("{}", s.message());
}

// Station keys whose entry says neither how they sign nor that they may
// send unsigned batches (lines written before stations signed): each
// batch of theirs is refused, so the operator hears of them at start and
// at every reload.
void warn_unsigned_keys(const StationAccessList& list, const std::filesystem::path& path) {
  std::vector<std::string> keys;
  for (const auto& e : list.entries()) {
    if (e.signing_key.empty() && !e.allow_unsigned) keys.push_back(e.public_key);
  }
  if (keys.empty()) return;
  spdlog::warn("{} station key(s) in {} have no signing key and are not marked allow-unsigned, so every batch of "
               "theirs is refused (BAD_SIGNATURE): run seisvault authorize for each with the station's "
               "--signing-key PREFIX.sign.pub (seisvault keygen --signing-only PREFIX makes one), or "
               "--allow-unsigned while it cannot sign, then send SIGHUP: {}",
               keys.size(), path.string(), fmt::join(keys, ", "));
}

// Writes the key events that take the ledger's registered keys to the
// list's (station_key_events.h) and logs how many; the store's error
// otherwise.
Status log_key_changes(storage::RecordStore& store, const StationAccessList& list, TimeNs registered_at,
                       TimeNs revoked_at, std::string_view context) {
  auto counts = server::record_station_key_changes(store, list, registered_at, revoked_at);
  if (!counts.ok()) return counts.status();
  if (counts->registered + counts->revoked > 0) {
    spdlog::info("{}ledger: {} station key(s) registered, {} revoked", context, counts->registered, counts->revoked);
  }
  return {};
}

// The data directory holds the store, the server's secret key and the list
// of station keys: only the server's user may enter it.
Status prepare_data_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::io_error(fmt::format("cannot create data directory {}: {}", dir.string(), ec.message()));
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    return Status::io_error(fmt::format("cannot read data directory {}: {}", dir.string(), std::strerror(errno)));
  }
  const mode_t mode = st.st_mode & 07777;
  if (mode != 0700) {
    if (::chmod(dir.c_str(), 0700) != 0) {
      return Status::io_error(
          fmt::format("cannot restrict data directory {} to mode 0700: {}", dir.string(), std::strerror(errno)));
    }
    spdlog::info("data directory {}: mode {:04o} -> 0700 (only the server's user may read the store and keys)",
                 dir.string(), mode);
  }
  return {};
}

// Each station connection is a file descriptor, and RocksDB keeps its
// files open: raise the soft limit toward the hard one.
void raise_open_file_limit(size_t connections) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  const rlim_t wanted = static_cast<rlim_t>(connections) + 1024;
  if (lim.rlim_cur < wanted) {
    lim.rlim_cur = std::min(lim.rlim_max, wanted);
    ::setrlimit(RLIMIT_NOFILE, &lim);
  }
  if (lim.rlim_cur < wanted) {
    spdlog::warn("open-file limit {} is below --max-connections {} plus the store's files: raise it (ulimit -n, "
                 "LimitNOFILE= in the systemd unit) or lower --max-connections",
                 lim.rlim_cur, connections);
  }
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
  if (auto s = prepare_data_dir(dir); !s.ok()) {
    spdlog::critical("{}", s.message());
    return 1;
  }
  spdlog::info("seisvaultd starting: {}", cfg.describe());
  raise_open_file_limit(cfg.max_connections);

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
  if (!cfg.insecure) {
    warn_unsigned_keys(*access.current(), access_path);
    const TimeNs at = now_ns();
    if (auto st = log_key_changes(**store, *access.current(), at, at, ""); !st.ok()) {
      // Without them, batches of a key the ledger does not hold registered
      // would fail verification: no ingest until they are written.
      spdlog::critical("writing the station key changes of {} to the ledger failed: {} (seisvaultd does not start "
                       "without them: put the store right, e.g. free space, then start it again)",
                       access_path.string(), st.message());
      return 1;
    }
  }

  auto query_options = cfg.query_options();
  if (!query_options.ok()) {
    spdlog::critical("{}", query_options.status().message());
    return 1;
  }
  const server::QueryService query(*query_options, **store);
  // Station metadata (StationXML loaded with `seisvault inventory load`),
  // for the FDSN station service.
  auto station_metadata = server::StationMetadata::open(**store);
  if (!station_metadata.ok()) {
    spdlog::critical("station metadata: {}", station_metadata.status().message());
    return 1;
  }
  {
    const auto inv = (*station_metadata)->current();
    spdlog::info("station metadata: {} network(s), {} station(s), {} channel(s){}", inv->network_count(),
                 inv->station_count(), inv->channel_count(),
                 inv->network_count() == 0 ? " (the FDSN station service answers no data until some is loaded)" : "");
  }
  server::SubscriptionHub hub;
  // The SeedLink face starts before ingest: every record it finds in the
  // store is durable, and every later one reaches it through on_durable.
  std::unique_ptr<server::SeedLinkServer> seedlink;
  if (!cfg.seedlink.empty()) {
    auto s = server::SeedLinkServer::start(cfg.seedlink_options(), **store, SEISVAULT_VERSION);
    if (!s.ok()) {
      spdlog::critical("{}", s.status().message());
      return 1;
    }
    seedlink = std::move(s).value();
  }
  server::SeedLinkServer* seedlink_ptr = seedlink.get();
  options.on_durable = [&hub, seedlink_ptr](std::shared_ptr<const ingest::DurableRecords> records) {
    if (seedlink_ptr) seedlink_ptr->publish(records);
    hub.publish(std::move(records));
  };
  auto ingest = ingest::IngestServer::start(options, **store, access);
  if (!ingest.ok()) {
    spdlog::critical("{}", ingest.status().message());
    return 1;
  }
  // Retention: the first pass a minute after start (or one interval, when
  // shorter), then once an interval.
  const auto retention_interval =
      std::chrono::milliseconds(static_cast<int64_t>(cfg.retention_interval_s * 1000));
  // Both stopped before the store closes (below).
  std::optional<server::RetentionRunner> retention;
  retention.emplace(**store, cfg.retention_policy(), retention_interval,
                    std::min<std::chrono::milliseconds>(retention_interval, std::chrono::minutes(1)));
  // The ledger's head, signed with the server's own key on a schedule and
  // at shutdown (once ingest has stopped, below).
  bool signing_created = false;
  auto server_signing = load_or_create_server_signing_key(dir, &signing_created);
  if (!server_signing.ok()) {
    spdlog::critical("server signing key: {}", server_signing.status().message());
    return 1;
  }
  spdlog::info("{} the server's signing key (ledger checkpoints): {} ({})", signing_created ? "created" : "loaded",
               signing_key_text(server_signing->public_key), (dir / "server.sign.pub").string());
  std::optional<server::LedgerCheckpointer> checkpointer;
  checkpointer.emplace(**store, *server_signing,
                       std::chrono::milliseconds(static_cast<int64_t>(cfg.checkpoint_interval_s * 1000)));
  server::ApiMetrics api_metrics;
  auto api = server::ApiServer::start(cfg.api_options(), query, &(*ingest)->stats(), hub, &access, &api_metrics,
                                     station_metadata->get());
  if (!api.ok()) {
    spdlog::critical("{}", api.status().message());
    return 1;
  }
  server::HttpHooks hooks;
  const storage::RecordStore* store_ptr = store->get();
  const ingest::IngestStats* ingest_stats = &(*ingest)->stats();
  hooks.metrics = [store_ptr, ingest_stats, &hub, &api_metrics, seedlink_ptr, &retention] {
    server::MetricsSources sources;
    sources.retention = retention ? &*retention : nullptr;
    sources.seedlink = seedlink_ptr;
    sources.ingest = ingest_stats;
    sources.store = store_ptr;
    sources.hub = &hub;
    sources.api = &api_metrics;
    return server::render_metrics(sources);
  };
  hooks.observe = [&api_metrics](std::string_view route, int status, double seconds) {
    api_metrics.observe("http", route, status, seconds);
  };
  hooks.station_metadata = station_metadata->get();
  // Ready: the store takes writes, and its filesystem has the free-space
  // reserve now (looked at on each probe: the store itself looks when it
  // writes, and an idle server's disk may fill from elsewhere).
  hooks.ready = [store_ptr] {
    const auto h = store_ptr->health();
    if (h.state != storage::StoreState::kOk) {
      return Status::unavailable(fmt::format("store {}: {}", storage::store_state_name(h.state), h.message));
    }
    const uint64_t reserve = store_ptr->options().min_free_bytes;
    std::error_code ec;
    const auto space = std::filesystem::space(store_ptr->dir(), ec);
    if (reserve > 0 && !ec && space.available < reserve) {
      return Status::unavailable(fmt::format("store: {} MiB free on its filesystem, below the reserve of {} MiB: "
                                             "ingest pauses at its next write",
                                             space.available >> 20, reserve >> 20));
    }
    return Status();
  };
  auto http = server::HttpServer::start(cfg.http_options(), query, std::move(hooks));
  if (!http.ok()) {
    spdlog::critical("{}", http.status().message());
    return 1;
  }
  // For scripts and tests that asked for free ports. api.endpoint and
  // http.endpoint first: ingest.endpoint appearing means the server is fully up.
  write_endpoint(dir / "api.endpoint", (*api)->address());
  write_endpoint(dir / "http.endpoint", (*http)->address());
  if (seedlink) write_endpoint(dir / "seedlink.endpoint", seedlink->address());
  write_endpoint(dir / "ingest.endpoint", (*ingest)->endpoint());

  for (;;) {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig == SIGHUP) {
      // Registrations are dated before the new list is in force,
      // revocations after (station_key_events.h).
      const TimeNs registered_at = now_ns();
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
      if (!cfg.insecure) {
        warn_unsigned_keys(*access.current(), access_path);
        if (auto st = log_key_changes(**store, *access.current(), registered_at, now_ns(), "SIGHUP: "); !st.ok()) {
          spdlog::error("SIGHUP: writing the station key changes to the ledger failed: {} (the new list is in force; "
                        "verification reports the batches of keys the ledger does not hold registered: put the store "
                        "right and send SIGHUP again)",
                        st.message());
        }
      }
      continue;
    }
    spdlog::info("{}: stopping (finishing the batches already received)", sig == SIGINT ? "SIGINT" : "SIGTERM");
    break;
  }
  (*ingest)->stop();
  (*http)->stop();
  (*api)->stop();
  http->reset();
  api->reset();
  ingest->reset();
  seedlink.reset();
  retention.reset();
  checkpointer.reset();  // its last checkpoint covers everything ingest stored
  store->reset();
  std::filesystem::remove(dir / "ingest.endpoint", ec);
  std::filesystem::remove(dir / "api.endpoint", ec);
  std::filesystem::remove(dir / "http.endpoint", ec);
  std::filesystem::remove(dir / "seedlink.endpoint", ec);
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
