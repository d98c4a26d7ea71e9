// ServerConfig: everything seisvaultd can be told, with its default.
//
// Filled from a TOML file (--config FILE; keys are the long flag names
// without the dashes, e.g. `ingest = "tcp://0.0.0.0:16600"`), then from the
// command line, which wins. `seisvaultd --help` prints every flag with its
// default; the server logs the configuration it runs with at start-up.
#pragma once

#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

#include "seisvault/ingest/ingest_options.h"
#include "api_server.h"
#include "http_server.h"
#include "seedlink_server.h"
#include "seisvault/storage/record_store.h"
#include "seisvault/storage/store_options.h"

namespace seisvault::server {

struct ServerConfig {
  // Where everything lives: store/ (RocksDB), server.key/server.pub (CURVE
  // pair, made on first start), authorized_stations, ingest.endpoint.
  std::string data_dir = "./seisvault-data";
  // Station socket (ZeroMQ). "tcp://127.0.0.1:*" picks a free port.
  std::string ingest = "tcp://127.0.0.1:16600";
  // Query API address (gRPC). Port 0 picks a free one (written to DATA_DIR/api.endpoint).
  std::string api = "127.0.0.1:16601";
  // TLS for the query API: PEM certificate and key files (both or neither).
  std::string api_tls_cert;
  std::string api_tls_key;
  // A file whose first line is the bearer token every query must carry;
  // empty: no token.
  std::string api_token_file;
  // Off by default: an `api` address other than loopback (127.x, ::1,
  // localhost) or a unix: socket is refused unless it has TLS or a token.
  // Set it only on a network where everyone may read every waveform.
  bool api_allow_insecure = false;
  // Longest window, in days, of GetRecords, GetSamples, Verify and
  // GetAvailability, and of Subscribe's backlog (since_ns to the end of the
  // data), and of the FDSN services' requests; open bounds count from the
  // selected data's extent. 0: no limit.
  double max_window_days = 366;
  // The HTTP face: FDSN web services, /metrics, /healthz, /readyz. Port 0
  // picks a free one (written to DATA_DIR/http.endpoint). Same exposure
  // rule and token (--api-token-file) as the query API.
  std::string http = "127.0.0.1:16602";
  // HTTPS: PEM certificate and key files (both or neither).
  std::string http_tls_cert;
  std::string http_tls_key;
  // HTTP requests served at once (worker threads).
  size_t http_threads = 8;
  // The SeedLink face (docs/seedlink.md): ADDR:PORT, port 0 picks a free one
  // (written to DATA_DIR/seedlink.endpoint); "" turns it off. Off loopback
  // it needs a client allow-list (--seedlink-allow) or --api-allow-insecure.
  std::string seedlink = "127.0.0.1:18000";
  std::vector<std::string> seedlink_allow;     // client addresses / CIDR blocks; empty: all
  std::vector<std::string> seedlink_stations;  // NET_STA globs served; empty: all
  size_t seedlink_max_connections = 500;
  size_t seedlink_max_connections_per_address = 50;
  size_t seedlink_threads = 2;
  int seedlink_handshake_timeout_s = 60;
  int seedlink_stall_timeout_s = 300;
  uint64_t seedlink_queue_bytes = uint64_t{1} << 20;
  std::string seedlink_organization = "SeisVault";
  // Records and bytes one dataselect request may return; more is refused
  // with 413 before anything is sent. 0: no limit.
  uint64_t max_request_records = 10'000'000;
  uint64_t max_request_bytes = uint64_t{4} << 30;
  // "group": fsync the WAL at most every sync_interval_ms (sooner when idle),
  // acks wait for it; "every-batch": fsync after every store write.
  std::string sync = "group";
  int sync_interval_ms = 5;
  // Validation threads; 0 = one per core.
  unsigned workers = 0;
  // Batches in the pipeline at most (memory bound; backpressure beyond).
  size_t queue_batches = 64;
  uint32_t max_batch_records = 10000;
  uint64_t max_batch_bytes = 4ull << 20;
  // Records starting more than this many seconds after the server's clock are rejected.
  int64_t future_margin_s = 3600;
  // No CURVE authentication: only for loopback/ipc endpoints.
  bool insecure = false;
  std::string log_level = "info";
  // RocksDB memtable size (MiB) and count for records; block cache (MiB).
  size_t memtable_mib = 64;
  int memtables = 4;
  size_t block_cache_mib = 256;
  // Station connections open at once, per station key, and batches one
  // connection may have in the pipeline plus acks it has not read (see
  // IngestOptions).
  size_t max_connections = 1024;
  size_t max_connections_per_key = 8;
  size_t max_batches_per_connection = 32;
  // Channels (LOC.CHA) one station (NET.STA) may have, and new channels one
  // station key may create per hour (see StoreOptions).
  uint32_t max_channels_per_station = 1000;
  uint32_t max_new_channels_per_key_per_hour = 10000;
  // Free-space reserve of the store's filesystem, in bytes (flag and TOML
  // accept units: "1GiB", "512MiB"). Below it the store pauses: ingest stops
  // taking records (stations keep them) and resumes by itself once space is
  // free. 0: none. See StoreOptions::min_free_bytes.
  uint64_t min_free_space = 1ull << 30;
  // Retention (docs/storage.md): records that ended more than this many
  // days ago are removed, by whole blocks and segment files, once an hour
  // (the first pass a minute after start). 0: kept for good.
  uint32_t retention_days = 0;
  // Per network, overriding retention_days: "NET=DAYS" (0: for good), e.g.
  // ["IU=3650", "XX=7"].
  std::vector<std::string> retention_networks;
  double retention_interval_s = 3600;
  // Seconds between two signed checkpoints of the ledger's head
  // (docs/provenance.md), made only when it has grown; one more at shutdown.
  double checkpoint_interval_s = 60;

  // Registers every field as a flag (and config-file key) on `app`.
  void add_to(CLI::App& app);
  // Checks values; InvalidArgument says what to fix.
  Status validate() const;
  ingest::IngestOptions ingest_options() const;
  storage::StoreOptions store_options() const;
  ApiOptions api_options() const;
  HttpOptions http_options() const;
  SeedLinkOptions seedlink_options() const;
  // retention_days and retention_networks (validate() checks them first).
  storage::RetentionPolicy retention_policy() const;
  // The request checks both faces share; reads the token file.
  // InvalidArgument when it cannot be read or is empty.
  Result<QueryOptions> query_options() const;
  // One line per setting, for the start-up log.
  std::string describe() const;
};

}  // namespace seisvault::server
