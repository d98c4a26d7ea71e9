#include "receiver.h"

#include <cstring>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <zmq_addon.hpp>

#include "batch_parser.h"

namespace seisvault::ingest {

namespace {

constexpr auto kRejectionReportInterval = std::chrono::seconds(10);

}  // namespace

Status Receiver::bind() {
  const auto& o = p_.options;
  try {
    if (!o.insecure) {
      router_.set(zmq::sockopt::curve_server, 1);
      router_.set(zmq::sockopt::curve_secretkey, o.server_keys.secret_key);
    }
    router_.set(zmq::sockopt::linger, 0);
    router_.set(zmq::sockopt::maxmsgsize, o.max_message_bytes);
    router_.set(zmq::sockopt::rcvhwm, 1000);
    router_.set(zmq::sockopt::sndhwm, 100000);
    router_.set(zmq::sockopt::router_mandatory, 0);
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
  return {};
}

void Receiver::reply_now(const zmq::message_t& routing_id, const v1::IngestAck& ack) {
  zmq::message_t id(routing_id.data(), routing_id.size());
  zmq::message_t body(ack.ByteSizeLong());
  ack.SerializeToArray(body.data(), static_cast<int>(body.size()));
  router_.send(id, zmq::send_flags::sndmore | zmq::send_flags::dontwait);
  router_.send(body, zmq::send_flags::dontwait);
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
  auto b = std::make_unique<InFlightBatch>();
  b->receive_ns = now;
  if (options.insecure) {
    b->sender = "insecure";
  } else {
    const char* user = zmq_msg_gets(frames[1].handle(), "User-Id");
    b->sender = user ? user : "";
  }
  b->frame = std::move(frames[1]);
  v1::IngestAck ack;
  p_.fill_limits(ack);
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
  stats.records_received.fetch_add(n, std::memory_order_relaxed);
  if (n > options.max_records_per_batch || b->frame.size() > options.max_batch_bytes) {
    const auto message = fmt::format("batch of {} records / {} bytes exceeds the server's limit of {} records / {} bytes",
                                     n, b->frame.size(), options.max_records_per_batch, options.max_batch_bytes);
    for (size_t i = 0; i < n; ++i) {
      auto* r = ack.add_results();
      r->set_status(v1::REJECTED);
      r->set_reason(v1::BATCH_TOO_LARGE);
      r->set_message(message);
      p_.rejections.count(RejectReason::kBatchTooLarge, message);
    }
    stats.batches.fetch_add(1, std::memory_order_relaxed);
    reply_now(frames[0], ack);
    return;
  }
  if (n == 0) {
    stats.batches.fetch_add(1, std::memory_order_relaxed);
    reply_now(frames[0], ack);  // nothing to store: an empty ack
    return;
  }
  b->routing_id = std::move(frames[0]);
  b->sequence = next_sequence_++;
  p_.in_flight.fetch_add(1, std::memory_order_relaxed);
  p_.validate_queue.enqueue(std::move(b));
}

void Receiver::handle_monitor_event() {
  std::vector<zmq::message_t> ev;
  if (!zmq::recv_multipart(monitor_, std::back_inserter(ev), zmq::recv_flags::dontwait) || ev.empty() ||
      ev[0].size() < 6) {
    return;
  }
  uint16_t event;
  std::memcpy(&event, ev[0].data(), 2);
  auto& connections = p_.stats.connections;
  switch (event) {
    case ZMQ_EVENT_ACCEPTED:
      connections.fetch_add(1, std::memory_order_relaxed);
      break;
    case ZMQ_EVENT_DISCONNECTED:
      connections.fetch_sub(1, std::memory_order_relaxed);
      spdlog::info("station connection closed ({} open)", connections.load());
      break;
    case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
      spdlog::info("station connected ({} open)", connections.load());
      break;
    case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
      spdlog::warn("station handshake refused: key not authorized");
      break;
    default:
      spdlog::warn("station handshake failed (protocol error or not a CURVE client)");
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
      zmq::poll(items, 3, std::chrono::milliseconds(100));
      // Acks first: they free room in the pipeline.
      for (int k = 0; k < 1024 && (items[0].revents & ZMQ_POLLIN); ++k) {
        frames.clear();
        if (!zmq::recv_multipart(acks_in_, std::back_inserter(frames), zmq::recv_flags::dontwait)) break;
        // The batch is done whether or not its ack reaches the station (an
        // ack lost to a gone or full peer only makes the station resend).
        p_.in_flight.fetch_sub(1, std::memory_order_relaxed);
        router_.send(frames[0], zmq::send_flags::sndmore | zmq::send_flags::dontwait);
        router_.send(frames[1], zmq::send_flags::dontwait);
      }
      if (items[1].revents & ZMQ_POLLIN) handle_monitor_event();
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
      next_report = now + kRejectionReportInterval;
    }
  }
  p_.rejections.report();
}

}  // namespace seisvault::ingest
