// DurableRecords: records that just became durable, handed from the ingest
// pipeline to whoever follows new data (the Subscribe RPC).
#pragma once

#include <memory>
#include <vector>

#include "seisvault/storage/new_record.h"

namespace seisvault::ingest {

// The views in `records` point into memory that `keep_alive` owns (the
// received frames): they stay valid as long as this object lives, on any
// thread. Immutable once published.
//
// Sequence numbers (storage::RecordStore::write): sequences[i] is
// records[i]'s. The records of one DurableRecords are those of one or more
// consecutive store writes, so their numbers are exactly
// [first_sequence(), end_sequence()) though not in that order (records keep
// their batches' order), and the next DurableRecords published normally
// starts where this one ends. Not always: the records of a write whose WAL
// sync failed are never published (the store is then failed), so a
// consumer that relies on numbers must look for gaps.
struct DurableRecords {
  std::vector<storage::NewRecord> records;  // status STORED only, in commit order
  std::vector<uint64_t> sequences;          // parallel to records
  std::shared_ptr<const void> keep_alive;

  uint64_t first_sequence() const;  // the smallest number, 0 when empty
  uint64_t end_sequence() const;    // one past the largest, 0 when empty
};

}  // namespace seisvault::ingest
