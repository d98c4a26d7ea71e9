// RetentionRunner: removes expired records on a schedule
// (RecordStore::expire, docs/storage.md "Retention").
//
// One thread: a first pass `first_delay` after start (so that a restart does
// not compete with ingest catching up), then one every `interval`. Each pass
// is logged when it removed something or failed; its figures are kept for
// /metrics.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "seisvault/storage/record_store.h"

namespace seisvault::server {

struct RetentionFigures {
  uint64_t passes = 0;
  uint64_t failed_passes = 0;
  uint64_t records = 0;        // removed since start
  uint64_t bytes = 0;
  uint64_t segment_files = 0;
  uint64_t segment_bytes = 0;
  double last_pass_seconds = 0;
  double last_longest_hold_ms = 0;
};

class RetentionRunner {
 public:
  // Starts the thread; `store` must outlive the runner. A policy that never
  // expires anything starts no thread.
  RetentionRunner(storage::RecordStore& store, storage::RetentionPolicy policy, std::chrono::milliseconds interval,
                  std::chrono::milliseconds first_delay);
  ~RetentionRunner();  // stops (waits for a pass in progress)
  RetentionRunner(const RetentionRunner&) = delete;
  RetentionRunner& operator=(const RetentionRunner&) = delete;

  RetentionFigures figures() const;

 private:
  void run();

  storage::RecordStore& store_;
  const storage::RetentionPolicy policy_;
  const std::chrono::milliseconds interval_;
  const std::chrono::milliseconds first_delay_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::atomic<bool> cancel_{false};  // stops a pass in progress (the destructor)
  RetentionFigures figures_;
  std::thread thread_;
};

}  // namespace seisvault::server
