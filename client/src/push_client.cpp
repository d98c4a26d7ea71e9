#include "seisvault/client/push_client.h"

#include <algorithm>
#include <cerrno>
#include <deque>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <zmq.hpp>

#include "seisvault/client/batch_builder.h"
#include "seisvault/client/batch_signing.h"
#include "seisvault/client/spool.h"
#include "seisvault/common/reject_reason.h"
#include "seisvault/common/time.h"
#include "seisvault/proto/ingest.pb.h"
#include "socket_monitor.h"

namespace seisvault::client {

namespace pb = seisvault::ingest::v1;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr milliseconds kTick{100};                    // how often keep_waiting is asked
constexpr milliseconds kSendRetry{100};               // retry of a send refused for want of a connection
constexpr milliseconds kServerStoppingRetry{1000};    // resend delay after SERVER_STOPPING
constexpr milliseconds kMaxRetryAfter{600'000};       // a server's retry_after_ms is honoured up to this
constexpr int kHeartbeatIvlMs = 5'000;                // ZMTP PING, to notice dead connections
constexpr int kHeartbeatTimeoutMs = 20'000;
constexpr int kConnectTimeoutMs = 10'000;             // a TCP connect to a silent host gives up after this
constexpr int64_t kMaxAckBytes = int64_t{64} << 20;   // refuse absurd messages from the server
constexpr size_t kMaxInFlight = 1000;                 // below ZeroMQ's default send high-water mark
constexpr size_t kMinBatchBytes = 1024;
constexpr char kMonitorAddress[] = "inproc://seisvault-push-monitor";
constexpr int kMonitoredEvents = ZMQ_EVENT_CONNECT_RETRIED | ZMQ_EVENT_DISCONNECTED |
                                 ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                                 ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_SUCCEEDED;

Clock::time_point saturating_add(Clock::time_point t, milliseconds d) {
  if (d >= std::chrono::duration_cast<milliseconds>(Clock::time_point::max() - t)) return Clock::time_point::max();
  return t + d;
}

std::string seconds_text(Clock::duration d) {
  return fmt::format("{:.1f} s", std::chrono::duration<double>(d).count());
}

Status set_option(zmq::socket_t& s, int option, const void* value, size_t size, std::string_view what) {
  if (zmq_setsockopt(s.handle(), option, value, size) != 0) {
    return Status::invalid_argument(fmt::format("cannot set {}: {}", what, zmq_strerror(zmq_errno())));
  }
  return {};
}

Status set_int(zmq::socket_t& s, int option, int value, std::string_view what) {
  return set_option(s, option, &value, sizeof value, what);
}

// Why a security handshake failed, ranked: the most telling failure of a
// run of failures is the one reported.
struct HandshakeFailure {
  int rank = 0;  // 0 none, 1 closed without detail, 2 protocol error, 3 refused by the server
  std::string message;
};

}  // namespace

// One batch sealed and not yet acknowledged.
struct Outstanding {
  std::unique_ptr<pb::IngestBatch> batch;
  bool on_wire = false;          // sent on the current connection, waiting for its ack
  Clock::time_point sent_at{};   // when last sent
  Clock::time_point not_before{};
  uint32_t sends = 0;            // 1 for a batch of records kept from an earlier batch: its sends are resends
};

// Why records of a batch are kept for resending, and how.
struct KeepCause {
  std::string name;     // "INTERNAL", "STORE_UNAVAILABLE", ... (PushStats::kept_by_cause)
  std::string message;  // the server's
  bool too_large = false;          // the server's limits are lower than the batch: split it
  milliseconds retry_after{0};     // the server's retry_after_ms
  bool renumber = false;           // the batch's id is spent (REPLAYED_BATCH): its records go under new ids
};

struct PushClient::Impl {
  explicit Impl(PushOptions o)
      : opt(std::move(o)), builder(BatchLimits{opt.max_batch_records, opt.max_batch_bytes}) {}
  ~Impl();

  Status start();

  // The work loop. Runs until `done()` holds (returns true), `deadline`
  // passes (returns false), or an error.
  template <class Done>
  Result<bool> run(Clock::time_point deadline, Done done);
  void service(Clock::time_point now);
  void fill_from_backlog();
  void send_due(Clock::time_point now);
  bool send(Outstanding& o, Clock::time_point now);
  void read_acks(Clock::time_point now);
  void handle_ack(const void* data, size_t size, Clock::time_point now);
  void handle_results(std::map<uint64_t, Outstanding>::iterator it, Clock::time_point now);
  void keep_batches(const KeepCause& cause, Clock::time_point now);
  milliseconds keep(std::map<uint64_t, Outstanding>::iterator it, const std::vector<int>& kept,
                    const KeepCause& cause, Clock::time_point now);
  milliseconds retry_delay(const Outstanding& o, milliseconds retry_after, Clock::time_point now);
  Result<uint64_t> new_batch_id();
  void read_monitor(Clock::time_point now);
  void handshake_failed(HandshakeFailure failure, bool reconnect_ourselves, Clock::time_point now);
  void set_state(ConnectionState s, std::string detail);
  Status seal(Clock::time_point now);
  std::unique_ptr<pb::IngestBatch> recycled();
  void recycle(std::unique_ptr<pb::IngestBatch> batch);

  bool room() const { return outstanding.size() < opt.max_in_flight && backlog.empty(); }
  bool idle() const { return builder.empty() && outstanding.empty() && backlog.empty(); }
  bool has_outstanding() const { return !outstanding.empty() || !backlog.empty(); }
  std::string describe_outstanding() const;
  void note_outstanding_start(Clock::time_point now) {
    if (!has_outstanding()) last_progress = now;
  }

