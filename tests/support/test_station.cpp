#include "support/test_station.h"

#include "seisvault/client/batch_signing.h"
#include "seisvault/common/sha256.h"

namespace seisvault::test {

TestStation::TestStation(const std::string& endpoint, const std::string& server_public_key,
                         const CurveKeyPair& keys) {
  socket_.set(zmq::sockopt::linger, 0);
  // A DEALER whose handshake was refused has no peer left, and a send then
  // blocks forever: a test of a refused key hung whenever its send came
  // after the refusal (under ASan, often). Give up after 10 s instead; the
  // message is dropped, as the refused station's would be.
  socket_.set(zmq::sockopt::sndtimeo, 10000);
  if (!server_public_key.empty()) {
    socket_.set(zmq::sockopt::curve_serverkey, server_public_key);
    socket_.set(zmq::sockopt::curve_publickey, keys.public_key);
    socket_.set(zmq::sockopt::curve_secretkey, keys.secret_key);
  }
  socket_.connect(endpoint);
}

ingest::v1::IngestBatch TestStation::make_batch(uint64_t batch_id, const std::vector<std::vector<uint8_t>>& records) {
  ingest::v1::IngestBatch b;
  b.set_protocol_version(ingest::v1::PROTOCOL_VERSION_1);
  b.set_batch_id(batch_id);
  for (const auto& r : records) {
    auto* rec = b.add_records();
    rec->set_mseed(r.data(), r.size());
    const auto d = sha256(r);
    rec->set_sha256(d.data(), d.size());
  }
  return b;
}

void TestStation::sign(ingest::v1::IngestBatch& batch, const SigningKeyPair& key, int64_t send_time_ns) {
  std::string message;
  client::sign_batch(batch, key, send_time_ns, message);
}

void TestStation::send(const ingest::v1::IngestBatch& batch) { send_raw({batch.SerializeAsString()}); }

void TestStation::send_raw(const std::vector<std::string>& frames) {
  for (size_t i = 0; i < frames.size(); ++i) {
    socket_.send(zmq::buffer(frames[i]), i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
}

std::optional<ingest::v1::IngestAck> TestStation::receive(std::chrono::milliseconds timeout) {
  zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, timeout) == 0) return std::nullopt;
  zmq::message_t m;
  if (!socket_.recv(m)) return std::nullopt;
  ingest::v1::IngestAck ack;
  if (!ack.ParseFromArray(m.data(), static_cast<int>(m.size()))) return std::nullopt;
  return ack;
}

std::optional<ingest::v1::IngestAck> TestStation::call(const ingest::v1::IngestBatch& batch,
                                                        std::chrono::milliseconds timeout) {
  send(batch);
  return receive(timeout);
}

}  // namespace seisvault::test
