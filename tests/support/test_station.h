// TestStation: a raw ZeroMQ DEALER speaking the ingest protocol, for tests
// that need to send exactly what they want (including garbage).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "seisvault/common/curve_keys.h"
#include "seisvault/common/signing_keys.h"
#include "seisvault/proto/ingest.pb.h"

namespace seisvault::test {

class TestStation {
 public:
  // CURVE client with `keys` to a server with `server_public_key`; plain
  // when server_public_key is empty.
  TestStation(const std::string& endpoint, const std::string& server_public_key, const CurveKeyPair& keys);

  // A batch of the given records with correct SHA-256s.
  static ingest::v1::IngestBatch make_batch(uint64_t batch_id, const std::vector<std::vector<uint8_t>>& records);

  // Signs `batch` with `key` as the push client does (batch_signature.h).
  static void sign(ingest::v1::IngestBatch& batch, const SigningKeyPair& key, int64_t send_time_ns = 1);

  // Sends; when no connection takes the message within 10 s (e.g. the
  // server refused this key), drops it.
  void send(const ingest::v1::IngestBatch& batch);
  void send_raw(const std::vector<std::string>& frames);
  // The next ack, or nullopt after `timeout`.
  std::optional<ingest::v1::IngestAck> receive(std::chrono::milliseconds timeout);
  // send + receive.
  std::optional<ingest::v1::IngestAck> call(const ingest::v1::IngestBatch& batch,
                                             std::chrono::milliseconds timeout = std::chrono::seconds(20));

 private:
  zmq::context_t context_{1};
  zmq::socket_t socket_{context_, zmq::socket_type::dealer};
};

}  // namespace seisvault::test
