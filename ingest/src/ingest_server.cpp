#include "seisvault/ingest/ingest_server.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <concurrentqueue/blockingconcurrentqueue.h>
#include <fmt/format.h>
#include <google/protobuf/arena.h>
#include <spdlog/spdlog.h>
#include <zmq_addon.hpp>

#include "batch_parser.h"
#include "commit_order.h"
#include "in_flight_batch.h"
#include "seisvault/common/sha256.h"
#include "zap_handler.h"

namespace seisvault::ingest {

bool is_loopback_endpoint(std::string_view e) {
  if (e.rfind("ipc://", 0) == 0 || e.rfind("inproc://", 0) == 0) return true;
  if (e.rfind("tcp://", 0) != 0) return false;
  auto host = e.substr(6);
  host = host.substr(0, host.rfind(':'));
  return host.rfind("127.", 0) == 0 || host == "localhost" || host == "[::1]";
}

namespace {

using BatchPtr = std::unique_ptr<InFlightBatch>;
using Queue = moodycamel::BlockingConcurrentQueue<BatchPtr>;

constexpr auto kRejectionReportInterval = std::chrono::seconds(10);

std::string_view net_sta_field(std::string_view source_id, int field) {
  size_t b = 0;
  for (int i = 0; i < field; ++i) b = source_id.find('.', b) + 1;
  return source_id.substr(b, source_id.find('.', b) - b);
}

}  // namespace

struct IngestServer::Impl {
  IngestOptions options;
  storage::RecordStore& store;
  const AccessControl& access;
  IngestStats stats;

  zmq::context_t context{1};
  std::unique_ptr<ZapHandler> zap;
  zmq::socket_t router{context, zmq::socket_type::router};
  zmq::socket_t monitor{context, zmq::socket_type::pair};
  zmq::socket_t acks_in{context, zmq::socket_type::pull};  // receiver side
  std::string ack_endpoint;
  std::string bound;

  Queue validate_queue;
  Queue commit_queue;
  std::atomic<size_t> in_flight{0};
  uint64_t next_sequence = 0;  // receiver thread only
  std::atomic<bool> stopping{false};    // receiver: stop reading stations
  std::atomic<bool> workers_done{false};
  std::atomic<bool> committer_done{false};
  // Committer -> syncer: batches written to the store, not yet durable.
  std::mutex sync_mutex;
  std::condition_variable sync_cv;
  std::vector<BatchPtr> written;
  bool syncer_done = false;  // guarded by sync_mutex
  std::atomic<bool> sync_in_progress{false};
  // When the syncer began its last fsync (steady_clock ticks), for the committer's timing.
  std::atomic<std::chrono::steady_clock::rep> last_sync_start{0};
  std::thread syncer;
  std::thread receiver;
  std::vector<std::thread> workers;
  std::thread committer;
  bool stopped = false;

  // A sample message per reject reason, for the periodic summary.
  std::mutex sample_mutex;
  std::array<std::string, kRejectReasonCount> samples;

  Impl(const IngestOptions& o, storage::RecordStore& s, const AccessControl& a) : options(o), store(s), access(a) {}

  void count_rejection(RejectReason reason, std::string_view message) {
    stats.records_rejected.fetch_add(1, std::memory_order_relaxed);
    stats.rejected_by_reason[static_cast<size_t>(reason)].fetch_add(1, std::memory_order_relaxed);
    auto& slot = samples[static_cast<size_t>(reason)];
    std::lock_guard lock(sample_mutex);
    if (slot.empty()) slot.assign(message);
  }

  v1::Limits* fill_limits(v1::IngestAck& ack) const {
    auto* l = ack.mutable_limits();
    l->set_protocol_version(v1::PROTOCOL_VERSION_1);
    l->set_max_records_per_batch(options.max_records_per_batch);
    l->set_max_batch_bytes(options.max_batch_bytes);
    return l;
  }