  PushOptions opt;
  std::optional<Spool> spool;
  // The context is declared before the sockets so that it is destroyed
  // after them (zmq_ctx_term waits for every socket to close).
  zmq::context_t context{1};
  zmq::socket_t dealer;
  std::optional<SocketMonitor> monitor;

  BatchBuilder builder;
  Clock::time_point batch_started{};
  std::map<uint64_t, Outstanding> outstanding;  // by batch id: sends go out in id order
  std::deque<uint64_t> backlog;                 // spooled batches not yet loaded
  std::vector<std::unique_ptr<pb::IngestBatch>> pool;
  uint64_t next_id = 1;  // without a spool
  std::string signing_message;  // rebuilt for every batch signed (capacity kept)
  std::string frame;     // serialized batch for the spool, reused
  std::vector<int> kept_scratch;  // indices of records kept from an ack, reused

  // Backoff for answers that store nothing (see PushOptions::retry_interval):
  // the step grows by one at most once per round of sends, that is only for
  // an answer to a batch sent after the step last grew, so that the answers
  // to a window of batches sent together count as one failure.
  int retry_step = 0;
  Clock::time_point retry_step_raised{};
  std::minstd_rand jitter{std::random_device{}()};

  PushStats stats;
  ConnectionState state = ConnectionState::kConnecting;
  std::string state_detail = "connecting";
  int handshake_failures = 0;
  HandshakeFailure worst_failure;
  std::optional<Clock::time_point> reconnect_at;  // after a refused handshake, libzmq does not retry
  Clock::time_point send_retry_at{};
  Clock::time_point last_progress{};  // last answer that finished a record (see stall_timeout)
  Clock::time_point last_answer{};    // last answer of any kind
  bool warned_bad_ack = false;
  bool lost_connection = false;  // a connection was lost since the last handshake
  bool warned_oversized = false;
  bool told_split = false;
  bool warned_spool_delete = false;
  Status fatal;
  pb::IngestAck ack;
};

PushClient::Impl::~Impl() {
  // With a spool, the batch being built is kept for the next run.
  if (!spool || builder.empty()) return;
  auto id = spool->allocate_batch_id();
  if (!id.ok()) {
    spdlog::error("{} records not spooled at exit: {}", builder.records(), id.status().message());
    return;
  }
  auto batch = builder.take(*id, nullptr);
  batch->SerializeToString(&frame);
  if (auto s = spool->write(*id, {reinterpret_cast<const uint8_t*>(frame.data()), frame.size()}); !s.ok()) {
    spdlog::error("{} records not spooled at exit: {}", batch->records_size(), s.message());
  }
}

Status PushClient::Impl::start() {
  const bool curve = !opt.server_public_key.empty();
  if (opt.endpoint.empty()) return Status::invalid_argument("no server endpoint given (e.g. tcp://host:5555)");
  if (curve) {
    if (!is_z85_key(opt.server_public_key)) {
      return Status::invalid_argument("the server public key is not a CURVE key (40 Z85 characters)");
    }
    if (!is_z85_key(opt.client_keys.public_key) || !is_z85_key(opt.client_keys.secret_key)) {
      return Status::invalid_argument("the station key pair is missing or not CURVE keys (40 Z85 characters)");
    }
    auto derived = curve_public_from_secret(opt.client_keys.secret_key);
    if (!derived.ok()) return derived.status();
    if (*derived != opt.client_keys.public_key) {
      return Status::invalid_argument("the station public key does not belong to the station secret key");
    }
  }
  if (opt.max_batch_records < 1) return Status::invalid_argument("max_batch_records must be at least 1");
  if (opt.max_batch_bytes < kMinBatchBytes) {
    return Status::invalid_argument(fmt::format("max_batch_bytes must be at least {}", kMinBatchBytes));
  }
  if (opt.max_in_flight < 1 || opt.max_in_flight > kMaxInFlight) {
    return Status::invalid_argument(fmt::format("max_in_flight must be between 1 and {}", kMaxInFlight));
  }
  if (opt.ack_timeout <= milliseconds::zero()) return Status::invalid_argument("ack_timeout must be positive");
  if (opt.reconnect_interval <= milliseconds::zero() || opt.reconnect_interval_max < opt.reconnect_interval) {
    return Status::invalid_argument("reconnect_interval must be positive and at most reconnect_interval_max");
  }
  if (opt.max_handshake_failures < 1) return Status::invalid_argument("max_handshake_failures must be at least 1");
  if (opt.stall_timeout < milliseconds::zero()) return Status::invalid_argument("stall_timeout must not be negative");
  if (opt.retry_interval <= milliseconds::zero() || opt.retry_interval_max < opt.retry_interval) {
    return Status::invalid_argument("retry_interval must be positive and at most retry_interval_max");
  }

  const auto now = Clock::now();
  last_progress = now;
  state_detail = fmt::format("connecting to {}", opt.endpoint);
  if (!opt.spool_dir.empty()) {
    auto s = Spool::open(opt.spool_dir);
    if (!s.ok()) return s.status();
    spool.emplace(std::move(*s));
    auto ids = spool->list();
    if (!ids.ok()) return ids.status();
    backlog.assign(ids->begin(), ids->end());
  } else {
    // Without a spool to remember the last id, ids start from the clock (in
    // microseconds), so that they still increase from one run to the next.
    next_id = std::max<uint64_t>(1, static_cast<uint64_t>(now_ns() / 1000));
  }

  try {  // cppzmq reports failures by exception; this runs once, at start-up
    dealer = zmq::socket_t(context, zmq::socket_type::dealer);
  } catch (const zmq::error_t& e) {
    return Status::io_error(fmt::format("cannot make a ZeroMQ socket: {}", e.what()));
  }
  const auto ms = [](milliseconds d) {
    return static_cast<int>(std::min<int64_t>(d.count(), std::numeric_limits<int>::max()));
  };
  for (auto s : {set_int(dealer, ZMQ_LINGER, 0, "ZMQ_LINGER"),
                 // Queue messages only on connections whose handshake is done:
                 // a send then fails at once (and is retried) instead of
                 // vanishing into a connection that never comes up.
                 set_int(dealer, ZMQ_IMMEDIATE, 1, "ZMQ_IMMEDIATE"),
                 set_int(dealer, ZMQ_RECONNECT_IVL, ms(opt.reconnect_interval), "ZMQ_RECONNECT_IVL"),
                 set_int(dealer, ZMQ_RECONNECT_IVL_MAX, ms(opt.reconnect_interval_max), "ZMQ_RECONNECT_IVL_MAX"),
                 set_int(dealer, ZMQ_HEARTBEAT_IVL, kHeartbeatIvlMs, "ZMQ_HEARTBEAT_IVL"),
                 set_int(dealer, ZMQ_HEARTBEAT_TIMEOUT, kHeartbeatTimeoutMs, "ZMQ_HEARTBEAT_TIMEOUT"),
                 set_int(dealer, ZMQ_CONNECT_TIMEOUT, kConnectTimeoutMs, "ZMQ_CONNECT_TIMEOUT"),
                 set_option(dealer, ZMQ_MAXMSGSIZE, &kMaxAckBytes, sizeof kMaxAckBytes, "ZMQ_MAXMSGSIZE")}) {
    if (!s.ok()) return s;
  }
  if (curve) {
    // Z85 keys are given with their terminating NUL (41 bytes).
    for (auto s : {set_option(dealer, ZMQ_CURVE_SERVERKEY, opt.server_public_key.c_str(), 41, "the server key"),
                   set_option(dealer, ZMQ_CURVE_PUBLICKEY, opt.client_keys.public_key.c_str(), 41, "the station key"),
                   set_option(dealer, ZMQ_CURVE_SECRETKEY, opt.client_keys.secret_key.c_str(), 41,
                              "the station secret key")}) {
      if (!s.ok()) return s;
    }
  }
  auto m = SocketMonitor::start(context, dealer, kMonitorAddress, kMonitoredEvents);
  if (!m.ok()) return m.status();
  monitor.emplace(std::move(*m));
  if (zmq_connect(dealer.handle(), opt.endpoint.c_str()) != 0) {
    return Status::invalid_argument(fmt::format("cannot connect to '{}': {} (expected tcp://HOST:PORT)",
                                                opt.endpoint, zmq_strerror(zmq_errno())));
  }
  return {};
}

std::unique_ptr<pb::IngestBatch> PushClient::Impl::recycled() {
  if (pool.empty()) return std::make_unique<pb::IngestBatch>();
  auto b = std::move(pool.back());
  pool.pop_back();
  return b;
}

void PushClient::Impl::recycle(std::unique_ptr<pb::IngestBatch> batch) {
  // Keeping one spare per possible batch bounds the memory the pool holds.
  if (pool.size() < opt.max_in_flight + 1) {
    batch->Clear();
    pool.push_back(std::move(batch));
  }
}

void PushClient::Impl::set_state(ConnectionState s, std::string detail) {
  if (s == state && detail == state_detail) return;
  const bool changed = s != state;
  state = s;
  state_detail = std::move(detail);
  if (!changed) return;
  if (opt.on_connection) {
    opt.on_connection(state, state_detail);
  } else if (state == ConnectionState::kConnected) {
    spdlog::info("{}", state_detail);
  } else if (state == ConnectionState::kWaiting) {
    spdlog::warn("{}", state_detail);
  }
}

std::string PushClient::Impl::describe_outstanding() const {
  uint64_t records = 0;
  for (const auto& [id, o] : outstanding) records += static_cast<uint64_t>(o.batch->records_size());
  const auto batches = [](size_t n) { return fmt::format("{} batch{}", n, n == 1 ? "" : "es"); };
  std::string text = fmt::format("{} ({} records) not acknowledged", batches(outstanding.size()), records);
  if (!backlog.empty()) text += fmt::format(", {} more in the spool", batches(backlog.size()));
  if (!builder.empty()) text += fmt::format(", {} records not yet sent", builder.records());
  return text + "; " + state_detail;
}

void PushClient::Impl::fill_from_backlog() {
  while (!backlog.empty() && outstanding.size() < opt.max_in_flight && fatal.ok()) {
    const uint64_t id = backlog.front();
    backlog.pop_front();
    auto payload = spool->read(id);
    if (!payload.ok()) {
      if (payload.status().code() == StatusCode::kNotFound) continue;
      if (payload.status().code() != StatusCode::kCorruption) {
        fatal = payload.status();
        return;
      }
      spdlog::error("{}; set aside as .corrupt", payload.status().message());
      if (auto s = spool->quarantine(id); !s.ok()) spdlog::error("{}", s.message());
      ++stats.spool_files_quarantined;
      continue;
    }
    auto batch = recycled();
    if (!batch->ParseFromString(*payload) || batch->batch_id() != id) {
      spdlog::error("spool file {} does not hold batch {}; set aside as .corrupt", spool->batch_path(id).string(), id);
      if (auto s = spool->quarantine(id); !s.ok()) spdlog::error("{}", s.message());
      ++stats.spool_files_quarantined;
      recycle(std::move(batch));
      continue;
    }
    ++stats.batches_recovered;
    stats.records_recovered += static_cast<uint64_t>(batch->records_size());
    outstanding.emplace(id, Outstanding{std::move(batch)});
  }
}

bool PushClient::Impl::send(Outstanding& o, Clock::time_point now) {
  // Signed as it leaves (a resend again, with its own send time): batches
  // spooled by an older client, or before the station had a signing key,
  // go out signed too.
  if (opt.signing_key) sign_batch(*o.batch, *opt.signing_key, now_ns(), signing_message);
  const size_t size = o.batch->ByteSizeLong();
  zmq::message_t msg(size);
  o.batch->SerializeWithCachedSizesToArray(static_cast<uint8_t*>(msg.data()));
  if (zmq_msg_send(msg.handle(), dealer.handle(), ZMQ_DONTWAIT) < 0) {
    const int err = zmq_errno();
    // EAGAIN: no connection has finished its handshake (ZMQ_IMMEDIATE).
    if (err != EAGAIN && err != EINTR) {
      fatal = Status::internal(fmt::format("cannot send a batch: {}", zmq_strerror(err)));
    }
    return false;
  }
  o.on_wire = true;
  o.sent_at = now;
  if (o.sends++ == 0) {
    ++stats.batches_sent;
    stats.records_sent += static_cast<uint64_t>(o.batch->records_size());
  } else {
    ++stats.batches_resent;
  }
  return true;
}

void PushClient::Impl::send_due(Clock::time_point now) {
  if (now < send_retry_at) return;
  for (auto& [id, o] : outstanding) {
    if (o.on_wire && now - o.sent_at < opt.ack_timeout) continue;
    if (now < o.not_before) continue;
    if (o.on_wire) spdlog::debug("batch {} not acknowledged after {}; resending", id, seconds_text(now - o.sent_at));
    if (!send(o, now)) {
      send_retry_at = now + kSendRetry;
      return;
    }
  }
}

void PushClient::Impl::handshake_failed(HandshakeFailure failure, bool reconnect_ourselves, Clock::time_point now) {
  ++handshake_failures;
  if (failure.rank >= worst_failure.rank) worst_failure = std::move(failure);
  if (handshake_failures >= opt.max_handshake_failures) {
    fatal = Status::permission_denied(worst_failure.message);
    set_state(ConnectionState::kRefused, worst_failure.message);
    reconnect_at.reset();
    zmq_disconnect(dealer.handle(), opt.endpoint.c_str());  // stop knocking
    return;
  }
  // libzmq does not reconnect after the server refused the handshake (it
  // does after a dropped connection); try again after the usual backoff.
  if (reconnect_ourselves) {
    milliseconds backoff = opt.reconnect_interval * (1 << std::min(handshake_failures - 1, 10));
    reconnect_at = now + std::min(backoff, opt.reconnect_interval_max);
  }
}

void PushClient::Impl::read_monitor(Clock::time_point now) {
  const bool curve = !opt.server_public_key.empty();
  while (auto e = monitor->next()) {
    switch (e->event) {
      case ZMQ_EVENT_CONNECT_RETRIED:
        if (state != ConnectionState::kRefused) {
          set_state(ConnectionState::kWaiting,
                    fmt::format("waiting for server at {}: not reachable, retrying", opt.endpoint));
        }
        break;
      case ZMQ_EVENT_DISCONNECTED:
        // What was sent on the lost connection may be lost with it: resend
        // everything once the next connection is up.
        for (auto& [id, o] : outstanding) o.on_wire = false;
        lost_connection = true;
        if (state == ConnectionState::kConnected) {
          set_state(ConnectionState::kWaiting,
                    fmt::format("waiting for server at {}: connection lost, reconnecting", opt.endpoint));
        }
        break;
      case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
        handshake_failures = 0;
        worst_failure = {};
        reconnect_at.reset();
        // A new connection after a lost one: the server may have been
        // restarted (an operator's answer to a failed store), so what waited
        // for the old server's retry delay goes now.
        if (std::exchange(lost_connection, false)) {
          for (auto& [id, o] : outstanding) o.not_before = {};
        }
        set_state(ConnectionState::kConnected, fmt::format("connected to {}", opt.endpoint));
        send_retry_at = {};
        break;
      case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH: {
        std::string message;
        if (e->value == 400) {
          message = fmt::format(
              "the server refused this station key: it is not in the server's authorized_stations list (ask the "
              "operator to run seisvault authorize) [station public key {}]",
              opt.client_keys.public_key);
        } else {
          message = fmt::format(
              "the server could not check this station key (its authentication answered status {}); ask the "
              "operator to look at seisvaultd's log",
              e->value);
        }
        handshake_failed({3, std::move(message)}, true, now);
        break;
      }
      case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL: {
        std::string message;
        if (e->value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH) {
          message = curve ? fmt::format("the server at {} does not use CURVE security (is seisvaultd running "
                                        "--insecure? then push with --insecure)",
                                        opt.endpoint)
                          : fmt::format("the server at {} requires CURVE security: give its public key "
                                        "(--server-key DATA_DIR/server.pub) and a station key (--key)",
                                        opt.endpoint);
        } else if (e->value == ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC) {
          message = fmt::format("the CURVE handshake with {} failed cryptographically: is the server key "
                                "(--server-key) this server's DATA_DIR/server.pub?",
                                opt.endpoint);
        } else {
          message = fmt::format("the security handshake with {} failed (ZeroMQ protocol error {:#x}); is it a "
                                "seisvaultd ingest endpoint?",
                                opt.endpoint, e->value);
        }
        handshake_failed({2, std::move(message)}, true, now);
        break;
      }
      case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        handshake_failed(
            {1, curve ? fmt::format("the server at {} closed the connection during the CURVE handshake: either the "
                                    "server key (--server-key) is not this server's DATA_DIR/server.pub, or the "
                                    "server runs --insecure (then push with --insecure), or the endpoint is not a "
                                    "seisvaultd ingest port",
                                    opt.endpoint)
                      : fmt::format("the server at {} closed the connection during the handshake: does it require "
                                    "CURVE (then give --server-key and --key), or is the endpoint not a seisvaultd "
                                    "ingest port?",
                                    opt.endpoint)},
            false, now);
        break;
      default:
        break;
    }
  }
}

void PushClient::Impl::handle_ack(const void* data, size_t size, Clock::time_point now) {
  if (!ack.ParseFromArray(data, static_cast<int>(size))) {
    if (!warned_bad_ack) {
      spdlog::warn("the server sent a message that is not an IngestAck ({} bytes); ignoring it", size);
      warned_bad_ack = true;
    }
    return;
  }
  last_answer = now;
  if (ack.has_limits()) {
    BatchLimits limits{opt.max_batch_records, opt.max_batch_bytes};
    if (ack.limits().max_records_per_batch() > 0) {
      limits.max_records = std::min<size_t>(limits.max_records, ack.limits().max_records_per_batch());
    }
    if (ack.limits().max_batch_bytes() > 0) {
      limits.max_bytes = static_cast<size_t>(std::min<uint64_t>(limits.max_bytes, ack.limits().max_batch_bytes()));
    }
    builder.set_limits(limits);
  }
  const milliseconds retry_after(ack.retry_after_ms());
  switch (ack.error()) {
    case pb::BATCH_ERROR_UNSPECIFIED:
      break;
    case pb::SERVER_STOPPING:
      for (auto& [id, o] : outstanding) {
        if (ack.batch_id() != 0 && ack.batch_id() != id) continue;
        o.on_wire = false;
        o.not_before = now + kServerStoppingRetry;
      }
      set_state(ConnectionState::kWaiting,
                fmt::format("waiting for server at {}: it is shutting down; will resend", opt.endpoint));
      return;
    // Nothing of the batch was stored: keep all of it (see proto/ingest.proto).
    case pb::STORE_UNAVAILABLE:
      keep_batches({"STORE_UNAVAILABLE", ack.error_message(), false, retry_after}, now);
      return;
    case pb::BUSY:
      keep_batches({"BUSY", ack.error_message(), false, retry_after}, now);
      return;
    case pb::OVERSIZED_BATCH:
      keep_batches({"OVERSIZED_BATCH", ack.error_message(), true, retry_after}, now);
      return;
    case pb::UNSUPPORTED_PROTOCOL:
      fatal = Status::incompatible(
          fmt::format("the server does not accept version 1 of the station protocol: {}", ack.error_message()));
      return;
    case pb::BAD_SIGNATURE:
      // Unsigned, signed by another key than the server has for this
      // station, or the station has no signing key registered: resending
      // would be refused again until the keys are put right. The batches
      // stay in the spool.
      fatal = Status::permission_denied(
          fmt::format("the server refused batch {}: {}", ack.batch_id(), ack.error_message()));
      return;
    case pb::REPLAYED_BATCH: {
      // The id is at or below what this key has stored (a client that lost
      // its spool's counter, or a resend after later batches went in): the
      // records go again under ids above the server's highest.
      if (spool) {
        if (auto s = spool->skip_past(ack.highest_batch_id()); !s.ok()) {
          fatal = s;
          return;
        }
      }
      next_id = std::max(next_id, ack.highest_batch_id() + 1);
      ++stats.batches_renumbered;
      keep_batches({"REPLAYED_BATCH", ack.error_message(), false, milliseconds::zero(), /*renumber=*/true}, now);
      return;
    }
    case pb::MALFORMED:
      // Our own frame is broken: sending it again would not help.
      fatal = Status::internal(fmt::format("the server could not read batch {} ({}): {}", ack.batch_id(),
                                           pb::BatchError_Name(ack.error()), ack.error_message()));
      return;
    default:
      // An error from a newer server: by the protocol, nothing of the batch
      // was stored. Keep it, like STORE_UNAVAILABLE (a client must not drop
      // data for a reason it does not know).
      keep_batches({fmt::format("BATCH_ERROR_{}", static_cast<int>(ack.error())), ack.error_message(), false,
                    retry_after},
                   now);
      return;
  }
  auto it = outstanding.find(ack.batch_id());
  if (it == outstanding.end()) {
    ++stats.late_acks;  // an ack of a resent batch that was acknowledged already
    return;
  }
  if (ack.results_size() != it->second.batch->records_size()) {
    fatal = Status::internal(fmt::format("the server acknowledged batch {} with {} results for {} records",
                                         ack.batch_id(), ack.results_size(), it->second.batch->records_size()));
    return;
  }
  handle_results(it, now);
}

void PushClient::Impl::handle_results(std::map<uint64_t, Outstanding>::iterator it, Clock::time_point now) {
  const pb::IngestBatch& batch = *it->second.batch;
  kept_scratch.clear();
  KeepCause cause;
  cause.too_large = true;  // while every kept record was refused BATCH_TOO_LARGE
  cause.retry_after = milliseconds(ack.retry_after_ms());
  for (int i = 0; i < ack.results_size(); ++i) {
    const pb::RecordResult& r = ack.results(i);
    RecordOutcome out;
    out.batch_id = ack.batch_id();
    out.index = static_cast<uint32_t>(i);
    const std::string& bytes = batch.records(i).mseed();
    out.record = {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()};
    const auto reason = static_cast<uint32_t>(r.reason());
    if (r.status() == pb::STORED) {
      out.status = RecordStatus::kStored;
      ++stats.stored;
    } else if (r.status() == pb::DUPLICATE) {
      out.status = RecordStatus::kDuplicate;
      ++stats.duplicate;
    } else if (r.status() == pb::REJECTED && !reject_reason_is_transient(reason)) {
      // The record itself is wrong: resending it would be refused again.
      out.status = RecordStatus::kRejected;
      out.reject_code = reason;
      auto [tally, first] = stats.rejected_by_reason.try_emplace(reason);
      if (first) {
        tally->second.name = reject_code_name(reason);
        tally->second.first_message = r.message();
      }
      ++tally->second.count;
      ++stats.rejected;
      out.reject_name = tally->second.name;
      out.message = r.message();
    } else {
      // A transient reason, or a status this client does not know: not
      // stored, so kept; reported once the answer to its resend is final.
      kept_scratch.push_back(i);
      const bool rejected = r.status() == pb::REJECTED;
      std::string name = rejected ? reject_code_name(reason)
                                  : fmt::format("RECORD_STATUS_{}", static_cast<int>(r.status()));
      auto [tally, first] = stats.kept_by_cause.try_emplace(name);
      if (first) {
        tally->second.name = name;
        tally->second.first_message = rejected ? r.message() : "a record status this client does not know";
      }
      ++tally->second.count;
      if (cause.name.empty()) {
        cause.name = std::move(name);
        cause.message = rejected ? r.message() : tally->second.first_message;
      }
      cause.too_large = cause.too_large && rejected && r.reason() == pb::BATCH_TOO_LARGE;
      continue;
    }
    if (opt.on_result) opt.on_result(out);
  }
  const size_t done = static_cast<size_t>(ack.results_size()) - kept_scratch.size();
  if (done > 0) {
    last_progress = now;
    retry_step = 0;  // the server stores again: the next trouble starts from retry_interval
  }
  if (kept_scratch.empty()) {
    ++stats.batches_acked;
    if (spool) {
      if (auto s = spool->remove(it->first); !s.ok() && !warned_spool_delete) {
        spdlog::warn("{} (the batch will be sent again by the next run, and answered DUPLICATE)", s.message());
        warned_spool_delete = true;
      }
    }
    recycle(std::move(it->second.batch));
    outstanding.erase(it);
  } else {
    const uint64_t kept = kept_scratch.size();
    const milliseconds delay = keep(it, kept_scratch, cause, now);
    if (!fatal.ok()) return;
    if (done == 0 && delay > milliseconds::zero()) {
      set_state(ConnectionState::kWaiting,
                fmt::format("the server did not store {} records ({}: {}); keeping them, resending in {}", kept,
                            cause.name, cause.message, seconds_text(delay)));
      return;
    }
  }
  if (state != ConnectionState::kConnected) {
    set_state(ConnectionState::kConnected, fmt::format("connected to {}", opt.endpoint));
  }
}

void PushClient::Impl::keep_batches(const KeepCause& cause, Clock::time_point now) {
  const BatchLimits limits = builder.limits();
  const auto over_limits = [&](const pb::IngestBatch& b) {
    return static_cast<size_t>(b.records_size()) > limits.max_records || b.ByteSizeLong() > limits.max_bytes;
  };
  std::vector<uint64_t> ids;
  if (ack.batch_id() != 0) {
    if (outstanding.count(ack.batch_id()) > 0) ids.push_back(ack.batch_id());
  } else {
    // The server could not tell which batch (it refused the frame before
    // reading it): every batch waiting for its answer, or for
    // OVERSIZED_BATCH every one over the limits.
    for (const auto& [id, o] : outstanding) {
      if (o.on_wire && (!cause.too_large || over_limits(*o.batch))) ids.push_back(id);
    }
    if (ids.empty() && cause.too_large && !warned_oversized) {
      spdlog::warn("the server refused a batch as larger than its limits ({}) without saying which, and none "
                   "waiting for an answer is over them; the batches are resent after ack_timeout",
                   cause.message);
      warned_oversized = true;
    }
  }
  uint64_t records = 0;
  milliseconds delay{0};
  for (uint64_t id : ids) {
    auto it = outstanding.find(id);
    const int n = it->second.batch->records_size();
    kept_scratch.resize(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) kept_scratch[static_cast<size_t>(i)] = i;
    auto [tally, first] = stats.kept_by_cause.try_emplace(cause.name);
    if (first) {
      tally->second.name = cause.name;
      tally->second.first_message = cause.message;
    }
    tally->second.count += static_cast<uint64_t>(n);
    records += static_cast<uint64_t>(n);
    delay = std::max(delay, keep(it, kept_scratch, cause, now));
    if (!fatal.ok()) return;
  }
  if (ids.empty() || delay == milliseconds::zero()) return;
  std::string what;
  if (cause.name == "STORE_UNAVAILABLE") {
    what = "the server cannot store now";
  } else if (cause.name == "BUSY") {
    what = "the server is busy with this station's earlier batches";
  } else if (cause.too_large) {
    what = "the server refuses a batch as larger than its limits and it cannot be split further";
  } else {
    what = fmt::format("the server did not take a batch ({})", cause.name);
  }
  set_state(ConnectionState::kWaiting, fmt::format("{}: {}; keeping {} records, resending in {}", what,
                                                   cause.message, records, seconds_text(delay)));
}

milliseconds PushClient::Impl::retry_delay(const Outstanding& o, milliseconds retry_after, Clock::time_point now) {
  if (retry_step == 0 || o.sent_at >= retry_step_raised) {
    retry_step = std::min(retry_step + 1, 32);
    retry_step_raised = now;
  }
  milliseconds step = opt.retry_interval;
  for (int i = 1; i < retry_step && step < opt.retry_interval_max; ++i) step *= 2;
  step = std::min(step, opt.retry_interval_max);
  std::uniform_int_distribution<int64_t> half(0, step.count() - step.count() / 2);
  const milliseconds jittered(step.count() / 2 + half(jitter));
  return std::max(jittered, std::min(retry_after, kMaxRetryAfter));
}

Result<uint64_t> PushClient::Impl::new_batch_id() {
  if (spool) return spool->allocate_batch_id();
  return next_id++;
}

milliseconds PushClient::Impl::keep(std::map<uint64_t, Outstanding>::iterator it, const std::vector<int>& kept,
                                    const KeepCause& cause, Clock::time_point now) {
  Outstanding& o = it->second;
  const pb::IngestBatch& old = *o.batch;
  ++stats.retries;
  stats.records_kept += kept.size();

  // Cut the kept records into batches within the limits. A server that
  // calls a batch too large although it is within the limits it gave is
  // answered with halves, down to single records.
  BatchLimits limits = builder.limits();
  const bool over =
      static_cast<size_t>(old.records_size()) > limits.max_records || old.ByteSizeLong() > limits.max_bytes;
  if (cause.too_large && !over) limits.max_records = std::max<size_t>(1, (kept.size() + 1) / 2);
  std::vector<size_t> ends;  // end (in `kept`) of each new batch
  size_t count = 0, bytes = BatchBuilder::kBatchOverhead;
  for (size_t k = 0; k < kept.size(); ++k) {
    const size_t cost = BatchBuilder::record_cost(old.records(kept[k]).mseed().size());
    if (count > 0 && (count >= limits.max_records || bytes + cost > limits.max_bytes)) {
      ends.push_back(k);
      count = 0;
      bytes = BatchBuilder::kBatchOverhead;
    }
    ++count;
    bytes += cost;
  }
  ends.push_back(kept.size());
  const bool split = ends.size() > 1;
  if (split) {
    ++stats.batches_split;
    if (!told_split) {  // once: after the operator lowers the limits, every batch in flight is cut
      if (over) {
        spdlog::info("the server's limits ({} records, {} bytes per batch) are below batch {}'s: sending its "
                     "records in {} smaller batches",
                     limits.max_records, limits.max_bytes, it->first, ends.size());
      } else {
        spdlog::info("the server refuses batch {} as too large although it is within the limits it gave: sending "
                     "its records in {} smaller batches",
                     it->first, ends.size());
      }
      told_split = true;
    }
  }
  // Smaller batches after a "too large" go out at once; anything else waits.
  const milliseconds delay =
      (cause.too_large && split) || cause.renumber ? milliseconds::zero() : retry_delay(o, cause.retry_after, now);

  if (!split && !cause.renumber && kept.size() == static_cast<size_t>(old.records_size())) {
    // All of it kept, and whole: resend it as it is (same id, same spool file).
    o.on_wire = false;
    o.not_before = now + delay;
    return delay;
  }

  // New batches (new ids), each in the spool before the old batch's file is
  // removed: a crash in between only makes some records go twice, and the
  // server answers DUPLICATE.
  std::vector<std::pair<uint64_t, std::unique_ptr<pb::IngestBatch>>> fresh;
  size_t begin = 0;
  for (size_t end : ends) {
    auto id = new_batch_id();
    if (!id.ok()) {
      fatal = id.status();
      return delay;
    }
    auto b = recycled();
    b->set_protocol_version(pb::PROTOCOL_VERSION_1);
    b->set_batch_id(*id);
    for (size_t k = begin; k < end; ++k) *b->add_records() = old.records(kept[k]);
    if (spool) {
      b->SerializeToString(&frame);
      if (auto s = spool->write(*id, {reinterpret_cast<const uint8_t*>(frame.data()), frame.size()}); !s.ok()) {
        fatal = Status::io_error(fmt::format("cannot spool batch {} ({} records kept from batch {}): {}", *id,
                                             b->records_size(), it->first, s.message()));
        return delay;
      }
    }
    fresh.emplace_back(*id, std::move(b));
    begin = end;
  }
  if (spool) {
    if (auto s = spool->remove(it->first); !s.ok() && !warned_spool_delete) {
      spdlog::warn("{} (the batch will be sent again by the next run, and answered DUPLICATE)", s.message());
      warned_spool_delete = true;
    }
  }
  ++stats.batches_acked;
  recycle(std::move(o.batch));
  outstanding.erase(it);
  for (auto& [id, b] : fresh) {
    Outstanding n{std::move(b)};
    n.sends = 1;  // its records were sent before: its sends count as resends
    n.not_before = now + delay;
    outstanding.emplace(id, std::move(n));
  }
  return delay;
}

void PushClient::Impl::read_acks(Clock::time_point now) {
  for (;;) {
    zmq::message_t msg;
    if (zmq_msg_recv(msg.handle(), dealer.handle(), ZMQ_DONTWAIT) < 0) return;
    if (msg.more()) {
      // The protocol has one frame per ack; drop the rest of this message.
      bool more = true;
      while (more) {
        zmq::message_t rest;
        if (zmq_msg_recv(rest.handle(), dealer.handle(), ZMQ_DONTWAIT) < 0) break;
        more = rest.more();
      }
      if (!warned_bad_ack) {
        spdlog::warn("the server sent a message of several frames; ignoring it");
        warned_bad_ack = true;
      }
      continue;
    }
    handle_ack(msg.data(), msg.size(), now);
    if (!fatal.ok()) return;
  }
}

Status PushClient::Impl::seal(Clock::time_point now) {
  auto allocated = new_batch_id();
  if (!allocated.ok()) return fatal = allocated.status();
  const uint64_t id = *allocated;
  auto batch = builder.take(id, recycled());
  if (spool) {
    batch->SerializeToString(&frame);
    if (auto s = spool->write(id, {reinterpret_cast<const uint8_t*>(frame.data()), frame.size()}); !s.ok()) {
      return fatal = Status::io_error(fmt::format("cannot spool batch {} ({} records): {}", id, batch->records_size(),
                                                  s.message()));
    }
  }
  note_outstanding_start(now);
  outstanding.emplace(id, Outstanding{std::move(batch)});
  send_due(now);
  return fatal;
}

void PushClient::Impl::service(Clock::time_point now) {
  if (reconnect_at && now >= *reconnect_at && fatal.ok()) {
    reconnect_at.reset();
    zmq_disconnect(dealer.handle(), opt.endpoint.c_str());
    zmq_connect(dealer.handle(), opt.endpoint.c_str());
  }
  if (!backlog.empty()) fill_from_backlog();
  if (fatal.ok() && !builder.empty() && room() && now - batch_started >= opt.max_batch_delay) seal(now);
  if (fatal.ok()) send_due(now);
}

template <class Done>
Result<bool> PushClient::Impl::run(Clock::time_point deadline, Done done) {
  auto next_tick = Clock::now() + kTick;
  for (;;) {
    auto now = Clock::now();
    service(now);
    if (!fatal.ok()) return fatal;
    if (done()) return true;
    if (opt.stall_timeout > milliseconds::zero() && has_outstanding() && now - last_progress >= opt.stall_timeout) {
      // Answers that store nothing are not progress (push_options.h).
      const char* what = last_answer > last_progress ? "the server has answered but stored nothing for"
                                                     : "no acknowledgement from the server for";
      return Status::deadline_exceeded(
          fmt::format("{} {}: {}", what, seconds_text(now - last_progress), describe_outstanding()));
    }
    if (now >= next_tick) {
      if (opt.keep_waiting && !opt.keep_waiting()) return Status::cancelled("interrupted");
      next_tick = now + kTick;
    }

    // Sleep until something arrives or the next thing is due (not at all
    // when the deadline has passed: then only take in what is there).
    auto wake = std::min(deadline, next_tick);
    for (const auto& [id, o] : outstanding) {
      wake = std::min(wake, o.on_wire ? o.sent_at + opt.ack_timeout : std::max(o.not_before, send_retry_at));
    }
    if (reconnect_at) wake = std::min(wake, *reconnect_at);
    if (!builder.empty() && room()) wake = std::min(wake, batch_started + opt.max_batch_delay);
    if (opt.stall_timeout > milliseconds::zero() && has_outstanding()) {
      wake = std::min(wake, last_progress + opt.stall_timeout);
    }
    const auto timeout = std::chrono::ceil<milliseconds>(std::max(wake - now, Clock::duration::zero()));
    zmq_pollitem_t items[2] = {{dealer.handle(), 0, ZMQ_POLLIN, 0}, {monitor->socket().handle(), 0, ZMQ_POLLIN, 0}};
    if (zmq_poll(items, 2, static_cast<long>(timeout.count())) < 0 && zmq_errno() != EINTR) {
      return fatal = Status::internal(fmt::format("zmq_poll failed: {}", zmq_strerror(zmq_errno())));
    }
    now = Clock::now();
    read_monitor(now);
    read_acks(now);
    if (!fatal.ok()) return fatal;
    if (now >= deadline) {
      service(now);
      if (!fatal.ok()) return fatal;
      return done();
    }
  }
}

PushClient::PushClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PushClient::PushClient(PushClient&&) noexcept = default;
PushClient& PushClient::operator=(PushClient&&) noexcept = default;
PushClient::~PushClient() = default;

Result<PushClient> PushClient::open(PushOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  if (auto s = impl->start(); !s.ok()) {
    impl->spool.reset();  // nothing was added: nothing to keep
    return s;
  }
  return PushClient(std::move(impl));
}

Status PushClient::add(std::span<const uint8_t> record) {
  Impl& m = *impl_;
  if (!m.fatal.ok()) return m.fatal;
  const auto now = Clock::now();
  if (!m.builder.empty() && (!m.builder.fits(record.size()) || now - m.batch_started >= m.opt.max_batch_delay)) {
    // Take in what has arrived, then wait for room if there is none.
    auto r = m.run(now, [&] { return m.room(); });
    if (!r.ok()) return r.status();
    if (!*r) {
      r = m.run(Clock::time_point::max(), [&] { return m.room(); });
      if (!r.ok()) return r.status();
    }
    if (!m.builder.empty()) {
      if (auto s = m.seal(Clock::now()); !s.ok()) return s;
    }
  }
  if (m.builder.empty()) m.batch_started = now;
  m.builder.add(record);
  ++m.stats.records_added;
  return {};
}

Status PushClient::flush(std::chrono::milliseconds timeout) {
  Impl& m = *impl_;
  if (!m.fatal.ok()) return m.fatal;
  const auto start = Clock::now();
  const auto deadline = saturating_add(start, timeout);
  auto r = m.run(deadline, [&] { return m.builder.empty() || m.room(); });
  if (r.ok() && *r && !m.builder.empty()) {
    if (auto s = m.seal(Clock::now()); !s.ok()) return s;
  }
  if (r.ok() && *r) r = m.run(deadline, [&] { return m.idle(); });
  if (!r.ok()) return r.status();
  if (!*r) {
    return Status::deadline_exceeded(
        fmt::format("gave up after {}: {}", seconds_text(Clock::now() - start), m.describe_outstanding()));
  }
  return {};
}

Status PushClient::poll(std::chrono::milliseconds wait) {
  Impl& m = *impl_;
  if (!m.fatal.ok()) return m.fatal;
  auto r = m.run(saturating_add(Clock::now(), wait), [] { return false; });
  return r.ok() ? Status{} : r.status();
}

const PushStats& PushClient::stats() const { return impl_->stats; }
ConnectionState PushClient::connection_state() const { return impl_->state; }

uint64_t PushClient::unacknowledged_records() const {
  uint64_t n = impl_->builder.records();
  for (const auto& [id, o] : impl_->outstanding) n += static_cast<uint64_t>(o.batch->records_size());
  return n;
}

uint64_t PushClient::unacknowledged_batches() const { return impl_->outstanding.size() + impl_->backlog.size(); }

}  // namespace seisvault::client
