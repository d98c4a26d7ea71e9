#include "station_metadata.h"

#include <fmt/format.h>

namespace seisvault::server {

Result<std::unique_ptr<StationMetadata>> StationMetadata::open(storage::RecordStore& store) {
  std::unique_ptr<StationMetadata> m(new StationMetadata(store));
  std::lock_guard lock(m->change_mutex_);
  if (auto s = m->rebuild(); !s.ok()) return s;
  return m;
}

std::shared_ptr<const StationInventory> StationMetadata::current() const {
  std::lock_guard lock(current_mutex_);
  return current_;
}

Status StationMetadata::rebuild() {
  auto docs = store_.read_inventory();
  if (!docs.ok()) return docs.status();
  auto built = StationInventory::build(*docs);
  if (!built.ok()) {
    return Status::invalid_argument(fmt::format("the stored station metadata does not load: {} (seisvault "
                                                "inventory remove, then load a corrected file)",
                                                built.status().message()));
  }
  std::lock_guard lock(current_mutex_);
  current_ = std::move(*built);
  return {};
}

Result<StationMetadata::DocumentInfo> StationMetadata::describe(const storage::InventoryDocument& doc) {
  auto inv = StationInventory::build({doc});
  if (!inv.ok()) return inv.status();
  DocumentInfo info;
  info.name = doc.name;
  info.loaded_ns = doc.loaded_ns;
  info.bytes = doc.xml.size();
  info.networks = (*inv)->network_count();
  info.stations = (*inv)->station_count();
  info.channels = (*inv)->channel_count();
  return info;
}

Result<StationMetadata::DocumentInfo> StationMetadata::put(std::string_view name, std::string_view xml) {
  if (auto s = StationInventory::validate(xml); !s.ok()) return s;
  std::lock_guard lock(change_mutex_);
  auto docs = store_.read_inventory();
  if (!docs.ok()) return docs.status();
  bool replaced = false;
  for (const auto& d : *docs) replaced = replaced || d.name == name;
  if (auto s = store_.put_inventory(name, xml); !s.ok()) return s;
  if (auto s = rebuild(); !s.ok()) return s;
  auto info = describe({std::string(name), std::string(xml), now_ns()});
  if (!info.ok()) return info.status();
  info->replaced = replaced;
  return info;
}

Status StationMetadata::remove(std::string_view name) {
  std::lock_guard lock(change_mutex_);
  if (auto s = store_.remove_inventory(name); !s.ok()) {
    if (s.code() != StatusCode::kNotFound) return s;
    std::string loaded;
    if (auto docs = store_.read_inventory(); docs.ok()) {
      for (const auto& d : *docs) loaded += (loaded.empty() ? "" : ", ") + d.name;
    }
    return Status::not_found(fmt::format("no station metadata document named '{}' (loaded: {})", name,
                                         loaded.empty() ? "none" : loaded));
  }
  return rebuild();
}

Result<std::vector<StationMetadata::DocumentInfo>> StationMetadata::list() const {
  auto docs = store_.read_inventory();
  if (!docs.ok()) return docs.status();
  std::vector<DocumentInfo> out;
  out.reserve(docs->size());
  for (const auto& d : *docs) {
    auto info = describe(d);
    if (!info.ok()) return Status::invalid_argument(fmt::format("'{}' does not load: {}", d.name, info.status().message()));
    out.push_back(std::move(*info));
  }
  return out;
}

}  // namespace seisvault::server
