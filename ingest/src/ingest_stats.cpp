#include "seisvault/ingest/ingest_stats.h"

#include <algorithm>

namespace seisvault::ingest {

void StationTotals::add(std::span<const Delta> deltas) {
  if (deltas.empty()) return;
  std::lock_guard lock(mutex_);
  for (const auto& d : deltas) {
    auto it = totals_.find(d.station);
    if (it == totals_.end()) it = totals_.emplace(std::string(d.station), Totals{}).first;
    it->second.records += d.records;
    it->second.bytes += d.bytes;
  }
}

std::vector<StationTotals::Entry> StationTotals::snapshot() const {
  std::vector<Entry> out;
  {
    std::lock_guard lock(mutex_);
    out.reserve(totals_.size());
    for (const auto& [station, t] : totals_) out.push_back({station, t.records, t.bytes});
  }
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return a.station < b.station; });
  return out;
}

}  // namespace seisvault::ingest
