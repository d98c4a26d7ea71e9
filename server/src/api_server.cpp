#include "api_server.h"

#include <condition_variable>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "api_exposure.h"
#include "waveform_service.h"

namespace seisvault::server {

struct ApiServer::Impl {
  std::unique_ptr<WaveformService> service;
  std::unique_ptr<grpc::Server> server;
  std::string address;
  std::thread sampler;
  std::mutex mutex;
  std::condition_variable stop_cv;
  bool stopping = false;
};

namespace {

Result<std::string> read_pem(const std::string& path, const char* what) {
  std::ifstream in(path);
  if (!in) return Status::invalid_argument(fmt::format("cannot read the TLS {} file {}", what, path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

ApiServer::ApiServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ApiServer::~ApiServer() { stop(); }
const std::string& ApiServer::address() const { return impl_->address; }

Result<std::unique_ptr<ApiServer>> ApiServer::start(const ApiOptions& options, const QueryService& query,
                                                    const ingest::IngestStats* stats, SubscriptionHub& hub,
                                                    const ingest::AccessControl* access, ApiMetrics* metrics,
                                                    StationMetadata* station_metadata) {
  const bool tls = !options.tls_cert_file.empty() || !options.tls_key_file.empty();
  if (auto s = check_api_exposure(options.address, tls, query.token_required(), options.allow_insecure); !s.ok()) {
    return s;
  }
  if (!tls && !query.token_required() && !is_loopback_api_address(options.address)) {
    spdlog::warn("the query API on {} has neither TLS nor a token (--api-allow-insecure): anyone who can reach it "
                 "can read every waveform",
                 options.address);
  }
  auto impl = std::make_unique<Impl>();
  impl->service = std::make_unique<WaveformService>(options, query, stats, hub, access, metrics, station_metadata);

  std::shared_ptr<grpc::ServerCredentials> creds;
  if (tls) {
    if (options.tls_cert_file.empty() || options.tls_key_file.empty()) {
      return Status::invalid_argument("TLS needs both a certificate file and a key file");
    }
    auto cert = read_pem(options.tls_cert_file, "certificate");
    if (!cert.ok()) return cert.status();
    auto key = read_pem(options.tls_key_file, "key");
    if (!key.ok()) return key.status();
    grpc::SslServerCredentialsOptions ssl;
    ssl.pem_key_cert_pairs.push_back({*key, *cert});
    creds = grpc::SslServerCredentials(ssl);
  } else {
    creds = grpc::InsecureServerCredentials();
  }

  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.address, creds, &port);
  builder.RegisterService(impl->service.get());
  builder.SetMaxSendMessageSize(64 << 20);
  builder.SetMaxReceiveMessageSize(kMaxApiInventoryBytes + (1 << 20));  // PutInventory carries a whole document
  impl->server = builder.BuildAndStart();
  if (!impl->server || port == 0) {
    return Status::io_error(fmt::format("cannot serve the query API on {}", options.address));
  }
  const auto colon = options.address.rfind(':');
  impl->address = options.address.substr(0, colon) + ":" + std::to_string(port);
  Impl* m = impl.get();
  impl->sampler = std::thread([m] {
    std::unique_lock lock(m->mutex);
    while (!m->stopping) {
      m->service->sample_rates();
      m->stop_cv.wait_for(lock, std::chrono::seconds(1));
    }
  });
  spdlog::info("query API listening on {} ({}{})", impl->address, creds ? (options.tls_cert_file.empty() ? "plain" : "TLS") : "",
               query.token_required() ? ", bearer token required" : ", no token");
  return std::unique_ptr<ApiServer>(new ApiServer(std::move(impl)));
}

void ApiServer::stop() {
  Impl& m = *impl_;
  {
    std::lock_guard lock(m.mutex);
    if (m.stopping) return;
    m.stopping = true;
  }
  m.stop_cv.notify_all();
  m.sampler.join();
  m.service->shut_down();
  m.server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  m.server->Wait();
}

}  // namespace seisvault::server
