#include "ack_peer.h"

#include <array>
#include <chrono>
#include <cstring>
#include <span>
#include <deque>
#include <stdexcept>

#include <zmq.hpp>

#include "seisvault/common/record_splitter.h"
#include "seisvault/common/sha256.h"
#include "seisvault/proto/ingest.pb.h"

namespace seisvault::test {

namespace pb = seisvault::ingest::v1;

AckPeer::AckPeer(AckPeerOptions options) : options_(std::move(options)) {
  thread_ = std::thread([this] { run(); });
  while (!ready_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (!bind_error_.empty()) {
    thread_.join();
    throw std::runtime_error("AckPeer: " + bind_error_);
  }
}

AckPeer::~AckPeer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

AckPeer::Seen AckPeer::seen() const {
  std::lock_guard lock(mutex_);
  return seen_;
}

void AckPeer::run() {
  zmq::context_t context(1);
  zmq::socket_t zap(context, zmq::socket_type::rep);
  zmq::socket_t router(context, zmq::socket_type::router);
  try {
    zap.set(zmq::sockopt::linger, 0);
    router.set(zmq::sockopt::linger, 0);
    if (options_.curve) {
      zap.bind("inproc://zeromq.zap.01");  // before any handshake can happen
      router.set(zmq::sockopt::curve_server, 1);
      router.set(zmq::sockopt::curve_secretkey, options_.server_keys.secret_key);
    }
    router.bind(options_.endpoint);
    endpoint_ = router.get(zmq::sockopt::last_endpoint);
  } catch (const zmq::error_t& e) {
    bind_error_ = e.what();
    ready_ = true;
    return;
  }
  ready_ = true;

  std::set<std::string> stored;  // SHA-256s of stored records
  int batches = 0;
  struct Held {
    std::string identity;
    std::string ack;
  };
  std::deque<Held> held;
  const auto send_ack = [&](const std::string& identity, const std::string& ack) {
    const int copies = options_.ack_twice ? 2 : 1;
    for (int i = 0; i < copies; ++i) {
      router.send(zmq::buffer(identity), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
      router.send(zmq::buffer(ack), zmq::send_flags::dontwait);
    }
  };

  while (!stop_) {
    std::array<zmq::pollitem_t, 2> items{{{router.handle(), 0, ZMQ_POLLIN, 0}, {zap.handle(), 0, ZMQ_POLLIN, 0}}};
    zmq::poll(items.data(), options_.curve ? 2 : 1, std::chrono::milliseconds(20));

    if (release_ && !held.empty()) {
      for (const auto& h : held) send_ack(h.identity, h.ack);
      held.clear();
    }

    if (options_.curve && (items[1].revents & ZMQ_POLLIN)) {
      std::vector<zmq::message_t> request;
      for (bool more = true; more;) {
        zmq::message_t frame;
        if (!zap.recv(frame)) break;
        more = frame.more();
        request.push_back(std::move(frame));
      }
      // version, request id, domain, address, identity, mechanism, client key
      bool admit = false;
      if (request.size() >= 7 && request[6].size() == 32) {
        std::array<char, 41> z85{};
        zmq_z85_encode(z85.data(), static_cast<const uint8_t*>(request[6].data()), 32);
        admit = options_.authorized.count(z85.data()) > 0;
      }
      {
        std::lock_guard lock(mutex_);
        ++seen_.zap_requests;
        if (!admit) ++seen_.zap_refusals;
      }
      const std::string request_id = request.size() > 1 ? request[1].to_string() : "";
      zap.send(zmq::str_buffer("1.0"), zmq::send_flags::sndmore);
      zap.send(zmq::buffer(request_id), zmq::send_flags::sndmore);
      zap.send(admit ? zmq::str_buffer("200") : zmq::str_buffer("400"), zmq::send_flags::sndmore);
      zap.send(admit ? zmq::str_buffer("OK") : zmq::str_buffer("not an authorized station"),
               zmq::send_flags::sndmore);
      zap.send(zmq::str_buffer(""), zmq::send_flags::sndmore);
      zap.send(zmq::str_buffer(""), zmq::send_flags::none);
    }

    if (!(items[0].revents & ZMQ_POLLIN)) continue;
    for (;;) {
      zmq::message_t identity, frame;
      if (!router.recv(identity, zmq::recv_flags::dontwait)) break;
      if (!router.recv(frame, zmq::recv_flags::dontwait)) break;
      pb::IngestBatch batch;
      pb::IngestAck ack;
      ack.mutable_limits()->set_protocol_version(1);
      ack.mutable_limits()->set_max_records_per_batch(options_.limit_records);
      ack.mutable_limits()->set_max_batch_bytes(options_.limit_bytes);
      if (!batch.ParseFromArray(frame.data(), static_cast<int>(frame.size()))) {
        ack.set_error(pb::MALFORMED);
        ack.set_error_message("not an IngestBatch");
        send_ack(identity.to_string(), ack.SerializeAsString());
        continue;
      }
      ++batches;
      {
        std::lock_guard lock(mutex_);
        seen_.batch_ids.push_back(batch.batch_id());
        seen_.batch_records.push_back(static_cast<size_t>(batch.records_size()));
        seen_.batch_bytes.push_back(frame.size());
      }
      ack.set_batch_id(batch.batch_id());
      if (batches <= options_.stopping_first) {
        ack.set_error(pb::SERVER_STOPPING);
        ack.set_error_message("stopping");
        send_ack(identity.to_string(), ack.SerializeAsString());
        continue;
      }
      const auto refuse_whole = [&] {
        std::lock_guard lock(mutex_);
        seen_.records_refused_transient += static_cast<uint64_t>(batch.records_size());
      };
      if (options_.batch_error_first < 0 || batches <= options_.batch_error_first) {
        ack.set_error(static_cast<pb::BatchError>(options_.batch_error));
        ack.set_error_message("the disk is full (test)");
        ack.set_retry_after_ms(options_.retry_after_ms);
        refuse_whole();
        send_ack(identity.to_string(), ack.SerializeAsString());
        continue;
      }
      const uint32_t max_records = options_.enforce_records > 0 ? options_.enforce_records : options_.limit_records;
      const bool oversized = static_cast<uint32_t>(batch.records_size()) > max_records ||
                             frame.size() > options_.limit_bytes;
      if (oversized && options_.enforce == AckPeerOptions::Enforce::kBatchError) {
        if (options_.oversized_without_id) ack.set_batch_id(0);
        ack.set_error(pb::OVERSIZED_BATCH);
        ack.set_error_message("over the limits (test)");
        refuse_whole();
        send_ack(identity.to_string(), ack.SerializeAsString());
        continue;
      }
      if (oversized && options_.enforce == AckPeerOptions::Enforce::kPerRecord) {
        for (int i = 0; i < batch.records_size(); ++i) {
          auto* result = ack.add_results();
          result->set_status(pb::REJECTED);
          result->set_reason(pb::BATCH_TOO_LARGE);
          result->set_message("batch exceeds the server's limit (test)");
        }
        refuse_whole();
        send_ack(identity.to_string(), ack.SerializeAsString());
        continue;
      }
      uint64_t new_records = 0, attempts = 0, transient = 0;
      for (int i = 0; i < batch.records_size(); ++i) {
        const auto& r = batch.records(i);
        auto* result = ack.add_results();
        if (batches <= options_.transient_first &&
            static_cast<size_t>(i) % options_.transient_every == options_.transient_offset) {
          result->set_status(pb::REJECTED);
          result->set_reason(static_cast<pb::RejectCode>(options_.transient_reason));
          result->set_message("the server could not store the record; resend it (test)");
          ++transient;
          continue;
        }
        const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(r.mseed().data()), r.mseed().size());
        const auto digest = sha256(bytes);
        const auto piece = next_piece(bytes, true);
        if (r.sha256().size() != 32 || std::memcmp(r.sha256().data(), digest.data(), 32) != 0) {
          result->set_status(pb::REJECTED);
          result->set_reason(pb::HASH_MISMATCH);
          result->set_message("the SHA-256 does not match the record");
        } else if (!piece || piece->kind != PieceKind::kRecord || piece->length != bytes.size()) {
          result->set_status(pb::REJECTED);
          result->set_reason(pb::NOT_MINISEED);
          result->set_message("not a miniSEED 2 record");
        } else if (stored.insert(std::string(r.sha256())).second) {
          result->set_status(pb::STORED);
          ++new_records;
          ++attempts;
        } else {
          result->set_status(pb::DUPLICATE);
          ++attempts;
        }
      }
      {
        std::lock_guard lock(mutex_);
        seen_.records_stored += new_records;
        seen_.store_attempts += attempts;
        seen_.records_refused_transient += transient;
      }
      if (batches <= options_.drop_first) continue;
      Held h{identity.to_string(), ack.SerializeAsString()};
      if (options_.hold_all && !release_) {
        held.push_back(std::move(h));
      } else if (options_.reorder > 1) {
        held.push_front(std::move(h));  // newest first
        if (held.size() >= options_.reorder) {
          for (const auto& x : held) send_ack(x.identity, x.ack);
          held.clear();
        }
      } else {
        send_ack(h.identity, h.ack);
      }
    }
  }
}

std::string unused_endpoint() {
  zmq::context_t ctx;
  zmq::socket_t s(ctx, zmq::socket_type::router);
  s.set(zmq::sockopt::linger, 0);
  s.bind("tcp://127.0.0.1:*");
  return s.get(zmq::sockopt::last_endpoint);
}

}  // namespace seisvault::test
