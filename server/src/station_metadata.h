// StationMetadata: the station metadata a server answers from, and the one
// way to change it.
//
// Documents (StationXML) are validated, stored in the record store (synced,
// see RecordStore::put_inventory), and the queryable StationInventory is
// rebuilt from every stored document and swapped in: a query holds the
// inventory it started with, so a change never tears an answer. Both the
// running server (gRPC PutInventory/ListInventory/RemoveInventory) and
// `seisvault inventory --data-dir` (the server stopped) change metadata
// through this class. Thread-safe; changes are serialized.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "seisvault/common/status.h"
#include "seisvault/storage/record_store.h"
#include "station_inventory.h"

namespace seisvault::server {

// The largest document PutInventory takes (a gRPC message holds it whole);
// larger ones load with `seisvault inventory load --data-dir` (the store
// takes up to storage::kMaxInventoryBytes).
inline constexpr size_t kMaxApiInventoryBytes = size_t{64} << 20;

class StationMetadata {
 public:
  struct DocumentInfo {
    std::string name;
    TimeNs loaded_ns = 0;
    size_t bytes = 0;
    size_t networks = 0, stations = 0, channels = 0;
    bool replaced = false;  // put(): a document of that name was replaced
  };

  // Loads every document in `store` (which must outlive this). Errors: the
  // store's, or InvalidArgument when a stored document no longer loads
  // (naming it: remove it, then load a corrected file).
  static Result<std::unique_ptr<StationMetadata>> open(storage::RecordStore& store);

  // What queries answer from now (never null; empty when nothing is loaded).
  std::shared_ptr<const StationInventory> current() const;

  // Validates `xml` (InvalidArgument with what is wrong), stores it under
  // `name` (replacing a document of that name; the store's errors, e.g.
  // Unavailable while it is paused), and serves it from then on.
  Result<DocumentInfo> put(std::string_view name, std::string_view xml);
  // Removes a document (NotFound, naming the loaded ones, when absent).
  Status remove(std::string_view name);
  // Every stored document with its counts, by name.
  Result<std::vector<DocumentInfo>> list() const;

  // The counts of one document; InvalidArgument when it does not load.
  static Result<DocumentInfo> describe(const storage::InventoryDocument& doc);

 private:
  explicit StationMetadata(storage::RecordStore& store) : store_(store) {}
  Status rebuild();  // from the store; caller holds change_mutex_

  storage::RecordStore& store_;
  std::mutex change_mutex_;                // one change at a time
  mutable std::mutex current_mutex_;       // guards current_ (held only to copy the pointer)
  std::shared_ptr<const StationInventory> current_;
};

}  // namespace seisvault::server
