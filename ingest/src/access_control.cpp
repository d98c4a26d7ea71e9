#include "seisvault/ingest/access_control.h"

#include <fstream>
#include <sstream>

#include <fmt/format.h>

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
  std::string text;
  if (std::filesystem::exists(path_)) {
    std::ifstream in(path_);
    if (!in) return Status::io_error(fmt::format("cannot read {}", path_.string()));
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  std::vector<std::string> problems;
  auto list = StationAccessList::parse_lenient(text, problems);
  put_in_force(std::move(list), std::move(problems));
  return {};
}

}  // namespace seisvault::ingest
