// ValidationWorker: one of the N threads between the receiver and the
// committer. Internal to ingest/.
//
// First the batch's signature, when the sender's key has a signing key
// registered (a batch that fails is refused whole, BAD_SIGNATURE: nothing
// of it reaches the store). Then for each record: its SHA-256 against the station's, the
// RecordValidator's verdict, and whether the sender's key may write its
// NET.STA; accepted records become NewRecords for the committer (views into
// the batch's frame). A worker owns its RecordValidator.
#pragma once

#include <string>

#include "pipeline.h"
#include "seisvault/common/station_access_list.h"
#include "seisvault/ingest/record_validator.h"

namespace seisvault::ingest {

class ValidationWorker {
 public:
  explicit ValidationWorker(Pipeline& p) : p_(p), validator_(p.options.validator) {}

  // Validates batches from validate_queue into commit_queue until
  // Pipeline::workers_done is set and the queue is empty.
  void run();

  // Fills b's verdicts, hashes and accepted records.
  void validate(InFlightBatch& b);

 private:
  // Empty when `b` may go on: its signature is the registered signing
  // key's, or the key may send unsigned batches (or the server is
  // --insecure, or the key is not listed: its records are refused one by
  // one). Otherwise why the batch is refused.
  std::string check_signature(const InFlightBatch& b, const StationAccessEntry* entry);

  Pipeline& p_;
  RecordValidator validator_;
  std::string message_;  // the signed message, rebuilt per batch (capacity kept)
};

}  // namespace seisvault::ingest