  void run_receiver();
  void run_worker();
  void run_committer();
  void run_syncer();
  void publish_durable(std::vector<BatchPtr>& batches);
  void validate(InFlightBatch& b, RecordValidator& validator);
  void reply_now(const zmq::message_t& routing_id, const v1::IngestAck& ack);
  void handle_station_message(std::vector<zmq::message_t>& frames);
  void handle_monitor_event();
  void report_rejections(std::array<uint64_t, kRejectReasonCount>& last);
};

IngestServer::IngestServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
IngestServer::~IngestServer() { stop(); }
const std::string& IngestServer::endpoint() const { return impl_->bound; }
const IngestStats& IngestServer::stats() const { return impl_->stats; }

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
  try {
    if (!options.insecure) {
      m.zap = std::make_unique<ZapHandler>(m.context, access, [&m](const std::string& who) {
        m.stats.auth_failures.fetch_add(1, std::memory_order_relaxed);
        spdlog::warn("refused a station key not in the authorized-stations list: {}", who);
      });
      m.router.set(zmq::sockopt::curve_server, 1);
      m.router.set(zmq::sockopt::curve_secretkey, options.server_keys.secret_key);
    }
    m.router.set(zmq::sockopt::linger, 0);
    m.router.set(zmq::sockopt::maxmsgsize, options.max_message_bytes);
    m.router.set(zmq::sockopt::rcvhwm, 1000);
    m.router.set(zmq::sockopt::sndhwm, 100000);
    m.router.set(zmq::sockopt::router_mandatory, 0);
    m.router.set(zmq::sockopt::rcvbuf, 4 << 20);
    m.router.set(zmq::sockopt::sndbuf, 1 << 20);
    const std::string monitor_endpoint = fmt::format("inproc://seisvault-monitor-{}", static_cast<void*>(&m));
    if (zmq_socket_monitor(m.router.handle(), monitor_endpoint.c_str(),
                           ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
                               ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) != 0) {
      return Status::internal("cannot monitor the station socket");
    }
    m.monitor.connect(monitor_endpoint);
    m.ack_endpoint = fmt::format("inproc://seisvault-acks-{}", static_cast<void*>(&m));
    m.acks_in.bind(m.ack_endpoint);
    m.router.bind(options.endpoint);
    m.bound = m.router.get(zmq::sockopt::last_endpoint);
  } catch (const zmq::error_t& e) {
    return Status::io_error(fmt::format("cannot listen for stations on {}: {}", options.endpoint, e.what()));
  }

  const unsigned n = options.workers ? options.workers : std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < n; ++i) m.workers.emplace_back([&m] { m.run_worker(); });
  m.committer = std::thread([&m] { m.run_committer(); });
  m.syncer = std::thread([&m] { m.run_syncer(); });
  m.receiver = std::thread([&m] { m.run_receiver(); });
  spdlog::info("ingest listening on {} ({}; {} validation workers, sync {})", m.bound,
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
  m.stopping = true;
  m.receiver.join();  // returns once every batch it read has been acknowledged
  m.workers_done = true;
  for (auto& w : m.workers) w.join();
  m.committer_done = true;
  m.committer.join();
  {
    std::lock_guard lock(m.sync_mutex);
    m.syncer_done = true;
  }
  m.sync_cv.notify_one();
  m.syncer.join();
  m.zap.reset();
  const double writes = static_cast<double>(std::max<uint64_t>(1, m.stats.store_writes.load()));
  const double blocks = static_cast<double>(std::max<uint64_t>(1, m.stats.store_blocks.load()));
  spdlog::info("ingest stopped: {} records stored, {} duplicate, {} rejected; {} store writes ({:.0f} records "
               "each, {:.1f} per block), {} fsyncs",
               m.stats.records_stored.load(), m.stats.records_duplicate.load(), m.stats.records_rejected.load(),
               m.stats.store_writes.load(), static_cast<double>(m.stats.records_stored.load()) / writes,
               static_cast<double>(m.stats.records_stored.load()) / blocks, m.stats.syncs.load());
}

void IngestServer::Impl::reply_now(const zmq::message_t& routing_id, const v1::IngestAck& ack) {
  zmq::message_t id(routing_id.data(), routing_id.size());
  zmq::message_t body(ack.ByteSizeLong());
  ack.SerializeToArray(body.data(), static_cast<int>(body.size()));
  router.send(id, zmq::send_flags::sndmore | zmq::send_flags::dontwait);
  router.send(body, zmq::send_flags::dontwait);
}

