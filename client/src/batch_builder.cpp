#include "seisvault/client/batch_builder.h"

#include "seisvault/common/sha256.h"

namespace seisvault::client {

namespace {

size_t varint_size(size_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

}  // namespace

BatchBuilder::BatchBuilder(BatchLimits limits)
    : limits_(limits), batch_(std::make_unique<ingest::v1::IngestBatch>()) {}

size_t BatchBuilder::record_cost(size_t record_size) {
  // Record { bytes mseed = 1; bytes sha256 = 2; } as field 3 of IngestBatch.
  const size_t inner = 1 + varint_size(record_size) + record_size + 1 + 1 + 32;
  return 1 + varint_size(inner) + inner;
}

bool BatchBuilder::fits(size_t record_size) const {
  if (empty()) return true;
  return records() < limits_.max_records && bytes_ + record_cost(record_size) <= limits_.max_bytes;
}

void BatchBuilder::add(std::span<const uint8_t> record) {
  // add_records() hands back a cleared element when the message was reused,
  // and assign() keeps the capacity of its strings.
  ingest::v1::Record* r = batch_->add_records();
  r->mutable_mseed()->assign(reinterpret_cast<const char*>(record.data()), record.size());
  const Sha256Digest digest = sha256(record);
  r->mutable_sha256()->assign(reinterpret_cast<const char*>(digest.data()), digest.size());
  bytes_ += record_cost(record.size());
}

std::unique_ptr<ingest::v1::IngestBatch> BatchBuilder::take(uint64_t batch_id,
                                                            std::unique_ptr<ingest::v1::IngestBatch> recycled) {
  auto out = std::move(batch_);
  out->set_protocol_version(ingest::v1::PROTOCOL_VERSION_1);
  out->set_batch_id(batch_id);
  batch_ = recycled ? std::move(recycled) : std::make_unique<ingest::v1::IngestBatch>();
  batch_->Clear();
  bytes_ = kBatchOverhead;
  return out;
}

}  // namespace seisvault::client
