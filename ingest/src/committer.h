// Committer: the only writer of the store. Internal to ingest/.
//
// Takes validated batches in arrival order (CommitOrder), every one that is
// ready up to max_records_per_write records, and writes their accepted
// records in one RecordStore::write (blocks per channel, catalog,
// summaries, duplicate detection). Under group commit it times its writes
// by the syncer's fsyncs (one larger write per fsync). Written batches go
// to the syncer, which makes them durable and acknowledges them.
//
// When the store refuses the write (paused: free space below the reserve,
// or recovering from a failed write; failed: an fsync failed), nothing is
// stored and every batch of the group is answered STORE_UNAVAILABLE with a
// retry delay: the stations keep them and resend. The receiver stops
// reading while the store is not ok; the committer, idle then, asks the
// store to look whether the cause has cleared.
#pragma once

#include <chrono>
#include <vector>

#include "commit_order.h"
#include "pipeline.h"

namespace seisvault::ingest {

class Committer {
 public:
  explicit Committer(Pipeline& p) : p_(p), order_(p.commit_queue) {}

  // Runs until Pipeline::committer_done is set and every batch has been
  // handed to the syncer.
  void run();

 private:
  // Takes what is ready into group_ (after `first`); under group commit,
  // keeps gathering until the next fsync is near.
  size_t gather(BatchPtr first);
  void write_group(size_t count);
  // Answers every batch of the group STORE_UNAVAILABLE (nothing stored).
  void defer_group(const Status& why);
  // Adds station_deltas_ to IngestStats::stored_by_station, one entry per
  // station.
  void count_stations();

  Pipeline& p_;
  CommitOrder order_;
  std::vector<BatchPtr> group_;
  std::vector<storage::NewRecord> records_;
  std::vector<storage::LedgerBatch> ledger_batches_;  // one per batch of the group with records (views into it)
  std::vector<storage::WriteOutcome> outcomes_;
  std::vector<uint64_t> sequences_;
  std::vector<StationTotals::Delta> station_deltas_;  // one write's stored records per station
  std::chrono::steady_clock::duration write_estimate_ = std::chrono::milliseconds(1);
};

}  // namespace seisvault::ingest
