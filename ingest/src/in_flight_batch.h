// InFlightBatch: one station batch on its way through the pipeline.
// Internal to ingest/. Owned by exactly one stage at a time (moved through
// the queues as a unique_ptr).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "batch_parser.h"

#include "seisvault/common/sha256.h"
#include "seisvault/common/time.h"
#include "seisvault/ingest/record_validator.h"
#include "seisvault/proto/ingest.pb.h"
#include "seisvault/storage/new_record.h"

namespace seisvault::ingest {

struct RecordVerdict {
  v1::RecordStatus status = v1::REJECTED;
  RejectReason reason = RejectReason::kInternal;
  std::string message;  // only for rejections
};

struct InFlightBatch {
  zmq::message_t routing_id;  // the ROUTER identity frame of the station's connection
  std::string sender;         // Z85 public key of the station ("insecure" without CURVE)
  TimeNs receive_ns = 0;
  std::chrono::steady_clock::time_point received_at;  // the same, for IngestStats::ack_latency
  uint64_t sequence = 0;      // order of arrival among validated batches (0, 1, 2, ...)

  // The received frame, and the batch read from it: its records are views
  // into the frame (no copy), valid as long as this object.
  zmq::message_t frame;
  ParsedBatch batch;

  // A batch answered as a whole (the store cannot take records now):
  // BATCH_ERROR_UNSPECIFIED while its records have verdicts of their own.
  v1::BatchError error = v1::BATCH_ERROR_UNSPECIFIED;
  std::string error_message;
  uint32_t retry_after_ms = 0;
  uint64_t highest_batch_id = 0;  // with REPLAYED_BATCH

  // Filled by a validation worker.
  std::vector<RecordVerdict> verdicts;         // one per record
  std::vector<Sha256Digest> hashes;            // SHA-256 of every record's bytes
  std::vector<ValidatedRecord> validated;      // accepted records (reserved up front: views stay valid)
  std::vector<uint32_t> accepted_index;        // record index of each accepted record
  std::vector<storage::NewRecord> accepted;    // what the committer writes
  // For the store's ledger: whether the batch's signature was checked, and
  // every record's hash as the ledger keeps it (32 bytes each, in batch
  // order): the sha256 fields the station signed, or the computed hashes
  // of an unsigned batch.
  bool is_signed = false;
  std::string ledger_hashes;

  // Filled by the committer: the sequence number of each accepted record
  // the store took (0 for the others). Parallel to `accepted`.
  std::vector<uint64_t> sequences;
};

}  // namespace seisvault::ingest
