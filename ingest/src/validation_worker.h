// ValidationWorker: one of the N threads between the receiver and the
// committer. Internal to ingest/.
//
// For each record of a batch: its SHA-256 against the station's, the
// RecordValidator's verdict, and whether the sender's key may write its
// NET.STA; accepted records become NewRecords for the committer (views into
// the batch's frame). A worker owns its RecordValidator.
#pragma once

#include "pipeline.h"
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
  Pipeline& p_;
  RecordValidator validator_;
};

}  // namespace seisvault::ingest
