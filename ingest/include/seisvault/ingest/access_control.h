// AccessControl: the authorized-stations list currently in force.
//
// reload() re-reads the file and swaps the list in one step; readers take a
// snapshot (a shared_ptr) and keep using it for the batch at hand, so a
// reload never blocks ingest and never drops connections. A key removed by
// a reload is refused from its next batch on, even on a live connection.
// Thread-safe.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>

#include "seisvault/common/station_access_list.h"
#include "seisvault/common/status.h"

namespace seisvault::ingest {

class AccessControl {
 public:
  explicit AccessControl(std::filesystem::path path) : path_(std::move(path)) {}

  // Reads the file. On error the list in force is kept and the error returned.
  Status reload();

  std::shared_ptr<const StationAccessList> current() const {
    std::lock_guard lock(mutex_);
    return list_;
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  mutable std::mutex mutex_;
  std::shared_ptr<const StationAccessList> list_ = std::make_shared<StationAccessList>();
};

}  // namespace seisvault::ingest