void IngestServer::Impl::handle_station_message(std::vector<zmq::message_t>& frames) {
  const TimeNs now = now_ns();
  if (frames.size() != 2) {
    stats.malformed_messages.fetch_add(1, std::memory_order_relaxed);
    if (frames.empty()) return;
    v1::IngestAck ack;
    ack.set_error(v1::MALFORMED);
    ack.set_error_message(fmt::format("expected one frame holding an IngestBatch, got {}", frames.size() - 1));
    fill_limits(ack);
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
  fill_limits(ack);
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
      count_rejection(RejectReason::kBatchTooLarge, message);
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
  b->sequence = next_sequence++;
  in_flight.fetch_add(1, std::memory_order_relaxed);
  validate_queue.enqueue(std::move(b));
}

void IngestServer::Impl::handle_monitor_event() {
  std::vector<zmq::message_t> ev;
  if (!zmq::recv_multipart(monitor, std::back_inserter(ev), zmq::recv_flags::dontwait) || ev.empty() ||
      ev[0].size() < 6) {
    return;
  }
  uint16_t event;
  std::memcpy(&event, ev[0].data(), 2);
  switch (event) {
    case ZMQ_EVENT_ACCEPTED:
      stats.connections.fetch_add(1, std::memory_order_relaxed);
      break;
    case ZMQ_EVENT_DISCONNECTED:
      stats.connections.fetch_sub(1, std::memory_order_relaxed);
      spdlog::info("station connection closed ({} open)", stats.connections.load());
      break;
    case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
      spdlog::info("station connected ({} open)", stats.connections.load());
      break;
    case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
      spdlog::warn("station handshake refused: key not authorized");
      break;
    default:
      spdlog::warn("station handshake failed (protocol error or not a CURVE client)");
  }
}

void IngestServer::Impl::report_rejections(std::array<uint64_t, kRejectReasonCount>& last) {
  std::string line;
  for (int r = 0; r < kRejectReasonCount; ++r) {
    const uint64_t now = stats.rejected_by_reason[r].load(std::memory_order_relaxed);
    if (now == last[r]) continue;
    std::string sample;
    {
      std::lock_guard lock(sample_mutex);
      sample = std::exchange(samples[r], {});
    }
    line += fmt::format("{}{} {} (e.g. {})", line.empty() ? "" : "; ", now - last[r],
                        reject_reason_name(static_cast<RejectReason>(r)), sample);
    last[r] = now;
  }
  if (!line.empty()) spdlog::warn("rejected records: {}", line);
}

void IngestServer::Impl::run_receiver() {
  std::array<uint64_t, kRejectReasonCount> reported{};
  auto next_report = std::chrono::steady_clock::now() + kRejectionReportInterval;
  std::vector<zmq::message_t> frames;
  for (;;) {
    const bool stop_reading = stopping.load();
    if (stop_reading && in_flight.load() == 0) break;
    const bool can_read = !stop_reading && in_flight.load() < options.max_in_flight_batches;
    zmq::pollitem_t items[] = {{acks_in.handle(), 0, ZMQ_POLLIN, 0},
                               {monitor.handle(), 0, ZMQ_POLLIN, 0},
                               {router.handle(), 0, static_cast<short>(can_read ? ZMQ_POLLIN : 0), 0}};
    try {
      zmq::poll(items, 3, std::chrono::milliseconds(100));
      // Acks first: they free room in the pipeline.
      for (int k = 0; k < 1024 && (items[0].revents & ZMQ_POLLIN); ++k) {
        frames.clear();
        if (!zmq::recv_multipart(acks_in, std::back_inserter(frames), zmq::recv_flags::dontwait)) break;
        // The batch is done whether or not its ack reaches the station (an
        // ack lost to a gone or full peer only makes the station resend).
        in_flight.fetch_sub(1, std::memory_order_relaxed);
        router.send(frames[0], zmq::send_flags::sndmore | zmq::send_flags::dontwait);
        router.send(frames[1], zmq::send_flags::dontwait);
      }
      if (items[1].revents & ZMQ_POLLIN) handle_monitor_event();
      for (int k = 0; k < 64 && can_read && (items[2].revents & ZMQ_POLLIN) &&
                      in_flight.load() < options.max_in_flight_batches;
           ++k) {
        frames.clear();
        if (!zmq::recv_multipart(router, std::back_inserter(frames), zmq::recv_flags::dontwait)) break;
        handle_station_message(frames);
      }
    } catch (const zmq::error_t& e) {
      spdlog::error("ingest socket: {}", e.what());
    }
    if (const auto now = std::chrono::steady_clock::now(); now >= next_report) {
      report_rejections(reported);
      next_report = now + kRejectionReportInterval;
    }
  }
  report_rejections(reported);
}

void IngestServer::Impl::validate(InFlightBatch& b, RecordValidator& validator) {
  const auto list = access.current();
  const bool key_listed = options.insecure || list->is_listed(b.sender);
  const auto n = b.batch.records.size();
  b.verdicts.resize(n);
  b.validated.reserve(n);
  b.accepted_index.reserve(n);
  const TimeNs now = now_ns();
  uint64_t bytes = 0;
  // First the work that needs no lock (hashes), then every record's libmseed
  // work under one LibmseedLock acquisition: another worker hashes its batch
  // meanwhile, and the lock changes hands once per batch, not per record.
  b.hashes.resize(n);
  for (size_t i = 0; i < n; ++i) {
    b.hashes[i] = sha256(b.batch.records[i].mseed);
  }
  LibmseedLock lock;
  for (size_t i = 0; i < n; ++i) {
    const auto& rec = b.batch.records[i];
    auto& verdict = b.verdicts[i];
    const auto mseed = rec.mseed;
    bytes += mseed.size();
    auto reject = [&](RejectReason reason, std::string message) {
      verdict.status = v1::REJECTED;
      verdict.reason = reason;
      verdict.message = std::move(message);
      count_rejection(reason, verdict.message);
    };
    if (!key_listed) {
      reject(RejectReason::kNotAuthorized,
             "this station key is no longer in the server's authorized-stations list");
      continue;
    }
    const auto& digest = b.hashes[i];
    if (rec.sha256.size() != digest.size() || std::memcmp(rec.sha256.data(), digest.data(), digest.size()) != 0) {
      reject(RejectReason::kHashMismatch,
             fmt::format("the SHA-256 sent with the record ({}) is not the SHA-256 of its {} bytes ({})",
                         to_hex(rec.sha256),
                         mseed.size(), to_hex(digest)));
      continue;
    }
    auto v = validator.validate(mseed, now, lock);
    if (!v.ok()) {
      reject(v.reason, std::move(v.message));
      continue;
    }
    const auto id = v.record.source_id();
    if (!options.insecure && !list->may_write(b.sender, net_sta_field(id, 0), net_sta_field(id, 1))) {
      reject(RejectReason::kNotAuthorized,
             fmt::format("station key may not write {}.{}", net_sta_field(id, 0), net_sta_field(id, 1)));
      continue;
    }
    verdict.status = v1::STORED;  // until the committer says otherwise
    verdict.reason = RejectReason::kNone;
    b.validated.push_back(v.record);
    b.accepted_index.push_back(static_cast<uint32_t>(i));
  }
  stats.bytes_received.fetch_add(bytes, std::memory_order_relaxed);
  b.accepted.reserve(b.validated.size());
  for (size_t k = 0; k < b.validated.size(); ++k) {
    const auto& r = b.validated[k];
    b.accepted.push_back({r.source_id(), r.start_ns, r.end_ns, r.sample_rate, r.sample_count, r.bytes,
                          b.hashes[b.accepted_index[k]], b.receive_ns, b.sender});
  }
}

void IngestServer::Impl::run_worker() {
  RecordValidator validator(options.validator);
  BatchPtr b;
  for (;;) {
    if (!validate_queue.wait_dequeue_timed(b, std::chrono::milliseconds(100))) {
      if (workers_done.load()) return;
      continue;
    }
    validate(*b, validator);
    commit_queue.enqueue(std::move(b));
  }
}

void IngestServer::Impl::run_committer() {
  std::vector<BatchPtr> group;
  std::vector<storage::NewRecord> records;
  std::vector<storage::WriteOutcome> outcomes;
  const bool every_batch = options.sync == SyncPolicy::kEveryBatch;
  CommitOrder order(commit_queue);
  std::chrono::steady_clock::duration write_estimate = std::chrono::milliseconds(1);
  for (;;) {
    BatchPtr b;
    if (!order.next(b, std::chrono::milliseconds(50))) {
      if (committer_done.load() && commit_queue.size_approx() == 0 && order.empty()) return;
      sync_cv.notify_one();  // idle: the syncer need not wait for more
      continue;
    }
    // Take what is ready, up to one store write's worth.
    size_t count = b->accepted.size();
    group.push_back(std::move(b));
    while (count < options.max_records_per_write && order.next(b, std::chrono::microseconds(0))) {
      count += b->accepted.size();
      group.push_back(std::move(b));
    }
    // These records cannot be acknowledged before the next fsync, which under
    // load comes one sync interval after the last one began. Until shortly
    // before then (the time a write takes), and while an fsync runs, keep
    // gathering: one larger write per fsync instead of several small ones
    // puts more records in each block, at no cost in latency. Under light
    // load the next fsync is already due and the write happens at once.
    if (!every_batch) {
      for (;;) {
        if (count >= options.max_records_per_write) break;
        const auto now = std::chrono::steady_clock::now();
        const auto write_at = std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(
                                  last_sync_start.load(std::memory_order_acquire))) +
                              options.sync_interval - write_estimate;
        const bool syncing = sync_in_progress.load(std::memory_order_acquire);
        if (!syncing && now >= write_at) break;
        const auto wait = syncing ? std::chrono::microseconds(200)
                                  : std::chrono::duration_cast<std::chrono::microseconds>(write_at - now);
        if (order.next(b, std::max(wait, std::chrono::microseconds(1)))) {
          count += b->accepted.size();
          group.push_back(std::move(b));
        }
      }
    }
    records.clear();
    for (const auto& g : group) records.insert(records.end(), g->accepted.begin(), g->accepted.end());
    outcomes.resize(records.size());
    Status s;
    if (!records.empty()) {
      storage::WriteStats ws;
      const auto write_start = std::chrono::steady_clock::now();
      s = store.write(records, outcomes, every_batch, &ws);
      // A moving average of how long a write takes, for the timing above.
      write_estimate = (write_estimate * 7 + (std::chrono::steady_clock::now() - write_start)) / 8;
      stats.store_writes.fetch_add(1, std::memory_order_relaxed);
      stats.store_blocks.fetch_add(ws.blocks, std::memory_order_relaxed);
    }
    size_t k = 0;
    for (auto& g : group) {
      for (size_t j = 0; j < g->accepted.size(); ++j, ++k) {
        auto& v = g->verdicts[g->accepted_index[j]];
        if (!s.ok()) {
          v = {v1::REJECTED, RejectReason::kInternal, "the server could not store the record; resend it"};
          count_rejection(RejectReason::kInternal, s.message());
        } else if (outcomes[k] == storage::WriteOutcome::kDuplicate) {
          v.status = v1::DUPLICATE;
          stats.records_duplicate.fetch_add(1, std::memory_order_relaxed);
        } else {
          stats.records_stored.fetch_add(1, std::memory_order_relaxed);
          stats.bytes_stored.fetch_add(records[k].bytes.size(), std::memory_order_relaxed);
        }
      }
    }
    if (!s.ok()) {
      spdlog::error("store write failed: {}", s.message());
      stats.store_errors.fetch_add(1, std::memory_order_relaxed);
    }
    {
      std::lock_guard lock(sync_mutex);
      for (auto& g : group) written.push_back(std::move(g));
    }
    group.clear();
    sync_cv.notify_one();
  }
}

