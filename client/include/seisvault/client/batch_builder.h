// BatchBuilder: collects records into one IngestBatch within the batch limits.
//
// Limits are on what goes on the wire: the number of records, and the size
// of the serialized IngestBatch (records, their SHA-256s and protobuf
// framing; the batch id and protocol version are counted at their largest).
// A record that alone exceeds the byte limit still makes a batch of its own:
// nothing is dropped here, the server says what is wrong with it.
//
// The builder owns the message it fills. take() hands it out and takes a
// cleared message back in exchange, so that messages (and the strings of
// their records, which protobuf keeps when a message is cleared) are reused:
// in steady state adding a record allocates nothing.
//
// Not thread-safe: one builder per PushClient.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "seisvault/proto/ingest.pb.h"

namespace seisvault::client {

struct BatchLimits {
  size_t max_records = 1000;              // records per batch, >= 1
  size_t max_bytes = size_t{4} << 20;     // serialized batch size, bytes
};

class BatchBuilder {
 public:
  explicit BatchBuilder(BatchLimits limits);

  // The serialized size a batch of no records has at most (protocol
  // version and the largest batch id).
  static constexpr size_t kBatchOverhead = 2 + 11;
  // What one record of `record_size` bytes adds to the serialized batch.
  static size_t record_cost(size_t record_size);

  const BatchLimits& limits() const { return limits_; }
  // New limits apply to the records added from now on.
  void set_limits(BatchLimits limits) { limits_ = limits; }

  bool empty() const { return batch_->records_size() == 0; }
  size_t records() const { return static_cast<size_t>(batch_->records_size()); }
  // Upper bound of the serialized size of the batch as it is now.
  size_t bytes() const { return bytes_; }

  // Whether a record of `record_size` bytes can join this batch: always true
  // for an empty batch, else true while both limits hold with it.
  bool fits(size_t record_size) const;

  // Copies the record into the batch with its SHA-256. The caller checks
  // fits() first; add() itself never refuses.
  void add(std::span<const uint8_t> record);

  // Returns the batch with protocol_version 1 and `batch_id` set, and starts
  // a new, empty one in `recycled` (cleared here; may be null, then a new
  // message is made).
  std::unique_ptr<ingest::v1::IngestBatch> take(uint64_t batch_id,
                                                std::unique_ptr<ingest::v1::IngestBatch> recycled);

 private:
  BatchLimits limits_;
  std::unique_ptr<ingest::v1::IngestBatch> batch_;
  size_t bytes_ = kBatchOverhead;
};

}  // namespace seisvault::client
