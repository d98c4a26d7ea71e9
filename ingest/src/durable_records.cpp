#include "seisvault/ingest/durable_records.h"

#include <algorithm>

namespace seisvault::ingest {

uint64_t DurableRecords::first_sequence() const {
  if (sequences.empty()) return 0;
  return *std::min_element(sequences.begin(), sequences.end());
}

uint64_t DurableRecords::end_sequence() const {
  if (sequences.empty()) return 0;
  return *std::max_element(sequences.begin(), sequences.end()) + 1;
}

}  // namespace seisvault::ingest
