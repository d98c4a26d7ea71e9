#include "component_limits.h"

#include <atomic>
#include <thread>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <zmq.hpp>

#include "bench_support.h"
#include "seisvault/common/batch_signature.h"
#include "seisvault/common/curve_keys.h"
#include "seisvault/common/sha256.h"
#include "seisvault/ingest/record_validator.h"
#include "seisvault/proto/ingest.pb.h"
#include "seisvault/storage/record_store.h"

namespace seisvault::bench {

double validator_rate(const Records& records) {
  ingest::RecordValidator v;
  const TimeNs now = now_ns();
  size_t ok = 0;
  const auto t0 = Clock::now();
  for (const auto& r : records) ok += v.validate(r, now).ok();
  const double dt = seconds_since(t0);
  if (ok != records.size()) std::fprintf(stderr, "warning: %zu of %zu records invalid\n", records.size() - ok, records.size());
  return static_cast<double>(records.size()) / dt;
}

double sha256_rate(const Records& records) {
  uint8_t x = 0;
  const auto t0 = Clock::now();
  for (const auto& r : records) x ^= sha256(r)[0];
  const double dt = seconds_since(t0);
  asm volatile("" : : "r"(x));
  return static_cast<double>(records.size()) / dt;
}

SignatureRates signature_rates(const Records& records, size_t batch) {
  const auto key = generate_signing_key_pair().value();
  std::vector<Sha256Digest> hashes;
  for (const auto& r : records) hashes.push_back(sha256(r));
  std::vector<Signature> sigs;
  std::string message;
  const auto build = [&](size_t from, uint64_t id) {
    const size_t n = std::min(batch, hashes.size() - from);
    begin_batch_message({1, key.public_key, id, 1}, static_cast<uint32_t>(n), message);
    for (size_t i = from; i < from + n; ++i) add_batch_hash(hashes[i], message);
  };
  const auto bytes = [&] { return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(message.data()), message.size()); };
  SignatureRates out;
  auto t0 = Clock::now();
  for (size_t from = 0; from < hashes.size(); from += batch) {
    build(from, from + 1);
    sigs.push_back(sign_message(key, bytes()));
  }
  out.sign = static_cast<double>(hashes.size()) / seconds_since(t0);
  size_t good = 0;
  t0 = Clock::now();
  for (size_t from = 0, k = 0; from < hashes.size(); from += batch, ++k) {
    build(from, from + 1);
    good += verify_signature(key.public_key, bytes(), sigs[k]);
  }
  out.verify = static_cast<double>(hashes.size()) / seconds_since(t0);
  if (good != sigs.size()) throw std::runtime_error("a batch signature did not verify");
  return out;
}

double store_rate(const Records& records, const std::filesystem::path& dir, const storage::StoreOptions& options,
                  size_t batch, std::chrono::milliseconds sync_interval) {
  auto store = storage::RecordStore::open(dir, options);
  if (!store.ok()) throw std::runtime_error(store.status().message());
  // Validation is not part of this limit: the metadata comes from the validator beforehand.
  ingest::RecordValidator v;
  std::vector<ingest::ValidatedRecord> meta;
  std::vector<Sha256Digest> digests;
  meta.reserve(records.size());
  for (const auto& r : records) {
    meta.push_back(v.validate(r, now_ns()).record);
    digests.push_back(sha256(r));
  }
  std::vector<storage::NewRecord> group;
  std::vector<storage::WriteOutcome> outcomes;
  const auto t0 = Clock::now();
  auto last_sync = t0;
  for (size_t i = 0; i < records.size(); i += batch) {
    group.clear();
    for (size_t k = i; k < std::min(records.size(), i + batch); ++k) {
      const auto& m = meta[k];
      group.push_back({m.source_id(), m.start_ns, m.end_ns, m.sample_rate, m.sample_count, m.bytes, digests[k],
                       now_ns(), "bench"});
    }
    outcomes.resize(group.size());
    if (auto s = (*store)->write(group, outcomes, false); !s.ok()) throw std::runtime_error(s.message());
    if (Clock::now() - last_sync >= sync_interval) {
      (void)(*store)->sync_wal();
      last_sync = Clock::now();
    }
  }
  (void)(*store)->sync_wal();
  return static_cast<double>(records.size()) / seconds_since(t0);
}

