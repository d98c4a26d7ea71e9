#include "seisvault/ingest/ingest_server.h"

#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "committer.h"
#include "log_limiter.h"
#include "pipeline.h"
#include "receiver.h"
#include "seisvault/common/thread_name.h"
#include "syncer.h"
#include "validation_worker.h"
#include "zap_handler.h"

namespace seisvault::ingest {

bool is_loopback_endpoint(std::string_view e) {
  if (e.rfind("ipc://", 0) == 0 || e.rfind("inproc://", 0) == 0) return true;
  if (e.rfind("tcp://", 0) != 0) return false;
  auto host = e.substr(6);
  host = host.substr(0, host.rfind(':'));
  return host.rfind("127.", 0) == 0 || host == "localhost" || host == "[::1]";
}

struct IngestServer::Impl {
  Impl(const IngestOptions& o, storage::RecordStore& s, const AccessControl& a) : pipeline(o, s, a) {}

  Pipeline pipeline;
  std::unique_ptr<ZapHandler> zap;  // before the receiver binds: it serves the context's ZAP endpoint
  LogLimiter refused_keys_log{"refused station keys", spdlog::level::warn};
  std::unique_ptr<Receiver> receiver;
  std::vector<std::unique_ptr<ValidationWorker>> workers;
  std::unique_ptr<Committer> committer;
  std::unique_ptr<Syncer> syncer;
  std::thread receiver_thread;
  std::vector<std::thread> worker_threads;
  std::thread committer_thread;
  std::thread syncer_thread;
  bool stopped = false;
};

IngestServer::IngestServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
IngestServer::~IngestServer() { stop(); }
const std::string& IngestServer::endpoint() const { return impl_->receiver->endpoint(); }
const IngestStats& IngestServer::stats() const { return impl_->pipeline.stats; }

Result<std::unique_ptr<IngestServer>> IngestServer::start(const IngestOptions& options, storage::RecordStore& store,
                                                          const AccessControl& access) {
  if (options.insecure && !is_loopback_endpoint(options.endpoint)) {
    return Status::invalid_argument(fmt::format(
        "--insecure refuses to bind {}: without CURVE anyone could write; use a loopback or ipc:// endpoint",
        options.endpoint));
  }
  if (!options.insecure && (options.server_keys.secret_key.empty() || options.server_keys.public_key.empty())) {
    return Status::invalid_argument("the ingest socket needs the server's CURVE key pair");
  }
  auto impl = std::make_unique<Impl>(options, store, access);
  Impl& m = *impl;
  Pipeline& p = m.pipeline;
  p.ack_endpoint = fmt::format("inproc://seisvault-acks-{}", static_cast<void*>(&p));
  try {
    if (!options.insecure) {
      m.zap = std::make_unique<ZapHandler>(p.context, access, [&m](const std::string& who) {
        m.pipeline.stats.auth_failures.fetch_add(1, std::memory_order_relaxed);
        m.refused_keys_log.log("refused a station key not in the authorized-stations list: {}", who);
      });
    }
  } catch (const zmq::error_t& e) {
    return Status::io_error(fmt::format("cannot start station authentication: {}", e.what()));
  }
  m.receiver = std::make_unique<Receiver>(p);
  if (auto s = m.receiver->bind(); !s.ok()) return s;

  const unsigned n = options.workers ? options.workers : std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < n; ++i) {
    auto& w = m.workers.emplace_back(std::make_unique<ValidationWorker>(p));
    m.worker_threads.emplace_back([w = w.get()] {
      set_thread_name("sv-validate");
      w->run();
    });
  }
  m.committer = std::make_unique<Committer>(p);
  m.syncer = std::make_unique<Syncer>(p);
  m.committer_thread = std::thread([&m] {
    set_thread_name("sv-committer");
    m.committer->run();
  });
  m.syncer_thread = std::thread([&m] {
    set_thread_name("sv-syncer");
    m.syncer->run();
  });
  m.receiver_thread = std::thread([&m] {
    set_thread_name("sv-receiver");
    m.receiver->run();
  });
  spdlog::info("ingest listening on {} ({}; {} validation workers, sync {})", m.receiver->endpoint(),
               options.insecure ? "INSECURE: no CURVE, any station may write" : "CURVE, authorized keys only", n,
               options.sync == SyncPolicy::kEveryBatch
                   ? std::string("every batch")
                   : fmt::format("group commit every {} ms", options.sync_interval.count()));
  return std::unique_ptr<IngestServer>(new IngestServer(std::move(impl)));
}

void IngestServer::stop() {
  Impl& m = *impl_;
  if (m.stopped) return;
  m.stopped = true;
  Pipeline& p = m.pipeline;
  p.stopping = true;
  m.receiver_thread.join();  // returns once every batch it read has been acknowledged
  p.workers_done = true;
  for (auto& t : m.worker_threads) t.join();
  p.committer_done = true;
  m.committer_thread.join();
  {
    std::lock_guard lock(p.written.mutex);
    p.written.done = true;
  }
  p.written.cv.notify_one();
  m.syncer_thread.join();
  m.zap.reset();
  const auto& s = p.stats;
  const double writes = static_cast<double>(std::max<uint64_t>(1, s.store_writes.load()));
  const double blocks = static_cast<double>(std::max<uint64_t>(1, s.store_blocks.load()));
  spdlog::info("ingest stopped: {} records stored, {} duplicate, {} rejected; {} store writes ({:.0f} records "
               "each, {:.1f} per block), {} fsyncs",
               s.records_stored.load(), s.records_duplicate.load(), s.records_rejected.load(), s.store_writes.load(),
               static_cast<double>(s.records_stored.load()) / writes,
               static_cast<double>(s.records_stored.load()) / blocks, s.syncs.load());
}

}  // namespace seisvault::ingest