// The syncer makes written batches durable and acknowledges them. It runs
// beside the committer, so the next store write proceeds while the WAL is
// being fsynced (SyncWAL covers every write that returned before it began).
void IngestServer::Impl::run_syncer() {
  zmq::socket_t acks_out(context, zmq::socket_type::push);
  acks_out.set(zmq::sockopt::sndhwm, 0);  // bounded by the batches in flight anyway
  acks_out.connect(ack_endpoint);
  const bool every_batch = options.sync == SyncPolicy::kEveryBatch;
  std::vector<BatchPtr> batches;
  google::protobuf::ArenaOptions arena_options;
  arena_options.start_block_size = 64 << 10;
  arena_options.max_block_size = 1 << 20;
  auto last_sync = std::chrono::steady_clock::now() - options.sync_interval;
  for (;;) {
    {
      std::unique_lock lock(sync_mutex);
      // Wait for written batches; then, under group commit, until the
      // interval since the last fsync is up or nothing more is coming.
      for (;;) {
        if (written.empty()) {
          if (syncer_done) return;
          sync_cv.wait_for(lock, std::chrono::milliseconds(100));
          continue;
        }
        if (every_batch || syncer_done) break;
        const auto due = last_sync + options.sync_interval;
        const bool idle = commit_queue.size_approx() == 0 && validate_queue.size_approx() == 0;
        if (idle || std::chrono::steady_clock::now() >= due) break;
        sync_cv.wait_until(lock, due);
      }
      batches.swap(written);
    }
    if (!every_batch) {
      last_sync = std::chrono::steady_clock::now();
      last_sync_start.store(last_sync.time_since_epoch().count(), std::memory_order_release);
      sync_in_progress.store(true, std::memory_order_release);
      const auto s = store.sync_wal();
      sync_in_progress.store(false, std::memory_order_release);
      if (!s.ok()) {
        // Not durable: nothing of these batches may be acknowledged as stored.
        spdlog::error("{}", s.message());
        stats.store_errors.fetch_add(1, std::memory_order_relaxed);
        for (auto& b : batches) {
          for (auto& v : b->verdicts) {
            if (v.status == v1::REJECTED) continue;
            v = {v1::REJECTED, RejectReason::kInternal, "the server could not make the record durable; resend it"};
          }
        }
      }
    }
    stats.syncs.fetch_add(1, std::memory_order_relaxed);
    for (auto& b : batches) {
      // On an arena: an ack holds a message per record, and building them
      // one heap allocation each cost more than the rest of the syncer.
      google::protobuf::Arena arena(arena_options);
      auto& ack = *google::protobuf::Arena::CreateMessage<v1::IngestAck>(&arena);
      ack.set_batch_id(b->batch.batch_id);
      fill_limits(ack);
      for (const auto& v : b->verdicts) {
        auto* r = ack.add_results();
        r->set_status(v.status);
        if (v.status == v1::REJECTED) {
          r->set_reason(static_cast<v1::RejectCode>(v.reason));
          r->set_message(v.message);
        }
      }
      zmq::message_t body(ack.ByteSizeLong());
      ack.SerializeToArray(body.data(), static_cast<int>(body.size()));
      acks_out.send(b->routing_id, zmq::send_flags::sndmore);
      acks_out.send(body, zmq::send_flags::none);
      stats.batches.fetch_add(1, std::memory_order_relaxed);
    }
    publish_durable(batches);
    batches.clear();
  }
}

// Hands the records that became durable to options.on_durable, with the
// batches (whose frames they point into) as their owner.
void IngestServer::Impl::publish_durable(std::vector<BatchPtr>& batches) {
  if (!options.on_durable) return;
  auto durable = std::make_shared<DurableRecords>();
  for (const auto& b : batches) {
    for (size_t j = 0; j < b->accepted.size(); ++j) {
      if (b->verdicts[b->accepted_index[j]].status == v1::STORED) durable->records.push_back(b->accepted[j]);
    }
  }
  if (durable->records.empty()) return;
  durable->keep_alive = std::make_shared<std::vector<BatchPtr>>(std::move(batches));
  options.on_durable(std::move(durable));
}

}  // namespace seisvault::ingest
