// Receiver: the station socket's thread. Internal to ingest/.
//
// Owns the ROUTER socket (ZeroMQ sockets are single-threaded): reads one
// frame per batch, knows its sender from the ZAP User-Id (the station's
// public key), answers by itself what needs no pipeline (malformed frames,
// multi-frame messages, unknown protocol versions, empty batches, batches
// over the limits, connections over their share), hands the rest to the
// validation workers, and sends the acks the syncer hands back.
//
// What bounds memory, whatever stations send or fail to read:
// - ZeroMQ drops a message larger than max_message_bytes (and the
//   connection) before buffering it, and buffers at most a few messages per
//   connection (kReceiveHighWater);
// - a frame over max_batch_bytes is answered OVERSIZED_BATCH unparsed;
// - the pipeline holds at most max_in_flight_batches batches: beyond that
//   nothing is read (backpressure through ZeroMQ and TCP), as while the
//   store is not ok;
// - each connection may have max_batches_per_connection batches in the
//   pipeline plus acks it has not read (ROUTER_MANDATORY tells when its
//   socket cannot take more); beyond that its batches are answered BUSY
//   unread (StationConnections);
// - at most max_connections connections, max_connections_per_key per key;
//   a revoked key's connections are closed.
// Connection events are logged, rate-limited; every 10 s the rejection
// summary.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <zmq.hpp>

#include "log_limiter.h"
#include "pipeline.h"
#include "station_connections.h"

namespace seisvault::ingest {

class Receiver {
 public:
  explicit Receiver(Pipeline& p);
  // Sets up and binds the socket. IoError: cannot bind the endpoint.
  Status bind();
  const std::string& endpoint() const { return bound_; }

  // Runs until Pipeline::stopping is set and every batch read has been
  // acknowledged.
  void run();

 private:
  void handle_station_message(std::vector<zmq::message_t>& frames);
  void handle_monitor_events();
  void forward_ack(zmq::message_t& routing_id, zmq::message_t& body);
  void send_unsent_acks();
  void close_revoked_connections();
  enum class Delivery { kSent, kFull, kGone };
  // Sends `body` to the connection `routing_id` without waiting: kFull when
  // its socket cannot take more now, kGone when ZeroMQ no longer knows it.
  Delivery deliver(std::string_view routing_id, zmq::message_t& body);
  // Best effort: an answer that needs no pipeline (dropped when the
  // station's socket is full or gone).
  void reply_now(const zmq::message_t& routing_id, const v1::IngestAck& ack);
  void close_connection(int fd);

  Pipeline& p_;
  zmq::socket_t router_{p_.context, zmq::socket_type::router};
  zmq::socket_t monitor_{p_.context, zmq::socket_type::pair};
  zmq::socket_t acks_in_{p_.context, zmq::socket_type::pull};
  std::string bound_;
  uint64_t next_sequence_ = 0;
  StationConnections connections_;
  uint64_t access_generation_ = 0;
  LogLimiter connection_log_{"station connection events", spdlog::level::info};
  LogLimiter refusal_log_{"connections closed by a limit", spdlog::level::warn};
  LogLimiter busy_log_{"batches answered BUSY", spdlog::level::warn};
};

}  // namespace seisvault::ingest
