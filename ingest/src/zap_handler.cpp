#include "zap_handler.h"

#include <zmq_addon.hpp>

#include <spdlog/spdlog.h>

#include "seisvault/common/thread_name.h"

namespace seisvault::ingest {

ZapHandler::ZapHandler(zmq::context_t& context, const AccessControl& access,
                       std::function<void(const std::string&)> on_refused)
    : socket_(context, zmq::socket_type::rep), access_(access), on_refused_(std::move(on_refused)) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.bind("inproc://zeromq.zap.01");
  thread_ = std::thread([this] {
    set_thread_name("sv-zap");
    run();
  });
}

ZapHandler::~ZapHandler() {
  stop_ = true;
  thread_.join();
}

void ZapHandler::run() {
  while (!stop_) {
    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
    try {
      if (zmq::poll(&item, 1, std::chrono::milliseconds(100)) == 0) continue;
      std::vector<zmq::message_t> request;
      if (!zmq::recv_multipart(socket_, std::back_inserter(request))) continue;
      // version, request id, domain, address, identity, mechanism, credentials...
      std::string status = "400", text = "not authorized", user_id;
      if (request.size() >= 7 && request[0].to_string_view() == "1.0" && request[5].to_string_view() == "CURVE" &&
          request[6].size() == 32) {
        char z85[41];
        zmq_z85_encode(z85, request[6].data<uint8_t>(), 32);
        const auto list = access_.current();
        if (list->is_listed(z85)) {
          status = "200";
          text = "OK";
          user_id = z85;
        } else if (on_refused_) {
          on_refused_(std::string(z85) + " from " + request[3].to_string());
        }
      }
      std::array<zmq::const_buffer, 6> reply = {
          zmq::str_buffer("1.0"),
          zmq::buffer(request.size() > 1 ? request[1].data() : nullptr, request.size() > 1 ? request[1].size() : 0),
          zmq::buffer(status),
          zmq::buffer(text),
          zmq::buffer(user_id),
          zmq::str_buffer("")};
      zmq::send_multipart(socket_, reply);
    } catch (const zmq::error_t& e) {
      if (e.num() == ETERM) return;
      spdlog::error("authentication handler: {}", e.what());
    }
  }
}

}  // namespace seisvault::ingest
