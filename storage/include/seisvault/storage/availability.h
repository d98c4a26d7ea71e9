// Availability: which time spans of a channel hold data, merged as libmseed
// merges records into trace segments.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "seisvault/common/contiguity.h"
#include "seisvault/common/time.h"

namespace seisvault::storage {

// [start_ns, end_ns] where end is the time of the last sample of the span.
struct TimeSpan {
  TimeNs start_ns = 0;
  TimeNs end_ns = 0;
  double sample_rate = 0;
};

struct ChannelAvailability {
  std::string source_id;
  std::vector<TimeSpan> spans;  // sorted by start; neighbours are separated by a gap or overlap
  size_t gap_count = 0;         // neighbours where the next span starts after the previous ends
  size_t overlap_count = 0;     // neighbours where the next span starts at or before the previous ends
};

// Builds the spans of one channel from its records, given in start-time order.
//
// A record continues a span by the rule of seisvault/common/contiguity.h: it
// starts one sample period after the span's last sample, within
// `tolerance_ns`; when unset, the tolerance is half a sample period,
// libmseed's default. Records that overlap or leave a gap
// start a new span, so overlaps stay visible (as in libmseed's trace lists).
// Records without a sample rate never join a span unless they start exactly
// where it ends. Feed records with add(), then take the result.
class SpanMerger {
 public:
  explicit SpanMerger(std::optional<TimeNs> tolerance_ns) : tolerance_ns_(tolerance_ns) {}
  void add(TimeNs start_ns, TimeNs end_ns, double sample_rate);
  // Moves the spans out, with gap and overlap counts filled in.
  ChannelAvailability take(std::string source_id);

 private:
  std::optional<TimeNs> tolerance_ns_;
  std::vector<TimeSpan> spans_;
};

// Kept visible here for the store's users: the rule lives in common/.
using seisvault::sample_period_ns;

}  // namespace seisvault::storage
