#include "socket_monitor.h"

#include <cstring>

#include <fmt/format.h>

namespace seisvault::client {

Result<SocketMonitor> SocketMonitor::start(zmq::context_t& context, zmq::socket_t& watched,
                                           const std::string& address, int events) {
  if (zmq_socket_monitor(watched.handle(), address.c_str(), events) != 0) {
    return Status::io_error(fmt::format("cannot monitor the socket: {}", zmq_strerror(zmq_errno())));
  }
  try {  // cppzmq reports failures by exception; this runs once, at start-up
    zmq::socket_t pair(context, zmq::socket_type::pair);
    pair.set(zmq::sockopt::linger, 0);
    pair.connect(address);
    return SocketMonitor(std::move(pair));
  } catch (const zmq::error_t& e) {
    return Status::io_error(fmt::format("cannot connect the socket monitor: {}", e.what()));
  }
}

std::optional<MonitorEvent> SocketMonitor::next() {
  // An event is two frames: 6 bytes (uint16 event, uint32 value, host
  // order), then the endpoint, which is not needed here.
  zmq::message_t head;
  if (zmq_msg_recv(head.handle(), pair_.handle(), ZMQ_DONTWAIT) < 0) return std::nullopt;
  bool more = head.more();
  while (more) {
    zmq::message_t rest;
    if (zmq_msg_recv(rest.handle(), pair_.handle(), ZMQ_DONTWAIT) < 0) break;
    more = rest.more();
  }
  MonitorEvent e;
  if (head.size() >= 6) {
    std::memcpy(&e.event, head.data(), 2);
    std::memcpy(&e.value, static_cast<const char*>(head.data()) + 2, 4);
  }
  return e;
}

}  // namespace seisvault::client
