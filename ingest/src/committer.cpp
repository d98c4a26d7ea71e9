#include "committer.h"

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace seisvault::ingest {

namespace {

// Stations resend a deferred batch after this long (the store, when paused,
// resumes by itself; a failed store needs a restart).
constexpr uint32_t kRetryPausedMs = 5'000;
constexpr uint32_t kRetryFailedMs = 60'000;

// Marks a batch as answered STORE_UNAVAILABLE as a whole.
void defer(InFlightBatch& b, const std::string& why, uint32_t retry_after_ms) {
  if (b.error != v1::BATCH_ERROR_UNSPECIFIED) return;  // refused whole already (a bad signature): that answer stands
  b.error = v1::STORE_UNAVAILABLE;
  b.error_message = fmt::format("nothing of this batch was stored: {}", why);
  b.retry_after_ms = retry_after_ms;
}

// "NET.STA" of a source id "NET.STA.LOC.CHA" (the whole id when it has
// fewer fields).
std::string_view net_sta(std::string_view source_id) {
  const size_t first = source_id.find('.');
  if (first == std::string_view::npos) return source_id;
  return source_id.substr(0, source_id.find('.', first + 1));
}

}  // namespace

size_t Committer::gather(BatchPtr first) {
  const auto& options = p_.options;
  // Take what is ready, up to one store write's worth.
  size_t count = first->accepted.size();
  group_.push_back(std::move(first));
  BatchPtr b;
  while (count < options.max_records_per_write && order_.next(b, std::chrono::microseconds(0))) {
    count += b->accepted.size();
    group_.push_back(std::move(b));
  }
  if (options.sync == SyncPolicy::kEveryBatch) return count;
  // These records cannot be acknowledged before the next fsync, which under
  // load comes one sync interval after the last one began. Until shortly
  // before then (the time a write takes), and while an fsync runs, keep
  // gathering: one larger write per fsync instead of several small ones
  // puts more records in each block, at no cost in latency. Under light
  // load the next fsync is already due and the write happens at once.
  for (;;) {
    if (count >= options.max_records_per_write) break;
    const auto now = std::chrono::steady_clock::now();
    const auto write_at = std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(
                              p_.written.last_sync_start.load(std::memory_order_acquire))) +
                          options.sync_interval - write_estimate_;
    const bool syncing = p_.written.sync_in_progress.load(std::memory_order_acquire);
    if (!syncing && now >= write_at) break;
    const auto wait = syncing ? std::chrono::microseconds(200)
                              : std::chrono::duration_cast<std::chrono::microseconds>(write_at - now);
    if (order_.next(b, std::max(wait, std::chrono::microseconds(1)))) {
      count += b->accepted.size();
      group_.push_back(std::move(b));
    }
  }
  return count;
}

void Committer::defer_group(const Status& why) {
  const auto health = p_.store.health();
  const uint32_t retry = health.state == storage::StoreState::kFailed ? kRetryFailedMs : kRetryPausedMs;
  for (auto& g : group_) defer(*g, why.message(), retry);
  p_.stats.batches_deferred.fetch_add(group_.size(), std::memory_order_relaxed);
}

