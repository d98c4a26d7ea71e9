#include "seisvault/storage/availability.h"

#include "seisvault/common/contiguity.h"

namespace seisvault::storage {

void SpanMerger::add(TimeNs start_ns, TimeNs end_ns, double sample_rate) {
  const TimeNs tol = contiguity_tolerance_ns(sample_rate, tolerance_ns_);
  // libmseed tries the newest segments first; records arrive in start order,
  // so the span to continue is almost always the last one.
  for (auto it = spans_.rbegin(); it != spans_.rend(); ++it) {
    if (continues_run(it->end_ns, it->sample_rate, start_ns, sample_rate, tol)) {
      if (end_ns > it->end_ns) it->end_ns = end_ns;
      return;
    }
  }
  spans_.push_back({start_ns, end_ns, sample_rate});
}

ChannelAvailability SpanMerger::take(std::string source_id) {
  ChannelAvailability out;
  out.source_id = std::move(source_id);
  out.spans = std::move(spans_);
  spans_.clear();
  for (size_t i = 1; i < out.spans.size(); ++i) {
    if (out.spans[i].start_ns > out.spans[i - 1].end_ns) {
      ++out.gap_count;
    } else {
      ++out.overlap_count;
    }
  }
  return out;
}

}  // namespace seisvault::storage
