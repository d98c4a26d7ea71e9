// SegmentBuilder: decodes a channel's records (given in start-time order)
// and merges their samples into time-contiguous segments, trimmed to a
// window, for the GetSamples RPC.
//
// A record continues the current segment when it has the same sample type
// and, by the rule of seisvault/common/contiguity.h, the same sample rate and
// a first kept sample within half a sample period of where the segment's
// next sample is due; anything else (a gap, an overlap, a rate change)
// starts a new segment, so boundaries between
// segments are exactly the gaps and overlaps. TEXT records (no rate) are a
// segment each. Segments longer than max_samples go out in several messages,
// the later ones marked continues_previous. Not thread-safe.
#pragma once

#include <functional>
#include <span>
#include <string>

#include "seisvault/common/mseed_record.h"
#include "seisvault/common/status.h"
#include "seisvault/proto/waveform.pb.h"
#include "seisvault/storage/record_store.h"

namespace seisvault::server {

class SegmentBuilder {
 public:
  // `emit` receives each finished segment message; returning false stops
  // the builder (add() then returns Cancelled).
  SegmentBuilder(storage::TimeWindow window, size_t max_samples,
                 std::function<bool(waveform::v1::Segment&)> emit)
      : window_(window), max_samples_(max_samples), emit_(std::move(emit)) {}

  // Decodes and appends one record. Corruption if libmseed cannot decode it.
  Status add(std::string_view source_id, std::span<const uint8_t> record);
  // Emits the segment in progress. Returns false if the consumer stopped.
  bool finish();

 private:
  bool flush();

  storage::TimeWindow window_;
  size_t max_samples_;
  std::function<bool(waveform::v1::Segment&)> emit_;
  MseedRecord msr_;
  waveform::v1::Segment seg_;
  bool open_ = false;
  TimeNs last_ns_ = 0;  // time of the segment's last sample
  bool stopped_ = false;
};

}  // namespace seisvault::server
