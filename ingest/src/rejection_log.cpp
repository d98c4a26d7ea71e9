#include "rejection_log.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace seisvault::ingest {

void RejectionLog::count(RejectReason reason, std::string_view message) {
  stats_.records_rejected.fetch_add(1, std::memory_order_relaxed);
  stats_.rejected_by_reason[static_cast<size_t>(reason)].fetch_add(1, std::memory_order_relaxed);
  auto& slot = samples_[static_cast<size_t>(reason)];
  std::lock_guard lock(mutex_);
  if (slot.empty()) slot.assign(message);
}

void RejectionLog::report() {
  std::string line;
  for (int r = 0; r < kRejectReasonCount; ++r) {
    const uint64_t now = stats_.rejected_by_reason[r].load(std::memory_order_relaxed);
    if (now == reported_[r]) continue;
    std::string sample;
    {
      std::lock_guard lock(mutex_);
      sample = std::exchange(samples_[r], {});
    }
    line += fmt::format("{}{} {} (e.g. {})", line.empty() ? "" : "; ", now - reported_[r],
                        reject_reason_name(static_cast<RejectReason>(r)), sample);
    reported_[r] = now;
  }
  if (!line.empty()) spdlog::warn("rejected records: {}", line);
}

}  // namespace seisvault::ingest
