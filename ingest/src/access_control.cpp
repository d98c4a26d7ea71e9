#include "seisvault/ingest/access_control.h"

namespace seisvault::ingest {

void AccessControl::put_in_force(StationAccessList list, std::vector<std::string> problems) {
  auto fresh = std::make_shared<const StationAccessList>(std::move(list));
  {
    std::lock_guard lock(mutex_);
    list_ = std::move(fresh);
    problems_ = std::move(problems);
  }
  generation_.fetch_add(1, std::memory_order_acq_rel);
}

Status AccessControl::reload() {
  auto list = StationAccessList::load(path_);
  if (!list.ok()) return list.status();
  put_in_force(std::move(list.value()), {});
  return {};
}

Status AccessControl::reload_lenient() {
  std::vector<std::string> problems;
  auto list = StationAccessList::load_lenient(path_, problems);
  if (!list.ok()) return list.status();
  put_in_force(std::move(list.value()), std::move(problems));
  return {};
}

}  // namespace seisvault::ingest
