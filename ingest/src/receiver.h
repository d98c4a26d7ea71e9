// Receiver: the station socket's thread. Internal to ingest/.
//
// Owns the ROUTER socket (ZeroMQ sockets are single-threaded): reads one
// frame per batch, knows its sender from the ZAP User-Id (the station's
// public key), answers by itself what needs no pipeline (malformed frames,
// multi-frame messages, unknown protocol versions, empty and oversized
// batches), hands the rest to the validation workers, and sends the acks
// the syncer hands back. Stops reading while max_in_flight_batches are in
// the pipeline (backpressure through ZeroMQ's high-water marks and TCP).
// Logs connection events and, every 10 s, the rejection summary.
#pragma once

#include <vector>

#include <zmq.hpp>

#include "pipeline.h"

namespace seisvault::ingest {

class Receiver {
 public:
  // Sets up the sockets; ZmqError-free: errors as Status (IoError: cannot
  // bind the endpoint). Must be called before run().
  explicit Receiver(Pipeline& p) : p_(p) {}
  Status bind();
  const std::string& endpoint() const { return bound_; }

  // Runs until Pipeline::stopping is set and every batch read has been
  // acknowledged.
  void run();

 private:
  void handle_station_message(std::vector<zmq::message_t>& frames);
  void handle_monitor_event();
  void reply_now(const zmq::message_t& routing_id, const v1::IngestAck& ack);

  Pipeline& p_;
  zmq::socket_t router_{p_.context, zmq::socket_type::router};
  zmq::socket_t monitor_{p_.context, zmq::socket_type::pair};
  zmq::socket_t acks_in_{p_.context, zmq::socket_type::pull};
  std::string bound_;
  uint64_t next_sequence_ = 0;
};

}  // namespace seisvault::ingest
