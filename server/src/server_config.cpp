#include "server_config.h"

#include <fstream>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "api_exposure.h"

namespace seisvault::server {

void ServerConfig::add_to(CLI::App& app) {
  app.set_config("--config", "", "TOML configuration file (flags given on the command line win)");
  app.allow_config_extras(false);
  app.add_option("--data-dir", data_dir, "data directory: store, keys, authorized_stations")->capture_default_str();
  app.add_option("--ingest", ingest, "station endpoint (ZeroMQ); tcp://127.0.0.1:* picks a free port")
      ->capture_default_str();
  app.add_option("--api", api, "query API address (gRPC); port 0 picks a free one")->capture_default_str();
  app.add_option("--api-tls-cert", api_tls_cert, "PEM certificate for TLS on the query API");
  app.add_option("--api-tls-key", api_tls_key, "PEM private key for TLS on the query API");
  app.add_option("--api-token-file", api_token_file, "file holding the bearer token queries must carry");
  app.add_flag("--api-allow-insecure", api_allow_insecure,
               "serve the query API off loopback without TLS or a token (a trusted network only)");
  app.add_option("--http", http,
                 "HTTP address: FDSN web services, /metrics, /healthz, /readyz; port 0 picks a free one")
      ->capture_default_str();
  app.add_option("--http-tls-cert", http_tls_cert, "PEM certificate for HTTPS");
  app.add_option("--http-tls-key", http_tls_key, "PEM private key for HTTPS");
  app.add_option("--http-threads", http_threads, "HTTP requests served at once")
      ->check(CLI::Range(size_t{1}, size_t{1024}))
      ->capture_default_str();
  app.add_option("--seedlink", seedlink,
                 "SeedLink 3.1/4.0 address (read-only live and windowed feeds); port 0 picks a free one, \"\" "
                 "turns it off")
      ->capture_default_str();
  app.add_option("--seedlink-allow", seedlink_allow,
                 "client addresses or CIDR blocks allowed on the SeedLink port (default: all); needed to serve "
                 "SeedLink off loopback, unless --api-allow-insecure")
      ->delimiter(',');
  app.add_option("--seedlink-stations", seedlink_stations,
                 "stations served over SeedLink, NET_STA globs such as IU_* (default: all)")
      ->delimiter(',');
  app.add_option("--seedlink-max-connections", seedlink_max_connections, "SeedLink connections open at once")
      ->check(CLI::Range(size_t{1}, size_t{100000}))
      ->capture_default_str();
  app.add_option("--seedlink-max-connections-per-address", seedlink_max_connections_per_address,
                 "SeedLink connections one client address may have open")
      ->check(CLI::Range(size_t{1}, size_t{100000}))
      ->capture_default_str();
  app.add_option("--seedlink-threads", seedlink_threads, "threads reading the store for SeedLink backfills")
      ->check(CLI::Range(size_t{1}, size_t{64}))
      ->capture_default_str();
  app.add_option("--seedlink-handshake-timeout-s", seedlink_handshake_timeout_s,
                 "close a SeedLink client that sends no command for this long before its feed starts")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  app.add_option("--seedlink-stall-timeout-s", seedlink_stall_timeout_s,
                 "close a SeedLink client that takes nothing for this long while data wait for it")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  app.add_option("--seedlink-queue-bytes", seedlink_queue_bytes,
                 "bytes queued per SeedLink client; a live client further behind continues from the store")
      ->transform(CLI::AsSizeValue(false))
      ->default_str("1MiB");
  app.add_option("--seedlink-organization", seedlink_organization, "second line of the SeedLink HELLO answer")
      ->capture_default_str();
  app.add_option("--max-request-records", max_request_records,
                 "records one dataselect request may return; more is answered 413 (0: no limit)")
      ->capture_default_str();
  app.add_option("--max-request-bytes", max_request_bytes,
                 "bytes one dataselect request may return (e.g. 4GiB); more is answered 413 (0: no limit)")
      ->transform(CLI::AsSizeValue(false))
      ->default_str("4GiB");
  app.add_option("--max-window-days", max_window_days,
                 "longest records/samples/verify/availability window, Subscribe backlog and FDSN request window "
                 "(0: no limit)")
      ->check(CLI::Range(0.0, 100000.0))
      ->capture_default_str();
  app.add_option("--sync", sync, "WAL fsync policy: group (every --sync-interval-ms) or every-batch")
      ->check(CLI::IsMember({"group", "every-batch"}))
      ->capture_default_str();
  app.add_option("--sync-interval-ms", sync_interval_ms, "group commit interval")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option("--workers", workers, "validation threads (0: one per core)")->capture_default_str();
  app.add_option("--queue-batches", queue_batches, "batches in the pipeline at most (memory bound)")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--max-batch-records", max_batch_records, "largest batch accepted, in records")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app.add_option("--max-batch-bytes", max_batch_bytes, "largest batch accepted, in bytes")
      ->check(CLI::Range(uint64_t{1024}, uint64_t{1} << 30))
      ->capture_default_str();
  app.add_option("--future-margin-s", future_margin_s, "reject records starting this far after the server's clock")
      ->check(CLI::Range(int64_t{0}, int64_t{10} * 365 * 86400))
      ->capture_default_str();
  app.add_option("--max-connections", max_connections,
                 "station connections open at once (handshakes included); more are closed at once")
      ->check(CLI::Range(size_t{1}, size_t{1} << 20))
      ->capture_default_str();
  app.add_option("--max-connections-per-key", max_connections_per_key,
                 "connections one station key may have open at once")
      ->check(CLI::Range(size_t{1}, size_t{1} << 20))
      ->capture_default_str();
  app.add_option("--max-batches-per-connection", max_batches_per_connection,
                 "batches one connection may have in the pipeline plus acks it has not read; beyond, BUSY")
      ->check(CLI::Range(size_t{1}, size_t{1} << 20))
      ->capture_default_str();
  app.add_option("--max-channels-per-station", max_channels_per_station,
                 "channels (LOC.CHA) one station (NET.STA) may have; records of further new channels are refused")
      ->check(CLI::Range(uint32_t{1}, uint32_t{1} << 24))
      ->capture_default_str();
  app.add_option("--max-new-channels-per-key-per-hour", max_new_channels_per_key_per_hour,
                 "new channels one station key may create per hour; beyond, its records of new channels wait")
      ->check(CLI::Range(uint32_t{1}, uint32_t{1} << 30))
      ->capture_default_str();
  app.add_flag("--insecure", insecure, "no CURVE authentication (loopback/ipc endpoints only)");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")->capture_default_str();
  app.add_option("--memtable-mib", memtable_mib, "RocksDB memtable size for records (MiB)")->capture_default_str();
  app.add_option("--memtables", memtables, "RocksDB memtables for records, at most")->capture_default_str();
  app.add_option("--block-cache-mib", block_cache_mib, "RocksDB block cache (MiB)")->capture_default_str();
  app.add_option("--min-free-space", min_free_space,
                 "free-space reserve of the store's filesystem (e.g. 1GiB, 512MiB, 0 for none): below it ingest "
                 "pauses (stations keep their data) and resumes by itself once space is free")
      ->transform(CLI::AsSizeValue(false))
      ->default_str("1GiB");
  app.add_option("--retention-days", retention_days,
                 "remove records that ended more than this many days ago (whole blocks and segment files, once an "
                 "interval); 0 keeps them for good")
      ->check(CLI::Range(uint32_t{0}, uint32_t{1'000'000}))
      ->capture_default_str();
  app.add_option("--retention-network", retention_networks,
                 "NET=DAYS: another retention for one network (0: for good); repeat for more (TOML: "
                 "retention-network = [\"IU=3650\", \"XX=7\"])");
  app.add_option("--retention-interval-s", retention_interval_s, "seconds between two retention passes")
      ->check(CLI::Range(1.0, 7.0 * 86400))
      ->capture_default_str();
  app.add_option("--checkpoint-interval-s", checkpoint_interval_s,
                 "seconds between two checkpoints of the ledger's head signed with the server's key "
                 "(DATA_DIR/server.sign), made when it has grown; one more at shutdown")
      ->check(CLI::Range(0.1, 86400.0))
      ->capture_default_str();
}

namespace {

// "IU=3650" -> ("IU", 3650); nullopt when it is not NET=DAYS.
std::optional<std::pair<std::string, uint32_t>> parse_network_retention(const std::string& text) {
  const auto eq = text.find('=');
  if (eq == 0 || eq == std::string::npos || eq + 1 == text.size()) return std::nullopt;
  const std::string net = text.substr(0, eq);
  if (net.size() > 8 || net.find('.') != std::string::npos) return std::nullopt;
  uint64_t days = 0;
  for (size_t i = eq + 1; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    days = days * 10 + static_cast<uint64_t>(text[i] - '0');
    if (days > 1'000'000) return std::nullopt;
  }
  return std::pair{net, static_cast<uint32_t>(days)};
}

}  // namespace

storage::RetentionPolicy ServerConfig::retention_policy() const {
  storage::RetentionPolicy p;
  p.default_days = retention_days;
  for (const auto& text : retention_networks) {
    if (auto parsed = parse_network_retention(text)) p.network_days[parsed->first] = parsed->second;
  }
  return p;
}

Status ServerConfig::validate() const {
  if (data_dir.empty()) return Status::invalid_argument("--data-dir must not be empty");
  for (const auto& text : retention_networks) {
    if (!parse_network_retention(text)) {
      return Status::invalid_argument(fmt::format(
          "--retention-network {}: give NET=DAYS, a network code (at most 8 characters, no '.') and whole days "
          "(0: for good), e.g. IU=3650",
          text));
    }
  }
  if (memtable_mib < 1 || memtables < 2) return Status::invalid_argument("--memtable-mib >= 1 and --memtables >= 2");
  // Before anything starts: refusing after the store opened would be late.
  if (auto s = check_api_exposure(api, !api_tls_cert.empty() || !api_tls_key.empty(), !api_token_file.empty(),
                                  api_allow_insecure);
      !s.ok()) {
    return s;
  }
  if (api_tls_cert.empty() != api_tls_key.empty()) {
    return Status::invalid_argument("TLS for the query API needs both --api-tls-cert and --api-tls-key");
  }
  if (http_tls_cert.empty() != http_tls_key.empty()) {
    return Status::invalid_argument("HTTPS needs both --http-tls-cert and --http-tls-key");
  }
  if (auto s = check_api_exposure(http, !http_tls_cert.empty(), !api_token_file.empty(), api_allow_insecure, "http");
      !s.ok()) {
    return s;
  }
  // SeedLink has neither TLS nor tokens: off loopback, a client allow-list.
  if (!seedlink.empty() && seedlink_allow.empty() && !api_allow_insecure && !is_loopback_api_address(seedlink)) {
    return Status::invalid_argument(fmt::format(
        "refusing to serve SeedLink on {} to every address: SeedLink has no TLS or tokens, so anyone who can "
        "reach it could read every stored waveform. Give --seedlink-allow with the client addresses or networks "
        "(e.g. 10.0.0.0/8), listen on loopback, or pass --api-allow-insecure if that network is trusted",
        seedlink));
  }
  return {};
}

SeedLinkOptions ServerConfig::seedlink_options() const {
  SeedLinkOptions o;
  o.endpoint = seedlink;
  o.allow = seedlink_allow;
  o.stations = seedlink_stations;
  o.max_connections = seedlink_max_connections;
  o.max_connections_per_address = seedlink_max_connections_per_address;
  o.threads = seedlink_threads;
  o.handshake_timeout = std::chrono::seconds(seedlink_handshake_timeout_s);
  o.stall_timeout = std::chrono::seconds(seedlink_stall_timeout_s);
  o.queue_bytes = seedlink_queue_bytes;
  o.organization = seedlink_organization;
  return o;
}

ingest::IngestOptions ServerConfig::ingest_options() const {
  ingest::IngestOptions o;
  o.endpoint = ingest;
  o.insecure = insecure;
  o.workers = workers;
  o.max_in_flight_batches = queue_batches;
  o.max_records_per_batch = max_batch_records;
  o.max_batch_bytes = max_batch_bytes;
  o.max_connections = max_connections;
  o.max_connections_per_key = max_connections_per_key;
  o.max_batches_per_connection = max_batches_per_connection;
  o.sync = sync == "every-batch" ? ingest::SyncPolicy::kEveryBatch : ingest::SyncPolicy::kGroupCommit;
  o.sync_interval = std::chrono::milliseconds(sync_interval_ms);
  o.validator.future_margin_ns = future_margin_s * kNanosPerSecond;
  return o;
}

storage::StoreOptions ServerConfig::store_options() const {
  storage::StoreOptions o;
  o.memtable_mib = memtable_mib;
  o.max_memtables = memtables;
  o.block_cache_mib = block_cache_mib;
  o.min_free_bytes = min_free_space;
  o.max_channels_per_station = max_channels_per_station;
  o.max_new_channels_per_sender_per_hour = max_new_channels_per_key_per_hour;
  return o;
}

ApiOptions ServerConfig::api_options() const {
  ApiOptions o;
  o.address = api;
  o.tls_cert_file = api_tls_cert;
  o.tls_key_file = api_tls_key;
  o.allow_insecure = api_allow_insecure;
  return o;
}

HttpOptions ServerConfig::http_options() const {
  HttpOptions o;
  o.address = http;
  o.tls_cert_file = http_tls_cert;
  o.tls_key_file = http_tls_key;
  o.allow_insecure = api_allow_insecure;
  o.threads = http_threads;
  return o;
}

Result<QueryOptions> ServerConfig::query_options() const {
  QueryOptions o;
  o.max_window_s = static_cast<int64_t>(max_window_days * 86400);
  o.max_request_records = max_request_records;
  o.max_request_bytes = max_request_bytes;
  if (!api_token_file.empty()) {
    std::ifstream in(api_token_file);
    std::getline(in, o.token);
    while (!o.token.empty() && std::isspace(static_cast<unsigned char>(o.token.back()))) o.token.pop_back();
    if (o.token.empty()) return Status::invalid_argument(fmt::format("no token in {}", api_token_file));
  }
  return o;
}

std::string ServerConfig::describe() const {
  return fmt::format(
      "data-dir={} ingest={} api={} api-tls={} api-token={} api-allow-insecure={} http={} http-tls={} "
      "http-threads={} max-request-records={} max-request-bytes={} max-window-days={} sync={} "
      "sync-interval-ms={} workers={} queue-batches={} max-batch-records={} max-batch-bytes={} future-margin-s={} "
      "insecure={} memtable-mib={} memtables={} block-cache-mib={} min-free-space={} max-connections={} "
      "max-connections-per-key={} max-batches-per-connection={} max-channels-per-station={} "
      "max-new-channels-per-key-per-hour={} seedlink={} seedlink-allow={} seedlink-stations={} "
      "seedlink-max-connections={} retention-days={} retention-network={} checkpoint-interval-s={}",
      data_dir, ingest, api, api_tls_cert.empty() ? "off" : "on", api_token_file.empty() ? "off" : "required",
      api_allow_insecure, http, http_tls_cert.empty() ? "off" : "on", http_threads, max_request_records,
      max_request_bytes, max_window_days, sync, sync_interval_ms, workers, queue_batches, max_batch_records,
      max_batch_bytes, future_margin_s, insecure, memtable_mib, memtables, block_cache_mib, min_free_space, max_connections,
      max_connections_per_key, max_batches_per_connection, max_channels_per_station,
      max_new_channels_per_key_per_hour, seedlink.empty() ? "off" : seedlink,
      seedlink_allow.empty() ? "all" : fmt::format("{}", fmt::join(seedlink_allow, ",")),
      seedlink_stations.empty() ? "all" : fmt::format("{}", fmt::join(seedlink_stations, ",")),
      seedlink_max_connections, retention_days,
      retention_networks.empty() ? "none" : fmt::format("{}", fmt::join(retention_networks, ",")),
      checkpoint_interval_s);
}

}  // namespace seisvault::server
