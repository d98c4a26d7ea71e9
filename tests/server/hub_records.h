// Groups of durable records made up for the hub's tests: what the ingest
// pipeline hands to SubscriptionHub::publish(), with memory of their own.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "seisvault/ingest/durable_records.h"

namespace seisvault::test {

// One group: record i has source id ids[i] and bytes "<id>#<first_seq + i>"
// (unique, so the tests can tell records apart), start time first_seq + i.
inline std::shared_ptr<const ingest::DurableRecords> durable_group(const std::vector<std::string>& ids,
                                                                   int64_t first_seq) {
  struct Owned {
    std::vector<std::string> ids;
    std::vector<std::string> bytes;
  };
  auto owned = std::make_shared<Owned>();
  owned->ids = ids;
  for (size_t i = 0; i < ids.size(); ++i) owned->bytes.push_back(ids[i] + "#" + std::to_string(first_seq + i));
  auto group = std::make_shared<ingest::DurableRecords>();
  for (size_t i = 0; i < ids.size(); ++i) {
    storage::NewRecord r;
    r.source_id = owned->ids[i];
    r.start_ns = first_seq + static_cast<int64_t>(i);
    r.end_ns = r.start_ns;
    r.bytes = {reinterpret_cast<const uint8_t*>(owned->bytes[i].data()), owned->bytes[i].size()};
    group->records.push_back(r);
  }
  group->keep_alive = owned;
  return group;
}

}  // namespace seisvault::test
