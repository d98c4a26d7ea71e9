// The component limits the end-to-end ingest figure is compared with, each
// measured alone on the same records in the same run.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <vector>

#include "seisvault/storage/store_options.h"

namespace seisvault::bench {

using Records = std::vector<std::vector<uint8_t>>;

// RecordValidator (parse + decode + checks) on one thread: records/s.
double validator_rate(const Records& records);
// OpenSSL SHA-256 on one thread: records/s.
double sha256_rate(const Records& records);
// Batch signatures (batch_signature.h, libsodium Ed25519) on one thread,
// batches of `batch` records: records/s signed (the station's side) and
// verified (the server's), the signed message built from the records'
// hashes each time.
struct SignatureRates {
  double sign = 0;
  double verify = 0;
};
SignatureRates signature_rates(const Records& records, size_t batch);
// RecordStore::write of `batch` records at a time (blocks, catalog,
// summaries, dedup), WAL fsync every `sync_interval`: records/s. Uses `dir`.
double store_rate(const Records& records, const std::filesystem::path& dir, const storage::StoreOptions& options,
                  size_t batch, std::chrono::milliseconds sync_interval);
// Plain RocksDB, one entry per record (20-byte key, the record as value),
// WriteBatch of 1000, WAL fsync every `sync_interval`, the store's memtable
// sizes: records/s. Uses `dir`.
double rocksdb_raw_rate(const Records& records, const std::filesystem::path& dir, const storage::StoreOptions& options,
                        std::chrono::milliseconds sync_interval);
// ZeroMQ DEALER -> ROUTER over tcp loopback with CURVE, messages of
// `batch` records (the bytes of an IngestBatch), one sender and one
// receiver thread: records/s.
double zmq_curve_rate(const Records& records, size_t batch);

}  // namespace seisvault::bench
