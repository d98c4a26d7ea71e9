// StoreHealth: whether the record store takes writes now, and why not.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "seisvault/common/time.h"

namespace seisvault::storage {

enum class StoreState : uint8_t {
  kOk,      // writes are taken
  kPaused,  // writes are refused until the cause clears (free space below
            // the reserve, or RocksDB recovering from a write error); the
            // store resumes by itself
  kFailed,  // a sync of the write-ahead log failed: what was written since
            // the last good sync may not be on disk, and nothing may be
            // acknowledged as durable until the store is reopened
};

std::string_view store_state_name(StoreState state);  // "ok", "paused", "failed"

struct StoreHealth {
  StoreState state = StoreState::kOk;
  std::string message;        // why not ok, and what the operator can do ("" when ok)
  TimeNs since_ns = 0;        // when the state last changed
  uint64_t free_bytes = 0;    // free space on the store's filesystem, last checked (0: unknown)
};

}  // namespace seisvault::storage
