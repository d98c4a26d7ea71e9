// Pipeline: what the ingest stages share. Internal to ingest/.
//
//   receiver --validate_queue--> validation workers --commit_queue--> committer
//      ^                                                                  |
//      +--- acks (inproc PUSH/PULL) <--- syncer <--- written batches -----+
//
// Each stage is a class in a file of its own (receiver.h, validation_worker.h,
// committer.h, syncer.h) running on its own thread(s); a batch
// (InFlightBatch) is owned by exactly one stage at a time and moves through
// the queues. The IngestServer owns the Pipeline and the stages.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <concurrentqueue/blockingconcurrentqueue.h>
#include <zmq.hpp>

#include "in_flight_batch.h"
#include "log_limiter.h"
#include "rejection_log.h"
#include "seisvault/ingest/access_control.h"
#include "seisvault/ingest/ingest_options.h"
#include "seisvault/ingest/ingest_stats.h"
#include "seisvault/storage/record_store.h"

namespace seisvault::ingest {

using BatchPtr = std::unique_ptr<InFlightBatch>;
using BatchQueue = moodycamel::BlockingConcurrentQueue<BatchPtr>;

// Committer -> syncer: batches written to the store (or answered without a
// write), waiting to be made durable and acknowledged.
struct WrittenBatches {
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<BatchPtr> batches;  // guarded by mutex
  bool done = false;              // guarded by mutex: no more batches will come
  // Whether the syncer is in an fsync now, and when it began its last one
  // (steady_clock ticks): the committer times its writes by them.
  std::atomic<bool> sync_in_progress{false};
  std::atomic<std::chrono::steady_clock::rep> last_sync_start{0};
};

struct Pipeline {
  Pipeline(const IngestOptions& o, storage::RecordStore& s, const AccessControl& a)
      : options(o), store(s), access(a), rejections(stats) {}

  const IngestOptions options;
  storage::RecordStore& store;
  const AccessControl& access;
  IngestStats stats;
  RejectionLog rejections;
  LogLimiter signature_log{"batches refused for their signature", spdlog::level::warn};

  zmq::context_t context{1};
  std::string ack_endpoint;  // inproc: the syncer's acks to the receiver

  BatchQueue validate_queue;
  BatchQueue commit_queue;
  WrittenBatches written;

  // Batches read by the receiver and not yet acknowledged by the syncer.
  std::atomic<size_t> in_flight{0};

  std::atomic<bool> stopping{false};        // receiver: stop reading stations
  std::atomic<bool> workers_done{false};    // validation workers: the receiver has stopped
  std::atomic<bool> committer_done{false};  // committer: the workers have stopped

  // The limits sent with every ack.
  v1::Limits* fill_limits(v1::IngestAck& ack) const {
    auto* l = ack.mutable_limits();
    l->set_protocol_version(v1::PROTOCOL_VERSION_1);
    l->set_max_records_per_batch(options.max_records_per_batch);
    l->set_max_batch_bytes(options.max_batch_bytes);
    return l;
  }
};

}  // namespace seisvault::ingest
