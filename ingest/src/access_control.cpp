#include "seisvault/ingest/access_control.h"

namespace seisvault::ingest {

Status AccessControl::reload() {
  auto list = StationAccessList::load(path_);
  if (!list.ok()) return list.status();
  auto fresh = std::make_shared<const StationAccessList>(std::move(list.value()));
  std::lock_guard lock(mutex_);
  list_ = std::move(fresh);
  return {};
}

}  // namespace seisvault::ingest
