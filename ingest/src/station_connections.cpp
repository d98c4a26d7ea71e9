#include "station_connections.h"

namespace seisvault::ingest {

bool StationConnections::accepted(int fd) {
  if (fd >= 0 && !accepted_fds_.insert(fd).second) return open_ < max_connections_;
  ++open_;
  return open_ <= max_connections_;
}

void StationConnections::disconnected(int fd) {
  if (accepted_fds_.erase(fd) > 0 && open_ > 0) --open_;
  const auto r = routing_id_by_fd_.find(fd);
  if (r == routing_id_by_fd_.end()) return;
  const auto it = by_routing_id_.find(r->second);
  routing_id_by_fd_.erase(r);
  if (it != by_routing_id_.end()) forget(it);
}

StationConnection* StationConnections::find(std::string_view routing_id) {
  const auto it = by_routing_id_.find(routing_id);
  return it == by_routing_id_.end() ? nullptr : &it->second;
}

StationConnection* StationConnections::add(std::string_view routing_id, int fd, std::string_view key) {
  auto& count = per_key_[std::string(key)];
  if (count >= max_per_key_) {
    if (count == 0) per_key_.erase(std::string(key));
    return nullptr;
  }
  ++count;
  StationConnection c;
  c.routing_id = routing_id;
  c.key = key;
  c.fd = fd;
  auto [it, inserted] = by_routing_id_.emplace(c.routing_id, std::move(c));
  if (fd >= 0) {
    // A connection on this fd that is still listed has closed (its fd was
    // reused): its DISCONNECTED event was handled before the new one's
    // first message, so this only happens with a routing id reused at once.
    if (auto old = routing_id_by_fd_.find(fd); old != routing_id_by_fd_.end() && old->second != it->first) {
      if (auto o = by_routing_id_.find(old->second); o != by_routing_id_.end()) forget(o);
    }
    routing_id_by_fd_[fd] = it->first;
  }
  return &it->second;
}

void StationConnections::remove(std::string_view routing_id) {
  const auto it = by_routing_id_.find(routing_id);
  if (it == by_routing_id_.end()) return;
  if (it->second.fd >= 0) routing_id_by_fd_.erase(it->second.fd);
  forget(it);
}

void StationConnections::forget(StringMap<StationConnection>::iterator it) {
  unsent_acks_ -= it->second.unsent_acks.size();
  if (auto k = per_key_.find(it->second.key); k != per_key_.end()) {
    if (--k->second == 0) per_key_.erase(k);
  }
  by_routing_id_.erase(it);
}

std::vector<int> StationConnections::revoked(const std::function<bool(std::string_view key)>& listed) const {
  std::vector<int> fds;
  for (const auto& [id, c] : by_routing_id_) {
    if (c.fd >= 0 && !listed(c.key)) fds.push_back(c.fd);
  }
  return fds;
}

void StationConnections::for_each_with_unsent_acks(const std::function<void(StationConnection&)>& f) {
  for (auto& [id, c] : by_routing_id_) {
    if (!c.unsent_acks.empty()) f(c);
  }
}

void StationConnections::keep_unsent(StationConnection& c, zmq::message_t ack) {
  c.unsent_acks.push_back(std::move(ack));
  ++unsent_acks_;
}

void StationConnections::sent_unsent(StationConnection& c) {
  c.unsent_acks.pop_front();
  --unsent_acks_;
}

size_t StationConnections::connections_of(std::string_view key) const {
  const auto it = per_key_.find(key);
  return it == per_key_.end() ? 0 : it->second;
}

}  // namespace seisvault::ingest
