#include "syncer.h"

#include <algorithm>

#include <fmt/format.h>
#include <google/protobuf/arena.h>
#include <spdlog/spdlog.h>

namespace seisvault::ingest {

void Syncer::run() {
  const auto& options = p_.options;
  auto& stats = p_.stats;
  auto& w = p_.written;
  zmq::socket_t acks_out(p_.context, zmq::socket_type::push);
  acks_out.set(zmq::sockopt::sndhwm, 0);  // bounded by the batches in flight anyway
  acks_out.connect(p_.ack_endpoint);
  const bool every_batch = options.sync == SyncPolicy::kEveryBatch;
  std::vector<BatchPtr> batches;
  google::protobuf::ArenaOptions arena_options;
  arena_options.start_block_size = 64 << 10;
  arena_options.max_block_size = 1 << 20;
  auto last_sync = std::chrono::steady_clock::now() - options.sync_interval;
  for (;;) {
    {
      std::unique_lock lock(w.mutex);
      // Wait for written batches; then, under group commit, until the
      // interval since the last fsync is up or nothing more is coming.
      for (;;) {
        if (w.batches.empty()) {
          if (w.done) return;
          w.cv.wait_for(lock, std::chrono::milliseconds(100));
          continue;
        }
        if (every_batch || w.done) break;
        const auto due = last_sync + options.sync_interval;
        const bool idle = p_.commit_queue.size_approx() == 0 && p_.validate_queue.size_approx() == 0;
        if (idle || std::chrono::steady_clock::now() >= due) break;
        w.cv.wait_until(lock, due);
      }
      batches.swap(w.batches);
    }
    stats.sync_queue_batches.fetch_sub(batches.size(), std::memory_order_relaxed);
    const bool any_written = std::any_of(batches.begin(), batches.end(),
                                         [](const BatchPtr& b) { return b->error == v1::BATCH_ERROR_UNSPECIFIED; });
    if (!every_batch && any_written) {
      last_sync = std::chrono::steady_clock::now();
      w.last_sync_start.store(last_sync.time_since_epoch().count(), std::memory_order_release);
      w.sync_in_progress.store(true, std::memory_order_release);
      const auto s = p_.store.sync_wal();
      w.sync_in_progress.store(false, std::memory_order_release);
      stats.wal_sync_duration.observe(std::chrono::steady_clock::now() - last_sync);
      if (!s.ok()) {
        // Not durable: nothing of these batches may be acknowledged as
        // stored. The store has logged why (once); the stations resend.
        stats.store_errors.fetch_add(1, std::memory_order_relaxed);
        const uint32_t retry = p_.store.health().state == storage::StoreState::kFailed ? 60'000 : 5'000;
        for (auto& b : batches) {
          if (b->error != v1::BATCH_ERROR_UNSPECIFIED) continue;
          b->error = v1::STORE_UNAVAILABLE;
          b->error_message = fmt::format("the batch could not be made durable: {}", s.message());
          b->retry_after_ms = retry;
          stats.batches_deferred.fetch_add(1, std::memory_order_relaxed);
        }
      }
    }
    stats.syncs.fetch_add(1, std::memory_order_relaxed);
    for (auto& b : batches) {
      // On an arena: an ack holds a message per record, and building them
      // one heap allocation each cost more than the rest of the syncer.
      google::protobuf::Arena arena(arena_options);
      auto& ack = *google::protobuf::Arena::CreateMessage<v1::IngestAck>(&arena);
      ack.set_batch_id(b->batch.batch_id);
      p_.fill_limits(ack);
      if (b->error != v1::BATCH_ERROR_UNSPECIFIED) {
        ack.set_error(b->error);
        ack.set_error_message(b->error_message);
        ack.set_retry_after_ms(b->retry_after_ms);
        if (b->error == v1::REPLAYED_BATCH) ack.set_highest_batch_id(b->highest_batch_id);
      }
      for (const auto& v : b->verdicts) {
        if (b->error != v1::BATCH_ERROR_UNSPECIFIED) break;
        auto* r = ack.add_results();
        r->set_status(v.status);
        if (v.status == v1::REJECTED) {
          r->set_reason(static_cast<v1::RejectCode>(v.reason));
          r->set_message(v.message);
        }
      }
      zmq::message_t body(ack.ByteSizeLong());
      ack.SerializeToArray(body.data(), static_cast<int>(body.size()));
      // Counted before the ack leaves: whoever holds the ack sees it counted.
      stats.ack_latency.observe(std::chrono::steady_clock::now() - b->received_at);
      if (b->error == v1::BATCH_ERROR_UNSPECIFIED) stats.batches.fetch_add(1, std::memory_order_relaxed);
      acks_out.send(b->routing_id, zmq::send_flags::sndmore);
      acks_out.send(body, zmq::send_flags::none);
    }
    publish_durable(batches);
    batches.clear();
  }
}

// Hands the records that became durable to options.on_durable, with the
// batches (whose frames they point into) as their owner.
void Syncer::publish_durable(std::vector<BatchPtr>& batches) {
  if (!p_.options.on_durable) return;
  auto durable = std::make_shared<DurableRecords>();
  for (const auto& b : batches) {
    if (b->error != v1::BATCH_ERROR_UNSPECIFIED) continue;
    for (size_t j = 0; j < b->accepted.size(); ++j) {
      if (b->verdicts[b->accepted_index[j]].status == v1::STORED) {
        durable->records.push_back(b->accepted[j]);
        durable->sequences.push_back(b->sequences[j]);
      }
    }
  }
  if (durable->records.empty()) return;
  durable->keep_alive = std::make_shared<std::vector<BatchPtr>>(std::move(batches));
  p_.options.on_durable(std::move(durable));
}

}  // namespace seisvault::ingest
