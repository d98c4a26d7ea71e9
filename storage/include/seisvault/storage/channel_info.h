// ChannelInfo: a channel of the catalog and its running summary.
#pragma once

#include <cstdint>
#include <string>

#include "seisvault/common/time.h"

namespace seisvault::storage {

// Kept up to date in the same atomic write batch as the records it counts.
struct ChannelSummary {
  TimeNs first_start_ns = kTimeMax;  // earliest record start
  TimeNs last_end_ns = kTimeMin;     // latest record end (time of its last sample)
  TimeNs last_start_ns = kTimeMin;   // latest record start (records later than this cannot be duplicates)
  uint64_t record_count = 0;
  uint64_t byte_count = 0;
  double sample_rate = 0;            // of the most recently written record
  TimeNs last_receive_ns = kTimeMin; // when the latest record arrived (data latency at a glance)
  // The longest distance from a block's key time to the end of any record in
  // it (records CF): how far before a window a time-range scan must start.
  // Only grows. At most kMaxBlockSpanNs (record_store.h) for everything
  // written since schema 3; a store written before may keep a larger value
  // (a block that once took a record with a wrong time), which stays correct.
  TimeNs max_extent_ns = 0;
  // The same for the channel's long records (each longer than
  // kMaxBlockSpanNs, stored alone in the long CF): the longest such record's
  // span. 0 while the channel has none. Only grows.
  TimeNs max_long_extent_ns = 0;
};

struct ChannelInfo {
  uint32_t channel_id = 0;
  std::string source_id;  // "NET.STA.LOC.CHA"
  ChannelSummary summary;
};

}  // namespace seisvault::storage
