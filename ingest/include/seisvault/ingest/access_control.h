// AccessControl: the authorized-stations list currently in force.
//
// Readers take a snapshot (a shared_ptr) and keep using it for the batch at
// hand, so a reload never blocks ingest. A key removed by a reload is
// refused from then on: the ZAP handler refuses its handshakes, the
// receiver closes its open connections (it watches generation()), and any
// batch of it still in the pipeline is rejected not_authorized.
// Thread-safe.
#pragma once

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "seisvault/common/station_access_list.h"
#include "seisvault/common/status.h"

namespace seisvault::ingest {

class AccessControl {
 public:
  explicit AccessControl(std::filesystem::path path) : path_(std::move(path)) {}

  // Reads the file strictly (at start-up). On any error the list in force is
  // kept and the error returned.
  Status reload();

  // Reads the file on SIGHUP. Entries that parse are put in force; a line
  // that does not parse is left out (its key loses access: failing closed,
  // so that a revocation or a narrowed pattern written by hand never fails
  // to take effect because of a typo elsewhere) and reported. IoError when
  // the file cannot be read at all: then the list in force is kept.
  // problems() tells what was left out by the last reload.
  Status reload_lenient();

  std::shared_ptr<const StationAccessList> current() const {
    std::lock_guard lock(mutex_);
    return list_;
  }
  // Lines the last reload left out ("line 7: ..."); empty when none.
  std::vector<std::string> problems() const {
    std::lock_guard lock(mutex_);
    return problems_;
  }
  // Increases with every list put in force.
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  const std::filesystem::path& path() const { return path_; }

 private:
  void put_in_force(StationAccessList list, std::vector<std::string> problems);

  std::filesystem::path path_;
  mutable std::mutex mutex_;
  std::shared_ptr<const StationAccessList> list_ = std::make_shared<StationAccessList>();
  std::vector<std::string> problems_;
  std::atomic<uint64_t> generation_{0};
};

}  // namespace seisvault::ingest
