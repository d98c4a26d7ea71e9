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
struct DurableRecords {
  std::vector<storage::NewRecord> records;  // status STORED only, in commit order
  std::shared_ptr<const void> keep_alive;
};

}  // namespace seisvault::ingest
