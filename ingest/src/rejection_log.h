// RejectionLog: counts rejected records by reason and, every so often,
// logs one line summing them up with an example message per reason.
// Internal to ingest/.
//
// Rejections are never logged one by one (a station sending garbage at
// full speed must not flood the log or cost a syscall per record).
// Thread-safe: count() from any stage, report() from one thread.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "seisvault/common/reject_reason.h"
#include "seisvault/ingest/ingest_stats.h"

namespace seisvault::ingest {

class RejectionLog {
 public:
  explicit RejectionLog(IngestStats& stats) : stats_(stats) {}

  // Counts one rejected record in the stats; keeps `message` as this
  // reason's example if it has none since the last report.
  void count(RejectReason reason, std::string_view message);

  // Logs (warning) one line with what was rejected since the last report,
  // by reason; nothing when nothing was.
  void report();

 private:
  IngestStats& stats_;
  std::mutex mutex_;
  std::array<std::string, kRejectReasonCount> samples_;  // guarded by mutex_
  std::array<uint64_t, kRejectReasonCount> reported_{};  // report()'s thread only
};

}  // namespace seisvault::ingest
