// SocketMonitor: the events ZeroMQ reports about one socket's connections
// (zmq_socket_monitor), read without blocking.
//
// The monitor's PAIR socket is polled next to the socket it watches, so
// that connection events (retries, drops, security handshake outcomes)
// are handled on the same thread as the data. Internal to the client.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <zmq.hpp>

#include "seisvault/common/status.h"

namespace seisvault::client {

struct MonitorEvent {
  uint16_t event = 0;  // ZMQ_EVENT_*
  uint32_t value = 0;  // errno, interval, ZAP status or ZMQ_PROTOCOL_ERROR_*, by event
};

class SocketMonitor {
 public:
  // Starts monitoring `events` (ZMQ_EVENT_* bits) of `watched` through the
  // inproc `address`, unique within `context`. Call before connect() so
  // that no event is missed. IoError when ZeroMQ refuses.
  static Result<SocketMonitor> start(zmq::context_t& context, zmq::socket_t& watched, const std::string& address,
                                     int events);

  // The socket to poll for ZMQ_POLLIN.
  zmq::socket_t& socket() { return pair_; }

  // The next event, or nullopt when none is waiting.
  std::optional<MonitorEvent> next();

 private:
  explicit SocketMonitor(zmq::socket_t pair) : pair_(std::move(pair)) {}
  zmq::socket_t pair_;
};

}  // namespace seisvault::client