void Committer::write_group(size_t count) {
  auto& stats = p_.stats;
  records_.clear();
  records_.reserve(count);
  ledger_batches_.clear();
  for (const auto& g : group_) {
    const size_t from = records_.size();
    records_.insert(records_.end(), g->accepted.begin(), g->accepted.end());
    if (g->accepted.empty()) continue;
    // The batch's ledger entry (docs/provenance.md).
    const auto index = static_cast<uint32_t>(ledger_batches_.size());
    for (size_t k = from; k < records_.size(); ++k) records_[k].ledger_batch = index;
    const auto& sig = g->batch.signature;
    storage::LedgerBatch lb;
    lb.is_signed = g->is_signed;
    lb.key_id = g->is_signed ? std::string_view(reinterpret_cast<const char*>(sig.key.data()), sig.key.size())
                : p_.options.insecure ? std::string_view()
                                      : std::string_view(g->sender);
    lb.protocol_version = g->batch.protocol_version;
    lb.batch_id = g->batch.batch_id;
    lb.send_ns = g->is_signed ? sig.send_time_ns : 0;
    lb.receive_ns = g->receive_ns;
    lb.hashes = {reinterpret_cast<const uint8_t*>(g->ledger_hashes.data()), g->ledger_hashes.size()};
    if (g->is_signed) lb.signature = sig.signature;
    ledger_batches_.push_back(lb);
  }
  outcomes_.resize(records_.size());
  sequences_.assign(records_.size(), 0);
  Status s;
  if (!records_.empty()) {
    storage::WriteStats ws;
    const auto write_start = std::chrono::steady_clock::now();
    s = p_.store.write(records_, outcomes_, p_.options.sync == SyncPolicy::kEveryBatch, &ws, sequences_,
                       ledger_batches_);
    const auto took = std::chrono::steady_clock::now() - write_start;
    stats.store_write_duration.observe(took);
    // A moving average of how long a write takes, for gather()'s timing.
    write_estimate_ = (write_estimate_ * 7 + took) / 8;
    stats.store_writes.fetch_add(1, std::memory_order_relaxed);
    stats.store_blocks.fetch_add(ws.blocks, std::memory_order_relaxed);
  }
  if (s.code() == StatusCode::kUnavailable) {
    // The store is paused or failed (it has logged why, once): nothing of
    // the group was stored, and the stations are told to resend.
    defer_group(s);
    return;
  }
  station_deltas_.clear();
  size_t k = 0;
  for (auto& g : group_) {
    g->sequences.assign(g->accepted.size(), 0);
    for (size_t j = 0; j < g->accepted.size(); ++j, ++k) {
      auto& v = g->verdicts[g->accepted_index[j]];
      if (s.ok()) g->sequences[j] = sequences_[k];
      if (!s.ok()) {
        v = {v1::REJECTED, RejectReason::kInternal, "the server could not store the record; resend it"};
        p_.rejections.count(RejectReason::kInternal, s.message());
      } else if (outcomes_[k] == storage::WriteOutcome::kReplayed) {
        // The whole batch (answered as a whole below).
        if (g->error == v1::BATCH_ERROR_UNSPECIFIED) {
          const auto key = g->batch.signature.key;
          const uint64_t top =
              p_.store.highest_batch_id({reinterpret_cast<const char*>(key.data()), key.size()});
          g->error = v1::REPLAYED_BATCH;
          g->highest_batch_id = top;
          g->error_message = fmt::format(
              "nothing of this batch was stored: its id {} is at or below {}, the highest this station key has "
              "stored, and it is not that stored batch again (a replay, or an id used twice): send the records "
              "again under an id above {}",
              g->batch.batch_id, top, top);
          stats.batches_replayed.fetch_add(1, std::memory_order_relaxed);
          p_.signature_log.log("station key {}: batch {} refused as a replay (highest stored {})", g->sender,
                               g->batch.batch_id, top);
        }
      } else if (outcomes_[k] == storage::WriteOutcome::kDuplicate) {
        v.status = v1::DUPLICATE;
        stats.records_duplicate.fetch_add(1, std::memory_order_relaxed);
      } else if (outcomes_[k] == storage::WriteOutcome::kTooManyChannels) {
        const auto& r = records_[k];
        v = {v1::REJECTED, RejectReason::kTooManyChannels,
             fmt::format("{} would be a new channel, but its station already has {} channels, as many as this server "
                         "allows (--max-channels-per-station)",
                         r.source_id, p_.store.options().max_channels_per_station)};
        p_.rejections.count(v.reason, v.message);
      } else if (outcomes_[k] == storage::WriteOutcome::kTooManyNewChannels) {
        const auto& r = records_[k];
        v = {v1::REJECTED, RejectReason::kNewChannelBudget,
             fmt::format("{} would be a new channel, but this key created {} new channels within the last hour, as "
                         "many as this server allows (--max-new-channels-per-key-per-hour): resend later",
                         r.source_id, p_.store.options().max_new_channels_per_sender_per_hour)};
        p_.rejections.count(v.reason, v.message);
      } else {
        stats.records_stored.fetch_add(1, std::memory_order_relaxed);
        stats.bytes_stored.fetch_add(records_[k].bytes.size(), std::memory_order_relaxed);
        // A station's records come together (a batch is usually one
        // station's): a new delta only when the station changes.
        const auto station = net_sta(records_[k].source_id);
        if (station_deltas_.empty() || station_deltas_.back().station != station) {
          station_deltas_.push_back({station, 0, 0});
        }
        station_deltas_.back().records += 1;
        station_deltas_.back().bytes += records_[k].bytes.size();
      }
    }
  }
  count_stations();
  if (!s.ok()) {
    spdlog::error("store write failed: {}", s.message());
    stats.store_errors.fetch_add(1, std::memory_order_relaxed);
  }
}

void Committer::count_stations() {
  if (station_deltas_.empty()) return;
  // Stations interleaved within the write: one delta each, so that the
  // totals take one lookup per station.
  std::sort(station_deltas_.begin(), station_deltas_.end(),
            [](const auto& a, const auto& b) { return a.station < b.station; });
  size_t out = 0;
  for (size_t i = 1; i < station_deltas_.size(); ++i) {
    if (station_deltas_[i].station == station_deltas_[out].station) {
      station_deltas_[out].records += station_deltas_[i].records;
      station_deltas_[out].bytes += station_deltas_[i].bytes;
    } else {
      station_deltas_[++out] = station_deltas_[i];
    }
  }
  station_deltas_.resize(out + 1);
  p_.stats.stored_by_station.add(station_deltas_);
}

void Committer::run() {
  for (;;) {
    BatchPtr b;
    if (!order_.next(b, std::chrono::milliseconds(50))) {
      if (p_.committer_done.load() && p_.commit_queue.size_approx() == 0 && order_.empty()) return;
      p_.written.cv.notify_one();  // idle: the syncer need not wait for more
      // While the store is paused the receiver reads nothing, so this is
      // where the store gets to notice that the cause has cleared.
      if (p_.store.health().state != storage::StoreState::kOk) p_.store.try_resume();
      continue;
    }
    const size_t count = gather(std::move(b));
    p_.stats.commit_queue_batches.fetch_sub(group_.size(), std::memory_order_relaxed);
    write_group(count);
    p_.stats.sync_queue_batches.fetch_add(group_.size(), std::memory_order_relaxed);
    {
      std::lock_guard lock(p_.written.mutex);
      for (auto& g : group_) p_.written.batches.push_back(std::move(g));
    }
    group_.clear();
    p_.written.cv.notify_one();
  }
}

}  // namespace seisvault::ingest
