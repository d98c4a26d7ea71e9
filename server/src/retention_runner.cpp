#include "retention_runner.h"

#include <spdlog/spdlog.h>

#include "seisvault/common/thread_name.h"
#include "seisvault/common/time.h"

namespace seisvault::server {

RetentionRunner::RetentionRunner(storage::RecordStore& store, storage::RetentionPolicy policy,
                                 std::chrono::milliseconds interval, std::chrono::milliseconds first_delay)
    : store_(store), policy_(std::move(policy)), interval_(interval), first_delay_(first_delay) {
  if (policy_.enabled()) thread_ = std::thread([this] { run(); });
}

RetentionRunner::~RetentionRunner() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cancel_ = true;
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

RetentionFigures RetentionRunner::figures() const {
  std::lock_guard lock(mutex_);
  return figures_;
}

void RetentionRunner::run() {
  set_thread_name("sv-retention");
  auto next = std::chrono::steady_clock::now() + first_delay_;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      if (wake_.wait_until(lock, next, [this] { return stopping_; })) return;
    }
    const auto result = store_.expire(policy_, now_ns(), &cancel_);
    next = std::chrono::steady_clock::now() + interval_;
    std::lock_guard lock(mutex_);
    ++figures_.passes;
    if (!result.ok()) {
      ++figures_.failed_passes;
      spdlog::error("retention: the pass failed: {} (the next one is in {} s)", result.status().message(),
                    interval_.count() / 1000);
      continue;
    }
    const auto& r = *result;
    figures_.records += r.records;
    figures_.bytes += r.bytes;
    figures_.segment_files += r.segment_files;
    figures_.segment_bytes += r.segment_bytes;
    figures_.last_pass_seconds = r.seconds;
    figures_.last_longest_hold_ms = r.longest_hold_ms;
    if (r.records > 0 || r.segment_files > 0) {
      spdlog::info("retention: removed {} records ({} MiB) of {} channels, {} segment files ({} MiB freed) in {:.1f} "
                   "s (writes waited at most {:.1f} ms)",
                   r.records, r.bytes >> 20, r.channels, r.segment_files, r.segment_bytes >> 20, r.seconds,
                   r.longest_hold_ms);
    }
  }
}

}  // namespace seisvault::server
