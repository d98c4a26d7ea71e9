// IngestOptions: how the ingest pipeline listens, validates and commits.
// The documentation of each knob lives here; seisvaultd fills it from its
// configuration file and flags.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>

#include "seisvault/common/curve_keys.h"
#include "seisvault/ingest/durable_records.h"
#include "seisvault/ingest/record_validator.h"

namespace seisvault::ingest {

enum class SyncPolicy {
  kEveryBatch,   // fsync the WAL after every store write, before its acks
  kGroupCommit,  // fsync at most every sync_interval (sooner when idle); acks wait for it
};

struct IngestOptions {
  // ZeroMQ endpoint of the station socket. "tcp://127.0.0.1:*" binds an
  // ephemeral port; the bound endpoint is reported by IngestServer::endpoint().
  // Default: tcp://127.0.0.1:16600 (loopback: open it up deliberately).
  std::string endpoint = "tcp://127.0.0.1:16600";

  // No CURVE: anyone who can connect may write any station. Only for
  // loopback and ipc:// endpoints (start() refuses anything else).
  bool insecure = false;

  // The server's CURVE key pair (required unless insecure).
  CurveKeyPair server_keys;

  // The authorized-stations file (see common/station_access_list.h).
  std::filesystem::path access_list_path;

  // Validator threads. Default 0: one per core.
  unsigned workers = 0;

  // Batches received but not yet acknowledged, at most, from all stations.
  // When reached the receiver stops reading, ZeroMQ's high-water marks fill,
  // and stations are pushed back (their spools keep the data). Bounds the
  // pipeline's memory to about max_in_flight_batches x max_batch_bytes.
  // Default: 64.
  size_t max_in_flight_batches = 64;

  // Per-batch limits, announced to stations in every ack. A batch over them
  // is answered OVERSIZED_BATCH as a whole (the station splits it), without
  // its records being parsed. Defaults: 10000 records, 4 MiB (the station
  // client's own default batch size).
  uint32_t max_records_per_batch = 10000;
  uint64_t max_batch_bytes = 4ull << 20;

  // Messages larger than this are dropped by ZeroMQ, which closes the
  // connection, before any memory is spent on them; a message between
  // max_batch_bytes and this is answered OVERSIZED_BATCH. Default 0: twice
  // max_batch_bytes.
  int64_t max_message_bytes = 0;

  // Station connections open at once (handshakes in progress included);
  // beyond it a new connection is closed at once. Each connection may hold
  // up to about 5 x max_message_bytes in ZeroMQ's buffers. Default: 1024.
  size_t max_connections = 1024;
  // Connections one station key may have open at once. Default: 8.
  size_t max_connections_per_key = 8;
  // Batches one connection may have in the pipeline plus acknowledgements
  // it has not read; beyond it, a batch is answered BUSY without being read
  // (the station resends it later). A station that never reads its acks is
  // thus held to this many. Default: 32.
  size_t max_batches_per_connection = 32;
  // A connection must finish its CURVE handshake within this. Default: 10 s.
  std::chrono::milliseconds handshake_timeout{10'000};

  SyncPolicy sync = SyncPolicy::kGroupCommit;
  // Group commit interval. Default: 5 ms (with 10 ms, batches waited twice
  // as long for their fsync, and a client with a given window of batches in
  // flight got less throughput: bench_ingest, 6 batches of 1,000 in flight,
  // 266-293 k records/s at 10 ms, 329 k at 5 ms).
  std::chrono::milliseconds sync_interval{5};

  // Records from several batches are written to the store together, up to
  // this many per RocksDB write batch. Default: 20000.
  size_t max_records_per_write = 20000;

  ValidatorOptions validator;

  // Called with the records that just became durable (status STORED;
  // duplicates and rejections are not passed), after their acks went out.
  // It runs on the pipeline's syncer thread, so it must return at once and
  // never block: take the pointer (it keeps the records alive) and do the
  // work elsewhere.
  std::function<void(std::shared_ptr<const DurableRecords>)> on_durable;
};

}  // namespace seisvault::ingest
