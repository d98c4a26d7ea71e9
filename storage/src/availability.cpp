#include "seisvault/storage/availability.h"

#include <cmath>
#include <cstdlib>

namespace seisvault::storage {

TimeNs sample_period_ns(double sample_rate) {
  if (!(sample_rate > 0)) return 0;
  return static_cast<TimeNs>(std::llround(1e9 / sample_rate));
}

void SpanMerger::add(TimeNs start_ns, TimeNs end_ns, double sample_rate) {
  const TimeNs period = sample_period_ns(sample_rate);
  // Without a rate there is no sample period to be tolerant about.
  const TimeNs tol = period == 0 ? 0 : (tolerance_ns_ ? *tolerance_ns_ : period / 2);
  // libmseed tries the newest segments first; records arrive in start order,
  // so the span to continue is almost always the last one.
  for (auto it = spans_.rbegin(); it != spans_.rend(); ++it) {
    const TimeNs expected = it->end_ns + sample_period_ns(it->sample_rate);
    if (std::llabs(start_ns - expected) <= tol && it->sample_rate == sample_rate) {
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
