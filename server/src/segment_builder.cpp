#include "segment_builder.h"

#include <libmseed.h>

#include <cmath>

#include <fmt/format.h>

#include "seisvault/common/contiguity.h"
#include "seisvault/common/libmseed_lock.h"

namespace seisvault::server {

namespace v1 = waveform::v1;

namespace {

v1::SampleType sample_type_of(char t) {
  switch (t) {
    case 'i': return v1::INT32;
    case 'f': return v1::FLOAT32;
    case 'd': return v1::FLOAT64;
    case 'a': return v1::TEXT;
    default: return v1::SAMPLE_TYPE_UNSPECIFIED;
  }
}

}  // namespace

bool SegmentBuilder::flush() {
  if (!open_ || seg_.sample_count() == 0) {
    open_ = false;
    return !stopped_;
  }
  if (!emit_(seg_)) stopped_ = true;
  open_ = false;
  return !stopped_;
}

bool SegmentBuilder::finish() { return flush(); }

Status SegmentBuilder::add(std::string_view source_id, std::span<const uint8_t> record) {
  if (stopped_) return Status::cancelled("the consumer stopped");
  LibmseedLock lock;
  std::string copy(reinterpret_cast<const char*>(record.data()), record.size());  // libmseed wants it mutable
  if (msr_parse(copy.data(), static_cast<int>(copy.size()), msr_.out(), static_cast<int>(copy.size()), 1, 0) !=
      MS_NOERROR) {
    return Status::corruption(fmt::format("a stored record of {} does not decode: {}", source_id,
                                          lock.error_logged() ? lock.first_error() : "libmseed error"));
  }
  const MSRecord* msr = msr_.get();
  const int64_t n = msr->numsamples;
  if (n <= 0) return {};
  const auto type = sample_type_of(msr->sampletype);
  const double rate = msr_samprate(const_cast<MSRecord*>(msr));
  const TimeNs start = static_cast<TimeNs>(msr->starttime) * 1000;
  const double period = rate > 0 ? 1e9 / rate : 0;

  // The samples of this record inside the window.
  int64_t first = 0, last = n - 1;
  if (period > 0) {
    // Differences in integer nanoseconds first (absolute times do not fit a
    // double exactly). Sample times are whole nanoseconds, rounded, so a
    // sample counts as inside when it is within half a nanosecond.
    if (window_.begin_ns > start) {
      first = static_cast<int64_t>(std::ceil((static_cast<double>(window_.begin_ns - start) - 0.5) / period));
    }
    if (window_.end_ns < start) return {};
    if (window_.end_ns < kTimeMax) {
      last = std::min(last, static_cast<int64_t>(std::floor((static_cast<double>(window_.end_ns - start) + 0.5) / period)));
    }
  } else if (start < window_.begin_ns || start > window_.end_ns) {
    return {};
  }
  if (first > last || first >= n) return {};
  const TimeNs first_time = start + static_cast<TimeNs>(std::llround(first * period));

  // TEXT records (no period) never continue: each is a segment of its own.
  const bool continues = open_ && period > 0 && seg_.source_id() == source_id && seg_.sample_type() == type &&
                         continues_run(last_ns_, seg_.sample_rate(), first_time, rate, contiguity_tolerance_ns(rate));
  if (!continues) {
    if (!flush()) return Status::cancelled("the consumer stopped");
    seg_.Clear();
    seg_.set_source_id(std::string(source_id));
    seg_.set_start_ns(first_time);
    seg_.set_sample_rate(rate);
    seg_.set_sample_type(type);
    open_ = true;
  }
  int64_t i = first;
  while (i <= last) {
    if (seg_.sample_count() >= max_samples_) {
      // Split a long run: the next message starts where this one stops.
      const TimeNs t = start + static_cast<TimeNs>(std::llround(i * period));
      if (!flush()) return Status::cancelled("the consumer stopped");
      const auto keep_id = seg_.source_id();
      seg_.Clear();
      seg_.set_source_id(keep_id);
      seg_.set_start_ns(t);
      seg_.set_sample_rate(rate);
      seg_.set_sample_type(type);
      seg_.set_continues_previous(true);
      open_ = true;
    }
    const int64_t take = std::min<int64_t>(last - i + 1, static_cast<int64_t>(max_samples_ - seg_.sample_count()));
    switch (type) {
      case v1::INT32: {
        const auto* p = static_cast<const int32_t*>(msr->datasamples) + i;
        seg_.mutable_int32_samples()->Add(p, p + take);
        break;
      }
      case v1::FLOAT32: {
        const auto* p = static_cast<const float*>(msr->datasamples) + i;
        seg_.mutable_float32_samples()->Add(p, p + take);
        break;
      }
      case v1::FLOAT64: {
        const auto* p = static_cast<const double*>(msr->datasamples) + i;
        seg_.mutable_float64_samples()->Add(p, p + take);
        break;
      }
      case v1::TEXT:
        seg_.mutable_text()->append(static_cast<const char*>(msr->datasamples) + i, static_cast<size_t>(take));
        break;
      default:
        return Status::corruption(fmt::format("a stored record of {} has an unknown sample type", source_id));
    }
    seg_.set_sample_count(seg_.sample_count() + static_cast<uint64_t>(take));
    i += take;
  }
  last_ns_ = start + static_cast<TimeNs>(std::llround(last * period));
  if (period == 0) return flush() ? Status{} : Status::cancelled("the consumer stopped");
  return {};
}

}  // namespace seisvault::server