double rocksdb_raw_rate(const Records& records, const std::filesystem::path& dir, const storage::StoreOptions& o,
                        std::chrono::milliseconds sync_interval) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.write_buffer_size = o.memtable_mib << 20;
  options.max_write_buffer_number = o.max_memtables;
  options.max_background_jobs = o.background_jobs;
  options.compression = rocksdb::kNoCompression;
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::Open(options, dir.string(), &raw);
  if (!s.ok()) throw std::runtime_error(s.ToString());
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteBatch wb;
  const auto t0 = Clock::now();
  auto last_sync = t0;
  char key[20] = {};
  for (size_t i = 0; i < records.size(); ++i) {
    // channel id (from the station code), then a big-endian sequence, like the store's keys.
    std::memcpy(key, records[i].data() + 8, 5);
    const uint64_t be = __builtin_bswap64(i);
    std::memcpy(key + 12, &be, 8);
    wb.Put(rocksdb::Slice(key, 20),
           rocksdb::Slice(reinterpret_cast<const char*>(records[i].data()), records[i].size()));
    if (wb.Count() == 1000 || i + 1 == records.size()) {
      db->Write({}, &wb);
      wb.Clear();
      if (Clock::now() - last_sync >= sync_interval) {
        db->SyncWAL();
        last_sync = Clock::now();
      }
    }
  }
  db->SyncWAL();
  return static_cast<double>(records.size()) / seconds_since(t0);
}

double zmq_curve_rate(const Records& records, size_t batch) {
  // Pre-serialize the batches once: this measures the transport.
  std::vector<std::string> messages;
  for (size_t i = 0; i < records.size(); i += batch) {
    ingest::v1::IngestBatch b;
    b.set_protocol_version(1);
    b.set_batch_id(i + 1);
    for (size_t k = i; k < std::min(records.size(), i + batch); ++k) {
      auto* r = b.add_records();
      r->set_mseed(records[k].data(), records[k].size());
      const auto d = sha256(records[k]);
      r->set_sha256(d.data(), d.size());
    }
    messages.push_back(b.SerializeAsString());
  }
  const auto server = generate_curve_key_pair().value();
  const auto client = generate_curve_key_pair().value();
  zmq::context_t ctx(1);
  zmq::socket_t router(ctx, zmq::socket_type::router);
  router.set(zmq::sockopt::curve_server, 1);
  router.set(zmq::sockopt::curve_secretkey, server.secret_key);
  router.set(zmq::sockopt::linger, 0);
  router.bind("tcp://127.0.0.1:*");
  const std::string endpoint = router.get(zmq::sockopt::last_endpoint);
  std::atomic<size_t> received{0};
  std::thread receiver([&] {
    std::vector<zmq::message_t> frames(2);
    for (size_t n = 0; n < messages.size(); ++n) {
      (void)router.recv(frames[0]);
      (void)router.recv(frames[1]);
      ingest::v1::IngestBatch b;  // the server parses each batch too
      b.ParseFromArray(frames[1].data(), static_cast<int>(frames[1].size()));
      received += static_cast<size_t>(b.records_size());
    }
  });
  zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
  dealer.set(zmq::sockopt::curve_serverkey, server.public_key);
  dealer.set(zmq::sockopt::curve_publickey, client.public_key);
  dealer.set(zmq::sockopt::curve_secretkey, client.secret_key);
  dealer.set(zmq::sockopt::linger, 0);
  dealer.connect(endpoint);
  const auto t0 = Clock::now();
  for (const auto& m : messages) dealer.send(zmq::buffer(m), zmq::send_flags::none);
  receiver.join();
  return static_cast<double>(received.load()) / seconds_since(t0);
}

}  // namespace seisvault::bench
