#include "receiver.h"

#include <sys/socket.h>

#include <cstring>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <zmq_addon.hpp>

#include "batch_parser.h"

namespace seisvault::ingest {

namespace {

constexpr auto kRejectionReportInterval = std::chrono::seconds(10);
// Messages ZeroMQ buffers per connection before it stops reading it (TCP
// then holds the station back): the receiver takes messages as fast as
// they come, so a few suffice, and each may be max_message_bytes.
constexpr int kReceiveHighWater = 4;
// A station that is refused BUSY resends after this long.
constexpr uint32_t kBusyRetryMs = 1'000;

int64_t max_message_bytes(const IngestOptions& o) {
  if (o.max_message_bytes > 0) return o.max_message_bytes;
  return static_cast<int64_t>(std::min<uint64_t>(o.max_batch_bytes * 2 + (64 << 10), uint64_t{1} << 40));
}

}  // namespace

Receiver::Receiver(Pipeline& p)
    : p_(p), connections_(p.options.max_connections, std::max<size_t>(1, p.options.max_connections_per_key)) {}

Status Receiver::bind() {
  const auto& o = p_.options;
  try {
    if (!o.insecure) {
      router_.set(zmq::sockopt::curve_server, 1);
      router_.set(zmq::sockopt::curve_secretkey, o.server_keys.secret_key);
    }
    router_.set(zmq::sockopt::linger, 0);
    router_.set(zmq::sockopt::maxmsgsize, max_message_bytes(o));
    router_.set(zmq::sockopt::rcvhwm, kReceiveHighWater);
    // Acks and answers a station has not read yet: its share of the
    // pipeline plus room for the answers that need none.
    router_.set(zmq::sockopt::sndhwm, static_cast<int>(o.max_batches_per_connection + 16));
    // A send to a station whose socket is full (or gone) fails instead of
    // being dropped silently: the ack is kept and counts against it.
    router_.set(zmq::sockopt::router_mandatory, 1);
    router_.set(zmq::sockopt::handshake_ivl, static_cast<int>(o.handshake_timeout.count()));
    router_.set(zmq::sockopt::rcvbuf, 4 << 20);
    router_.set(zmq::sockopt::sndbuf, 1 << 20);
    const std::string monitor_endpoint = fmt::format("inproc://seisvault-monitor-{}", static_cast<void*>(this));
    if (zmq_socket_monitor(router_.handle(), monitor_endpoint.c_str(),
                           ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
                               ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) != 0) {
      return Status::internal("cannot monitor the station socket");
    }
    monitor_.connect(monitor_endpoint);
    acks_in_.bind(p_.ack_endpoint);
    router_.bind(o.endpoint);
    bound_ = router_.get(zmq::sockopt::last_endpoint);
  } catch (const zmq::error_t& e) {
    return Status::io_error(fmt::format("cannot listen for stations on {}: {}", o.endpoint, e.what()));
  }
  access_generation_ = p_.access.generation();
  return {};
}

Receiver::Delivery Receiver::deliver(std::string_view routing_id, zmq::message_t& body) {
  zmq::message_t id(routing_id.data(), routing_id.size());
  if (zmq_msg_send(id.handle(), router_.handle(), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
    // ROUTER_MANDATORY: EAGAIN when the station's socket is full,
    // EHOSTUNREACH when the connection is gone.
    return zmq_errno() == EAGAIN ? Delivery::kFull : Delivery::kGone;
  }
  zmq_msg_send(body.handle(), router_.handle(), ZMQ_DONTWAIT);
  return Delivery::kSent;
}

void Receiver::reply_now(const zmq::message_t& routing_id, const v1::IngestAck& ack) {
  zmq::message_t body(ack.ByteSizeLong());
  ack.SerializeToArray(body.data(), static_cast<int>(body.size()));
  deliver(routing_id.to_string_view(), body);
}

void Receiver::forward_ack(zmq::message_t& routing_id, zmq::message_t& body) {
  // The batch is out of the pipeline whether or not its ack reaches the
  // station (an ack lost to a gone peer only makes the station resend).
  p_.in_flight.fetch_sub(1, std::memory_order_relaxed);
  p_.stats.batches_in_flight.fetch_sub(1, std::memory_order_relaxed);
  StationConnection* c = connections_.find(routing_id.to_string_view());
  if (!c) {
    // A connection this table never registered (it is gone, or inproc).
    deliver(routing_id.to_string_view(), body);
    return;
  }
  if (c->in_pipeline > 0) --c->in_pipeline;
  // Behind acks still waiting, to keep the order.
  const Delivery d = c->unsent_acks.empty() ? deliver(c->routing_id, body) : Delivery::kFull;
  if (d == Delivery::kFull) connections_.keep_unsent(*c, std::move(body));
  if (d == Delivery::kGone) connections_.remove(routing_id.to_string_view());
}

void Receiver::send_unsent_acks() {
  if (connections_.unsent_acks() > 0) {
    std::vector<std::string> gone;
    connections_.for_each_with_unsent_acks([&](StationConnection& c) {
      while (!c.unsent_acks.empty()) {
        const Delivery d = deliver(c.routing_id, c.unsent_acks.front());
        if (d == Delivery::kFull) return;
        if (d == Delivery::kGone) {
          gone.push_back(c.routing_id);
          return;
        }
        connections_.sent_unsent(c);
      }
    });
    for (const auto& id : gone) connections_.remove(id);
  }
  p_.stats.acks_unsent.store(connections_.unsent_acks(), std::memory_order_relaxed);
}

void Receiver::close_connection(int fd) {
  // ZeroMQ has no call to close one connection of a ROUTER; shutting the
  // socket down makes its I/O thread see the end of the stream and close
  // it (the DISCONNECTED event follows).
  if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
}

void Receiver::close_revoked_connections() {
  const uint64_t generation = p_.access.generation();
  if (generation == access_generation_) return;
  access_generation_ = generation;
  if (p_.options.insecure) return;
  const auto list = p_.access.current();
  const auto fds = connections_.revoked([&](std::string_view key) { return list->is_listed(key); });
  for (int fd : fds) close_connection(fd);
  if (!fds.empty()) {
    p_.stats.connections_revoked.fetch_add(fds.size(), std::memory_order_relaxed);
    spdlog::warn("closed {} station connection(s) whose key is no longer in the authorized-stations list",
                 fds.size());
  }
}

void Receiver::handle_station_message(std::vector<zmq::message_t>& frames) {
  const TimeNs now = now_ns();
  auto& stats = p_.stats;
  const auto& options = p_.options;
  if (frames.size() != 2) {
    stats.malformed_messages.fetch_add(1, std::memory_order_relaxed);
    if (frames.empty()) return;
    v1::IngestAck ack;
    ack.set_error(v1::MALFORMED);
    ack.set_error_message(fmt::format("expected one frame holding an IngestBatch, got {}", frames.size() - 1));
    p_.fill_limits(ack);
    reply_now(frames[0], ack);
    return;
  }
  std::string sender = "insecure";
  if (!options.insecure) {
    const char* user = zmq_msg_gets(frames[1].handle(), "User-Id");
    sender = user ? user : "";
  }

  // The connection's first message registers it (and its fd); a key over
  // its connection limit, or no longer listed, is closed.
  StationConnection* c = connections_.find(frames[0].to_string_view());
  if (!c) {
    const int fd = zmq_msg_get(frames[1].handle(), ZMQ_SRCFD);
    // A connection that closed and one that reused its fd: the closed one's
    // event was queued before the new one existed. Handle it first.
    handle_monitor_events();
    if (!options.insecure && !p_.access.current()->is_listed(sender)) {
      close_connection(fd);
      return;
    }
    c = connections_.add(frames[0].to_string_view(), fd, sender);
    if (!c) {
      stats.connections_refused.fetch_add(1, std::memory_order_relaxed);
      refusal_log_.log("closed a connection of station key {}: it already has {} connections open "
                       "(--max-connections-per-key)",
                       sender, connections_.connections_of(sender));
      close_connection(fd);
      return;
    }
  }

  v1::IngestAck ack;
  p_.fill_limits(ack);
  const std::span<const uint8_t> frame{static_cast<const uint8_t*>(frames[1].data()), frames[1].size()};
  if (c->load() >= options.max_batches_per_connection) {
    stats.batches_busy.fetch_add(1, std::memory_order_relaxed);
    busy_log_.log("station key {}: a batch answered BUSY (the connection has {} batches in the pipeline and {} "
                  "acknowledgements it has not read; limit {})",
                  c->key, c->in_pipeline, c->unsent_acks.size(), options.max_batches_per_connection);
    ack.set_batch_id(peek_batch_id(frame));
    ack.set_error(v1::BUSY);
    ack.set_error_message(fmt::format("this connection has {} batches in the server's pipeline and {} "
                                      "acknowledgements not read (limit {}): read acknowledgements, then resend",
                                      c->in_pipeline, c->unsent_acks.size(), options.max_batches_per_connection));
    ack.set_retry_after_ms(kBusyRetryMs);
    reply_now(frames[0], ack);
    return;
  }
  if (frame.size() > options.max_batch_bytes) {
    stats.batches_oversized.fetch_add(1, std::memory_order_relaxed);
    ack.set_batch_id(peek_batch_id(frame));
    ack.set_error(v1::OVERSIZED_BATCH);
    ack.set_error_message(fmt::format("a batch of {} bytes is over this server's limit of {} bytes: split it",
                                      frame.size(), options.max_batch_bytes));
    reply_now(frames[0], ack);
    return;
  }

  auto b = std::make_unique<InFlightBatch>();
  b->receive_ns = now;
  b->received_at = std::chrono::steady_clock::now();
  b->sender = std::move(sender);
  b->frame = std::move(frames[1]);
  if (!parse_ingest_batch({static_cast<const uint8_t*>(b->frame.data()), b->frame.size()}, b->batch)) {
    stats.malformed_messages.fetch_add(1, std::memory_order_relaxed);
    ack.set_error(v1::MALFORMED);
    ack.set_error_message(fmt::format("a frame of {} bytes that is not an IngestBatch (see proto/ingest.proto)",
                                      b->frame.size()));
    reply_now(frames[0], ack);
    return;
  }
  ack.set_batch_id(b->batch.batch_id);
  if (b->batch.protocol_version != v1::PROTOCOL_VERSION_1) {
    stats.malformed_messages.fetch_add(1, std::memory_order_relaxed);
    ack.set_error(v1::UNSUPPORTED_PROTOCOL);
    ack.set_error_message(
        fmt::format("protocol version {} is not supported; this server speaks version 1", b->batch.protocol_version));
    reply_now(frames[0], ack);
    return;
  }
  const auto n = b->batch.records.size();
  if (n > options.max_records_per_batch) {
    stats.batches_oversized.fetch_add(1, std::memory_order_relaxed);
    ack.set_error(v1::OVERSIZED_BATCH);
    ack.set_error_message(fmt::format("a batch of {} records is over this server's limit of {} records: split it",
                                      n, options.max_records_per_batch));
    reply_now(frames[0], ack);
    return;
  }
  stats.records_received.fetch_add(n, std::memory_order_relaxed);
  if (n == 0) {
    stats.batches.fetch_add(1, std::memory_order_relaxed);
    reply_now(frames[0], ack);  // nothing to store: an empty ack
    return;
  }
  b->routing_id = std::move(frames[0]);
  b->sequence = next_sequence_++;
  ++c->in_pipeline;
  p_.in_flight.fetch_add(1, std::memory_order_relaxed);
  // The gauges go up before the batch is queued, so that the stage taking
  // it never brings them below zero.
  stats.batches_in_flight.fetch_add(1, std::memory_order_relaxed);
  stats.validate_queue_batches.fetch_add(1, std::memory_order_relaxed);
  p_.validate_queue.enqueue(std::move(b));
}

void Receiver::handle_monitor_events() {
  for (;;) {
    std::vector<zmq::message_t> ev;
    if (!zmq::recv_multipart(monitor_, std::back_inserter(ev), zmq::recv_flags::dontwait) || ev.empty()) return;
    if (ev[0].size() < 6) continue;
    uint16_t event;
    int32_t value;
    std::memcpy(&event, ev[0].data(), 2);
    std::memcpy(&value, static_cast<const uint8_t*>(ev[0].data()) + 2, 4);
    switch (event) {
      case ZMQ_EVENT_ACCEPTED:
        if (!connections_.accepted(value)) {
          p_.stats.connections_refused.fetch_add(1, std::memory_order_relaxed);
          refusal_log_.log("closed a new station connection: {} are open (--max-connections)", connections_.open());
          close_connection(value);
        }
        break;
      case ZMQ_EVENT_DISCONNECTED:
        connections_.disconnected(value);
        connection_log_.log("station connection closed ({} open)", connections_.open());
        break;
      case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
        connection_log_.log("station connected ({} open)", connections_.open());
        break;
      case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
        connection_log_.log("station handshake refused: key not authorized");
        break;
      default:
        connection_log_.log("station handshake failed (protocol error, not a CURVE client, or too slow)");
    }
    p_.stats.connections.store(connections_.open(), std::memory_order_relaxed);
  }
}

void Receiver::run() {
  auto next_report = std::chrono::steady_clock::now() + kRejectionReportInterval;
  std::vector<zmq::message_t> frames;
  const size_t max_in_flight = p_.options.max_in_flight_batches;
  for (;;) {
    const bool stop_reading = p_.stopping.load();
    if (stop_reading && p_.in_flight.load() == 0) break;
    // While the store is not ok nothing new is read: stations keep their
    // data (ZeroMQ's high-water marks and TCP push back) until it resumes.
    const bool store_ok = p_.store.health().state == storage::StoreState::kOk;
    const bool can_read = !stop_reading && store_ok && p_.in_flight.load() < max_in_flight;
    zmq::pollitem_t items[] = {{acks_in_.handle(), 0, ZMQ_POLLIN, 0},
                               {monitor_.handle(), 0, ZMQ_POLLIN, 0},
                               {router_.handle(), 0, static_cast<short>(can_read ? ZMQ_POLLIN : 0), 0}};
    try {
      // Unsent acks are retried every few milliseconds while there are any.
      zmq::poll(items, 3, std::chrono::milliseconds(connections_.unsent_acks() > 0 ? 5 : 100));
      // Acks first: they free room in the pipeline.
      for (int k = 0; k < 1024 && (items[0].revents & ZMQ_POLLIN); ++k) {
        frames.clear();
        if (!zmq::recv_multipart(acks_in_, std::back_inserter(frames), zmq::recv_flags::dontwait)) break;
        forward_ack(frames[0], frames[1]);
      }
      send_unsent_acks();
      if (items[1].revents & ZMQ_POLLIN) handle_monitor_events();
      close_revoked_connections();
      for (int k = 0; k < 64 && can_read && (items[2].revents & ZMQ_POLLIN) && p_.in_flight.load() < max_in_flight;
           ++k) {
        frames.clear();
        if (!zmq::recv_multipart(router_, std::back_inserter(frames), zmq::recv_flags::dontwait)) break;
        handle_station_message(frames);
      }
    } catch (const zmq::error_t& e) {
      spdlog::error("ingest socket: {}", e.what());
    }
    if (const auto now = std::chrono::steady_clock::now(); now >= next_report) {
      p_.rejections.report();
      connection_log_.tick();
      refusal_log_.tick();
      busy_log_.tick();
      next_report = now + kRejectionReportInterval;
    }
  }
  p_.rejections.report();
}

}  // namespace seisvault::ingest
