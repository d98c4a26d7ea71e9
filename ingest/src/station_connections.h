// StationConnections: the receiver's table of station connections, with the
// limits that keep one station (or a flood of connections) from taking the
// server's memory. Internal to ingest/; used by the receiver thread only.
//
// A connection is known by the fd ZeroMQ reads it from (the socket
// monitor's ACCEPTED/DISCONNECTED events and each message's ZMQ_SRCFD) and,
// from its first message on, by its ROUTER routing id and the station key
// it authenticated with.
//
// Limits:
// - max_connections connections open at once (counted from ACCEPTED, so
//   handshakes in progress count too): accepted() says when to close one;
// - max_per_key connections per station key: add() says when to close one;
// - a connection's load (batches in the pipeline plus acknowledgements it
//   has not read yet) is what the receiver bounds per connection.
// The acks waiting for all connections are counted here, as they are kept,
// sent and dropped with their connection (keep_unsent(), sent_unsent()).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <zmq.hpp>

#include "seisvault/common/string_map.h"

namespace seisvault::ingest {

struct StationConnection {
  std::string routing_id;
  std::string key;      // the station's Z85 public key ("insecure" without CURVE)
  int fd = -1;          // -1 when ZeroMQ cannot tell (inproc)
  uint32_t in_pipeline = 0;                  // batches read and not yet acknowledged by the syncer
  std::deque<zmq::message_t> unsent_acks;    // acks its socket could not take yet (it does not read them);
                                             // changed through StationConnections only
  size_t load() const { return in_pipeline + unsent_acks.size(); }
};

class StationConnections {
 public:
  StationConnections(size_t max_connections, size_t max_per_key)
      : max_connections_(max_connections), max_per_key_(max_per_key) {}

  // ZeroMQ accepted a connection on `fd`. False when max_connections are
  // already open: the caller closes it (it still counts until it is gone).
  bool accepted(int fd);
  // The connection on `fd` closed: forgets it (its unsent acks are dropped;
  // the station resends what was not acknowledged).
  void disconnected(int fd);

  // The connection `routing_id`, or nullptr before its first message.
  StationConnection* find(std::string_view routing_id);
  // Registers the connection of a first message. nullptr when `key` has
  // max_per_key connections already: the caller closes this one.
  StationConnection* add(std::string_view routing_id, int fd, std::string_view key);
  // Forgets a connection ZeroMQ no longer knows (sends to it fail).
  void remove(std::string_view routing_id);

  // The fds of the connections whose key `listed` no longer accepts.
  std::vector<int> revoked(const std::function<bool(std::string_view key)>& listed) const;
  // Every connection with acks waiting to be sent.
  void for_each_with_unsent_acks(const std::function<void(StationConnection&)>& f);
  // Keeps an ack `c`'s socket could not take, behind those already waiting.
  void keep_unsent(StationConnection& c, zmq::message_t ack);
  // The first of `c`'s waiting acks was sent.
  void sent_unsent(StationConnection& c);
  // Acks waiting over all connections.
  size_t unsent_acks() const { return unsent_acks_; }

  size_t open() const { return open_; }
  size_t known() const { return by_routing_id_.size(); }
  size_t connections_of(std::string_view key) const;

 private:
  void forget(StringMap<StationConnection>::iterator it);

  size_t max_connections_;
  size_t max_per_key_;
  size_t open_ = 0;
  size_t unsent_acks_ = 0;
  std::unordered_set<int> accepted_fds_;
  StringMap<StationConnection> by_routing_id_;
  std::unordered_map<int, std::string> routing_id_by_fd_;
  StringMap<size_t> per_key_;
};

}  // namespace seisvault::ingest
