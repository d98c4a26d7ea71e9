// ZapHandler: ZeroMQ's authentication hook (ZAP, RFC 27) for CURVE.
// Internal to ingest/.
//
// Binds inproc://zeromq.zap.01 in the given context (so it must start before
// the station socket binds) and answers each handshake: 200 with the
// station's Z85 public key as User-Id when the key is in the authorized-
// stations list in force, 400 otherwise. The receiver reads the User-Id of
// every message, so the pipeline always knows which key sent a batch.
#pragma once

#include <atomic>
#include <functional>
#include <thread>

#include <zmq.hpp>

#include "seisvault/ingest/access_control.h"

namespace seisvault::ingest {

class ZapHandler {
 public:
  // on_refused is called (on the handler's thread) with the refused key.
  ZapHandler(zmq::context_t& context, const AccessControl& access, std::function<void(const std::string&)> on_refused);
  ~ZapHandler();
  ZapHandler(const ZapHandler&) = delete;
  ZapHandler& operator=(const ZapHandler&) = delete;

 private:
  void run();

  zmq::socket_t socket_;
  const AccessControl& access_;
  std::function<void(const std::string&)> on_refused_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace seisvault::ingest
