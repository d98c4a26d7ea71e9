#include "seedlink_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <numeric>
#include <optional>
#include <thread>
#include <unordered_map>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "address_allow_list.h"
#include "durable_queue.h"
#include "host_port.h"
#include "miniseed_repack.h"
#include "seedlink_info.h"
#include "seedlink_session.h"
#include "seedlink_text.h"
#include "seisvault/common/seedlink_wire.h"
#include "seisvault/common/string_map.h"
#include "seisvault/common/thread_name.h"
#include "seisvault/ingest/record_validator.h"
#include "seisvault/storage/channel_selection.h"

namespace seisvault::server {

using namespace seedlink;
using seisvault::seedlink::append_v3_header;
using seisvault::seedlink::append_v4_header;
using seisvault::seedlink::kEndMarker;
using seisvault::seedlink::kFormatMiniSeed2;
using seisvault::seedlink::kSubformatData;
using seisvault::seedlink::kV3RecordSize;
using Clock = std::chrono::steady_clock;

namespace {

// A time start (v3 "TIME begin", v3 "DATA seq begin" without a usable
// sequence, v4 "DATA -1 begin") reads the records committed from this long
// before `begin` on, keeping those that end at or after it: a record is
// committed after its data were recorded, unless its station's clock ran
// ahead of the server's by more than this.
constexpr TimeNs kTimeStartSlackNs = 10 * 60 * kNanosPerSecond;

// Sequence numbers a backfill step covers at most (records of other
// channels among them are skipped unread).
constexpr uint64_t kBackfillSpan = 200'000;

// The channel codes of a source id, once.
struct Codes {
  std::string_view net, sta, loc, cha;
};
std::optional<Codes> codes_of(std::string_view source_id) {
  auto parts = storage::split_source_id(source_id);
  if (!parts) return std::nullopt;
  return Codes{(*parts)[0], (*parts)[1], (*parts)[2], (*parts)[3]};
}

// One station of a feed, with where it starts and its time window.
struct FeedStation {
  StationPattern pattern;
  SelectorList selectors;
  uint64_t from_sequence = 0;
  std::optional<TimeNs> begin, end;
};

// What a connection is fed: fixed once the feed starts.
struct FeedPlan {
  int version = 3;
  bool dialup = false;
  bool window = false;                  // closed time windows: read by time, then END
  uint64_t dialup_end = 0;              // FETCH: END once the position reaches this
  std::vector<FeedStation> stations;
  std::vector<std::string> window_channels;  // window mode: the channels to read, in order
  TimeNs window_begin = kTimeMax, window_end = kTimeMin;
  // Some station has a time limit: whether a record is wanted then depends
  // on its times, not only on its channel, and the feed thread cannot keep
  // a verdict per channel.
  bool time_limited = false;

  // Whether any station asks for NET.STA (before selectors).
  bool station_wanted(std::string_view net, std::string_view sta) const {
    for (const auto& s : stations) {
      if (s.pattern.matches(net, sta)) return true;
    }
    return false;
  }
  // Whether a record is to be sent.
  bool wanted(const Codes& c, char type, uint64_t seq, TimeNs start, TimeNs end) const {
    for (const auto& s : stations) {
      if (seq < s.from_sequence && !window) continue;
      if (s.begin && end < *s.begin) continue;
      if (s.end && start > *s.end) continue;
      if (!s.pattern.matches(c.net, c.sta)) continue;
      if (!s.selectors.matches(c.loc, c.cha, type)) continue;
      return true;
    }
    return false;
  }
};

enum class Mode { kHandshake, kLive, kBackfill, kWindow, kDone };

struct Conn {
  int fd = -1;
  std::string host;
  uint16_t port = 0;
  bool loopback = false;
  TimeNs connected_ns = 0;

  // I/O thread only.
  LineReader reader;
  std::unique_ptr<Session> session;
  Clock::time_point last_command;
  bool want_write = false;  // EPOLLOUT armed

  // Guarded by mutex.
  std::mutex mutex;
  std::string out;
  size_t out_sent = 0;
  Clock::time_point last_progress;  // last time a write moved bytes (or the queue was empty)
  Mode mode = Mode::kHandshake;
  uint64_t next_sequence = 0;
  std::shared_ptr<const FeedPlan> plan;
  bool job_queued = false;
  bool close_after_flush = false;
  size_t window_channel = 0;
  std::optional<std::pair<TimeNs, uint64_t>> window_last;  // last (start, sequence) sent in the channel

  // Feed thread only: per channel number, whether it is wanted.
  std::vector<int8_t> verdicts;  // 0 unknown, 1 no, 2 yes (for the type in verdict_types)
  std::vector<char> verdict_types;

  std::atomic<bool> closed{false};
  std::atomic<uint64_t> packets{0};
  std::atomic<uint64_t> bytes{0};

  size_t queued() const { return out.size() - out_sent; }
};

using ConnPtr = std::shared_ptr<Conn>;

// Appends the packets of one record: v4 its original bytes, v3 512-byte
// records (repacked when it is of another length; `pieces` caches that).
size_t append_packets(std::string& out, int version, std::span<const uint8_t> bytes, uint64_t sequence,
                      const Codes& codes, const std::vector<std::string>* pieces) {
  if (version == 4) {
    std::string station_id;
    station_id.reserve(codes.net.size() + 1 + codes.sta.size());
    station_id.append(codes.net).append("_").append(codes.sta);
    append_v4_header(out, kFormatMiniSeed2, kSubformatData, static_cast<uint32_t>(bytes.size()), sequence,
                     station_id);
    out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    return 1;
  }
  if (bytes.size() == kV3RecordSize) {
    append_v3_header(out, sequence);
    out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    return 1;
  }
  if (!pieces) return 0;
  for (const auto& p : *pieces) {
    append_v3_header(out, sequence);
    out += p;
  }
  return pieces->size();
}

// Repacks a record for v3 clients; nullopt (logged, at most once a minute)
// when it cannot be.
std::optional<std::vector<std::string>> pieces_for_v3(std::span<const uint8_t> bytes, std::string_view source_id) {
  // repack_to_512 takes only what the validator accepts (libmseed decodes
  // the samples); a record stored before today's checks may not be.
  // No future limit: the record was within it when it arrived (100 years keeps now + margin in range).
  thread_local ingest::RecordValidator validator(ingest::ValidatorOptions{int64_t{100} * 366 * 86400 * kNanosPerSecond});
  const auto v = validator.validate(bytes, now_ns());
  auto r = v.ok() ? repack_to_512(bytes)
                  : Result<std::vector<std::string>>(Status::invalid_argument("the record no longer passes validation: " + v.message));
  if (r.ok()) return std::move(r).value();
  static std::atomic<int64_t> last_log{0};
  const int64_t now = now_ns();
  if (now - last_log.load() > 60 * kNanosPerSecond) {
    last_log = now;
    spdlog::warn("seedlink: a record of {} ({} bytes) cannot be repacked into 512-byte records for SeedLink 3 "
                 "clients and is not sent to them: {}",
                 source_id, bytes.size(), r.status().message());
  }
  return std::nullopt;
}

}  // namespace

struct SeedLinkServer::Impl : SessionHost {
  SeedLinkOptions options;
  storage::RecordStore& store;
  std::string version;
  AddressAllowList allow;
  std::vector<StationPattern> served;  // empty: every station
  TimeNs started_ns = now_ns();

  int listen_fd = -1;
  int epoll_fd = -1;
  int wake_fd = -1;
  std::string bound_address;
  std::atomic<bool> stopping{false};

  // I/O thread only.
  std::unordered_map<int, ConnPtr> conns;
  std::unordered_map<std::string, size_t> per_address;

  // Connections with bytes to write, handed to the I/O thread.
  std::mutex dirty_mutex;
  std::vector<std::weak_ptr<Conn>> dirty;

  // The feed: guarded by feed_mutex.
  std::mutex feed_mutex;
  std::vector<ConnPtr> feeding;
  uint64_t durable_head = 1;  // every record below is durable and was offered to live clients
  std::atomic<uint64_t> durable_head_seen{1};
  DurableQueue queue{4096, size_t{256} << 20};
  StringMap<uint32_t> channel_numbers;  // feed thread only

  // Workers.
  std::mutex jobs_mutex;
  std::condition_variable jobs_ready;
  std::deque<ConnPtr> jobs;

  std::atomic<uint64_t> open_connections{0};
  std::atomic<uint64_t> accepted{0}, refused{0}, bytes_sent{0}, live_fallbacks{0},
      backfill_records{0}, groups_dropped{0};

  std::thread io_thread, feed_thread;
  std::vector<std::thread> workers;

  Impl(SeedLinkOptions o, storage::RecordStore& s, std::string v)
      : options(std::move(o)), store(s), version(std::move(v)) {}

  // --- SessionHost -----------------------------------------------------------

  std::string software() const {
    return fmt::format("SeedLink v4.0 (SeisVault/{}) :: SLPROTO:4.0 SLPROTO:3.1 CAP EXTREPLY NSWILDCARD BATCH",
                       version);
  }
  std::string hello() const override { return software() + "\r\n" + options.organization + "\r\n"; }

  bool served_station(std::string_view net, std::string_view sta) const {
    if (served.empty()) return true;
    for (const auto& p : served) {
      if (p.matches(net, sta)) return true;
    }
    return false;
  }

  bool station_allowed(const StationPattern& pattern, std::string& why) const override {
    if (served.empty() || pattern.has_wildcards()) return true;  // wildcards: filtered per record
    const auto& t = pattern.text();
    const auto us = t.find('_');
    if (us != std::string::npos && served_station(std::string_view(t).substr(0, us), std::string_view(t).substr(us + 1))) {
      return true;
    }
    why = fmt::format("station {} is not served here", t);
    return false;
  }

  InfoServer info_server() const {
    InfoServer server;
    server.software = software();
    server.organization = options.organization;
    server.started = started_ns;
    for (const auto c : kV3Capabilities) server.capabilities.emplace_back(c);
    return server;
  }

  InfoSnapshot snapshot(InfoLevel level) {
    InfoSnapshot s;
    s.server = info_server();
    if (level == InfoLevel::kStations || level == InfoLevel::kStreams) {
      auto channels = store.list_channels({});
      if (channels.ok()) {
        const auto first_held = store.first_sequence();
        const uint64_t first = first_held.ok() ? first_held.value() : 1;
        uint64_t head;
        {
          std::lock_guard lock(feed_mutex);
          head = durable_head;
        }
        for (const auto& ch : *channels) {
          auto c = codes_of(ch.source_id);
          if (!c || !served_station(c->net, c->sta)) continue;
          if (s.stations.empty() || s.stations.back().network != c->net || s.stations.back().station != c->sta) {
            InfoStation st;
            st.network = std::string(c->net);
            st.station = std::string(c->sta);
            st.begin_sequence = first;
            st.end_sequence = head;
            s.stations.push_back(std::move(st));
          }
          if (level == InfoLevel::kStreams) {
            InfoStream stream;
            stream.location = std::string(c->loc);
            stream.channel = std::string(c->cha);
            stream.type = ch.summary.sample_rate > 0 ? 'D' : 'L';
            stream.begin = ch.summary.first_start_ns;
            stream.end = ch.summary.last_end_ns;
            s.stations.back().streams.push_back(std::move(stream));
          }
        }
      }
    }
    if (level == InfoLevel::kConnections) {
      for (const auto& [fd, c] : conns) {
        InfoConnection ic;
        ic.host = c->host;
        ic.port = c->port;
        ic.connected = c->connected_ns;
        ic.user_agent = c->session->user_agent();
        ic.protocol_version = c->session->protocol_major() == 4 ? "4.0" : "3.1";
        ic.packets_sent = c->packets.load();
        ic.bytes_sent = c->bytes.load();
        {
          std::lock_guard lock(c->mutex);
          if (c->plan) {
            ic.dialup = c->plan->dialup;
            ic.current_sequence = c->next_sequence;
          }
          ic.end_of_data = c->mode == Mode::kDone;
        }
        ic.selectors = c->session->global().selector_texts;
        for (const auto& st : c->session->stations()) {
          InfoConnectionStation cs;
          const auto& t = st.pattern.text();
          const auto us = t.find('_');
          cs.network = us == std::string::npos ? "*" : t.substr(0, us);
          cs.station = us == std::string::npos ? t : t.substr(us + 1);
          cs.selectors = st.selector_texts;
          cs.begin_sequence = st.start.sequence;
          cs.window_begin = st.start.begin;
          cs.window_end = st.start.end;
          ic.stations.push_back(std::move(cs));
        }
        s.connections.push_back(std::move(ic));
      }
    }
    return s;
  }

  Conn* asking_conn = nullptr;  // I/O thread: the connection whose command is being handled

  std::string info(int protocol_major, std::string_view word) override {
    const auto level = parse_info_level(word);
    const bool v4 = protocol_major == 4;
    const InfoServer server = info_server();
    auto refuse = [&](std::string_view code, std::string_view message) {
      return v4 ? pack_v4_info(info_json_error(server, code, message), true)
                : pack_v3_info(info_xml_error(server), true, now_ns());
    };
    if (!level || (!v4 && *level == InfoLevel::kFormats)) {
      return refuse("ARGUMENTS", fmt::format("INFO {} is not offered: ID, CAPABILITIES, STATIONS, STREAMS, "
                                             "CONNECTIONS{}",
                                             printable(word), v4 ? ", FORMATS" : ""));
    }
    if (*level == InfoLevel::kConnections && !(asking_conn && asking_conn->loopback)) {
      return refuse("UNAUTHORIZED", "INFO CONNECTIONS is answered to clients on this host only");
    }
    const auto snap = snapshot(*level);
    return v4 ? pack_v4_info(info_json(*level, snap), false) : pack_v3_info(info_xml(*level, snap), false, now_ns());
  }

  // --- Starting a feed -------------------------------------------------------

  void start_feed(const ConnPtr& c) {
    FeedRequest req = c->session->take_feed();
    auto plan = std::make_shared<FeedPlan>();
    plan->version = req.protocol_major;
    plan->dialup = req.dialup;
    uint64_t head;
    {
      std::lock_guard lock(feed_mutex);
      head = durable_head;
    }
    const auto first_r = store.first_sequence();
    const uint64_t first = first_r.ok() ? std::min(first_r.value(), head) : head;
    for (auto& r : req.stations) {
      FeedStation s{std::move(r.pattern), std::move(r.selectors), head, std::nullopt, std::nullopt};
      const auto& st = r.start;
      if (st.end) {
        plan->window = true;
        s.begin = st.begin.value_or(kTimeMin);
        s.end = st.end;
        plan->window_begin = std::min(plan->window_begin, *s.begin);
        plan->window_end = std::max(plan->window_end, *s.end);
      } else if (st.all) {
        s.from_sequence = first;
      } else if (st.sequence) {
        const uint64_t asked = req.protocol_major == 4 ? *st.sequence : widen_v3_sequence(*st.sequence, head);
        // Too old: the oldest held; newer than anything: the next to come.
        s.from_sequence = std::clamp(asked, first, head);
      } else if (st.begin) {
        auto at = store.sequence_at(*st.begin - kTimeStartSlackNs);
        s.from_sequence = at.ok() ? std::clamp(at.value(), first, head) : head;
        s.begin = st.begin;
      }
      plan->stations.push_back(std::move(s));
    }
    plan->dialup_end = head;
    if (plan->window) {
      // Stations without a window of their own in a window feed: the union.
      for (auto& s : plan->stations) {
        if (!s.end) {
          s.begin = plan->window_begin;
          s.end = plan->window_end;
        }
      }
      auto channels = store.list_channels({});
      if (channels.ok()) {
        for (const auto& ch : *channels) {
          auto codes = codes_of(ch.source_id);
          if (codes && served_station(codes->net, codes->sta) && plan->station_wanted(codes->net, codes->sta)) {
            plan->window_channels.push_back(ch.source_id);
          }
        }
      }
    }
    uint64_t from = head;
    for (const auto& s : plan->stations) {
      from = std::min(from, s.from_sequence);
      plan->time_limited = plan->time_limited || s.begin || s.end;
    }

    std::lock_guard feed(feed_mutex);
    std::lock_guard lock(c->mutex);
    c->plan = plan;
    c->next_sequence = from;
    if (plan->window) {
      c->mode = Mode::kWindow;
    } else if (plan->dialup && from >= plan->dialup_end) {
      c->mode = Mode::kDone;
      c->out += kEndMarker;
      c->close_after_flush = true;
    } else if (from >= durable_head) {
      c->next_sequence = durable_head;
      c->mode = Mode::kLive;
    } else {
      c->mode = Mode::kBackfill;
    }
    feeding.push_back(c);
    if (c->mode == Mode::kBackfill || c->mode == Mode::kWindow) queue_job_locked(c);
    spdlog::info("seedlink: {}:{} feeding (v{}, {} station request(s), {} from sequence {})", c->host, c->port,
                 plan->version, plan->stations.size(),
                 plan->window ? "time window" : (c->mode == Mode::kLive ? "live" : "backfill"), from);
  }

  // --- Workers ---------------------------------------------------------------

  // Under c->mutex.
  void queue_job_locked(const ConnPtr& c) {
    if (c->job_queued || c->closed.load()) return;
    c->job_queued = true;
    {
      std::lock_guard lock(jobs_mutex);
      jobs.push_back(c);
    }
    jobs_ready.notify_one();
  }

  void worker_loop() {
    for (;;) {
      ConnPtr c;
      {
        std::unique_lock lock(jobs_mutex);
        jobs_ready.wait(lock, [&] { return stopping.load() || !jobs.empty(); });
        if (stopping.load()) return;
        c = std::move(jobs.front());
        jobs.pop_front();
      }
      Mode mode;
      {
        std::lock_guard lock(c->mutex);
        mode = c->closed.load() ? Mode::kDone : c->mode;
      }
      if (mode == Mode::kBackfill) {
        backfill_step(c);
      } else if (mode == Mode::kWindow) {
        window_step(c);
      } else {
        std::lock_guard lock(c->mutex);
        c->job_queued = false;
      }
      mark_dirty(c);
    }
  }

  size_t room(const Conn& c) const { return c.queued() >= options.queue_bytes ? 0 : options.queue_bytes - c.queued(); }

  void backfill_step(const ConnPtr& c) {
    std::shared_ptr<const FeedPlan> plan;
    uint64_t from;
    size_t space;
    {
      std::lock_guard lock(c->mutex);
      plan = c->plan;
      from = c->next_sequence;
      space = room(*c);
    }
    const uint64_t head = durable_head_seen.load();
    const uint64_t until = std::min(head, from + kBackfillSpan);
    std::string buf;
    uint64_t next = until;
    size_t packets = 0, records = 0;
    auto want_channel = [&](uint32_t, std::string_view source_id) {
      auto codes = codes_of(source_id);
      if (!codes) return false;
      return served_station(codes->net, codes->sta) && plan->station_wanted(codes->net, codes->sta);
    };
    auto st = store.read_sequence(from, until, want_channel, [&](const storage::StoredRecord& r) {
      if (buf.size() >= space) {
        next = r.sequence;
        return false;
      }
      auto codes = codes_of(r.source_id);
      const char type = record_type(r.bytes);
      if (!codes || !plan->wanted(*codes, type, r.sequence, r.start_ns, r.end_ns)) return true;
      std::optional<std::vector<std::string>> pieces;
      if (plan->version == 3 && r.bytes.size() != kV3RecordSize) pieces = pieces_for_v3(r.bytes, r.source_id);
      packets += append_packets(buf, plan->version, r.bytes, r.sequence, *codes, pieces ? &*pieces : nullptr);
      ++records;
      return true;
    });
    if (!st.ok()) {
      spdlog::error("seedlink: {}:{}: reading the store failed, closing the connection: {}", c->host, c->port,
                    st.message());
      std::lock_guard lock(c->mutex);
      c->close_after_flush = true;
      c->mode = Mode::kDone;
      c->job_queued = false;
      return;
    }
    backfill_records += records;
    std::lock_guard feed(feed_mutex);
    std::lock_guard lock(c->mutex);
    c->job_queued = false;
    if (c->mode != Mode::kBackfill || c->next_sequence != from) return;
    c->out += buf;
    c->packets += packets;
    c->next_sequence = next;
    if (plan->dialup && c->next_sequence >= plan->dialup_end) {
      c->out += kEndMarker;
      c->mode = Mode::kDone;
      c->close_after_flush = true;
      return;
    }
    if (c->next_sequence >= durable_head) {
      // Caught up: the feed thread is between groups (we hold its lock), so
      // the next group it hands out starts exactly here.
      c->next_sequence = durable_head;
      c->mode = Mode::kLive;
      return;
    }
    if (room(*c) > options.queue_bytes / 2) queue_job_locked(c);
  }

  void window_step(const ConnPtr& c) {
    std::shared_ptr<const FeedPlan> plan;
    size_t channel;
    std::optional<std::pair<TimeNs, uint64_t>> last;
    size_t space;
    {
      std::lock_guard lock(c->mutex);
      plan = c->plan;
      channel = c->window_channel;
      last = c->window_last;
      space = room(*c);
    }
    std::string buf;
    size_t packets = 0;
    bool channel_done = true;
    if (channel < plan->window_channels.size()) {
      const auto& source_id = plan->window_channels[channel];
      const auto codes = codes_of(source_id);
      if (codes) {
        const auto sel = storage::ChannelSelection::exact(source_id);
        storage::TimeWindow w{plan->window_begin, plan->window_end};
        if (last) w.begin_ns = std::max(w.begin_ns, last->first);
        auto st = store.read_records(sel, w, [&](const storage::StoredRecord& r) {
          if (last && std::make_pair(r.start_ns, r.sequence) <= *last) return true;
          if (buf.size() >= space) {
            channel_done = false;
            return false;
          }
          const char type = record_type(r.bytes);
          if (r.source_id == source_id && plan->wanted(*codes, type, r.sequence, r.start_ns, r.end_ns)) {
            std::optional<std::vector<std::string>> pieces;
            if (plan->version == 3 && r.bytes.size() != kV3RecordSize) pieces = pieces_for_v3(r.bytes, r.source_id);
            packets += append_packets(buf, plan->version, r.bytes, r.sequence, *codes, pieces ? &*pieces : nullptr);
          }
          last = std::make_pair(r.start_ns, r.sequence);
          return true;
        });
        if (!st.ok()) spdlog::error("seedlink: {}:{}: reading {} failed: {}", c->host, c->port, source_id, st.message());
      }
    }
    std::lock_guard lock(c->mutex);
    c->job_queued = false;
    if (c->mode != Mode::kWindow) return;
    c->out += buf;
    c->packets += packets;
    if (channel_done) {
      c->window_channel = channel + 1;
      c->window_last.reset();
    } else {
      c->window_last = last;
    }
    if (c->window_channel >= plan->window_channels.size()) {
      c->out += kEndMarker;
      c->mode = Mode::kDone;
      c->close_after_flush = true;
      return;
    }
    if (room(*c) > options.queue_bytes / 2) queue_job_locked(c);
  }

  // --- Feed thread -----------------------------------------------------------

  uint32_t channel_number(std::string_view source_id) {
    if (auto f = channel_numbers.find(source_id); f != channel_numbers.end()) return f->second;
    if (channel_numbers.size() >= (size_t{1} << 20)) {
      channel_numbers.clear();  // a flood of channels: start the numbering afresh
      std::lock_guard lock(feed_mutex);
      for (auto& c : feeding) {
        std::lock_guard cl(c->mutex);
        c->verdicts.clear();
        c->verdict_types.clear();
      }
    }
    const auto n = static_cast<uint32_t>(channel_numbers.size());
    channel_numbers.emplace(std::string(source_id), n);
    return n;
  }

  void feed_loop() {
    std::vector<DurableQueue::Entry> entries;
    struct Item {
      uint32_t index;
      uint32_t channel;
      char type;
      Codes codes;
    };
    std::vector<Item> items;
    std::vector<std::optional<std::vector<std::string>>> repacked;
    std::vector<bool> repack_done;
    std::vector<ConnPtr> touched;
    for (;;) {
      entries.clear();
      const auto taken = queue.take(entries);
      if (taken.closed && entries.empty()) return;
      bool gap = taken.dropped_records > 0;
      for (const auto& e : entries) {
        const auto& g = *e.group;
        if (g.records.empty() || g.sequences.size() != g.records.size()) continue;
        {
          // No live client: nothing to match or copy, the head moves on (a
          // client that turns live later starts from it).
          std::lock_guard feed(feed_mutex);
          bool any_live = false;
          for (auto& c : feeding) {
            std::lock_guard lock(c->mutex);
            if (c->mode == Mode::kLive) {
              any_live = true;
              break;
            }
          }
          if (!any_live) {
            durable_head = std::max(durable_head, g.end_sequence());
            durable_head_seen.store(durable_head);
            gap = false;
            continue;
          }
        }
        items.clear();
        for (uint32_t i = 0; i < g.records.size(); ++i) {
          auto codes = codes_of(g.records[i].source_id);
          if (!codes) continue;
          items.push_back({i, channel_number(g.records[i].source_id), record_type(g.records[i].bytes), *codes});
        }
        std::sort(items.begin(), items.end(),
                  [&](const Item& a, const Item& b) { return g.sequences[a.index] < g.sequences[b.index]; });
        repacked.assign(g.records.size(), std::nullopt);
        repack_done.assign(g.records.size(), false);
        const uint64_t first = g.first_sequence();
        const uint64_t end = g.end_sequence();
        touched.clear();
        std::lock_guard feed(feed_mutex);
        if (first != durable_head) gap = true;
        for (auto& c : feeding) {
          std::lock_guard lock(c->mutex);
          if (c->mode != Mode::kLive) continue;
          if (gap || c->next_sequence != first) {
            // Records this client should see never reached the feed thread:
            // the store has them.
            c->mode = Mode::kBackfill;
            c->next_sequence = std::min(c->next_sequence, first);
            live_fallbacks += 1;
            queue_job_locked(c);
            continue;
          }
          const FeedPlan& plan = *c->plan;
          size_t packets = 0;
          bool full = false;
          for (const auto& it : items) {
            const auto& r = g.records[it.index];
            const uint64_t seq = g.sequences[it.index];
            if (c->verdicts.size() <= it.channel) {
              c->verdicts.resize(it.channel + 1, 0);
              c->verdict_types.resize(it.channel + 1, 0);
            }
            int8_t& v = c->verdicts[it.channel];
            if (v == 0 || c->verdict_types[it.channel] != it.type) {
              const bool yes = served_station(it.codes.net, it.codes.sta) &&
                               plan.wanted(it.codes, it.type, seq, r.start_ns, r.end_ns);
              if (!plan.time_limited) {  // the verdict holds for every later record of the channel
                v = yes ? 2 : 1;
                c->verdict_types[it.channel] = it.type;
              }
              if (!yes) continue;
            } else if (v == 1) {
              continue;
            }
            if (room(*c) == 0) {
              full = true;
              c->next_sequence = seq;
              break;
            }
            const std::vector<std::string>* pieces = nullptr;
            if (plan.version == 3 && r.bytes.size() != kV3RecordSize) {
              if (!repack_done[it.index]) {
                repacked[it.index] = pieces_for_v3(r.bytes, r.source_id);
                repack_done[it.index] = true;
              }
              if (repacked[it.index]) pieces = &*repacked[it.index];
            }
            packets += append_packets(c->out, plan.version, r.bytes, seq, it.codes, pieces);
          }
          c->packets += packets;
          if (full) {
            c->mode = Mode::kBackfill;
            live_fallbacks += 1;
            spdlog::info("seedlink: {}:{} reads slower than data arrive: continuing from the store at sequence {}",
                         c->host, c->port, c->next_sequence);
          } else {
            c->next_sequence = end;
            if (plan.dialup && end >= plan.dialup_end) {
              c->out += kEndMarker;
              c->mode = Mode::kDone;
              c->close_after_flush = true;
            }
          }
          if (packets > 0 || full || c->close_after_flush) touched.push_back(c);
        }
        durable_head = std::max(durable_head, end);
        durable_head_seen.store(durable_head);
        gap = false;
        for (auto& c : touched) mark_dirty(c);
      }
    }
  }

  // --- I/O thread ------------------------------------------------------------

  void mark_dirty(const ConnPtr& c) {
    {
      std::lock_guard lock(dirty_mutex);
      dirty.push_back(c);
    }
    const uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd, &one, sizeof one);
  }

  void close_conn(const ConnPtr& c, std::string_view why) {
    if (c->closed.exchange(true)) return;
    spdlog::info("seedlink: {}:{} closed ({}; {} packets sent)", c->host, c->port, why, c->packets.load());
    epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c->fd, nullptr);
    ::close(c->fd);
    conns.erase(c->fd);
    open_connections -= 1;
    if (auto f = per_address.find(c->host); f != per_address.end() && --f->second == 0) per_address.erase(f);
    std::lock_guard feed(feed_mutex);
    std::erase(feeding, c);
  }

  void set_want_write(const ConnPtr& c, bool want) {
    if (c->want_write == want) return;
    c->want_write = want;
    epoll_event ev{};
    ev.events = want ? (EPOLLIN | EPOLLOUT) : EPOLLIN;
    ev.data.fd = c->fd;
    epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c->fd, &ev);
  }

  // Writes what is queued; false when the connection was closed.
  bool flush(const ConnPtr& c) {
    bool close = false, blocked = false;
    {
      std::lock_guard lock(c->mutex);
      while (c->queued() > 0) {
        const ssize_t n = ::send(c->fd, c->out.data() + c->out_sent, c->queued(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
          c->out_sent += static_cast<size_t>(n);
          c->bytes += static_cast<uint64_t>(n);
          bytes_sent += static_cast<uint64_t>(n);
          c->last_progress = Clock::now();
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
          blocked = true;
          break;
        } else if (n < 0 && errno == EINTR) {
          continue;
        } else {
          close = true;
          break;
        }
      }
      if (c->queued() == 0) {
        c->out.clear();
        c->out_sent = 0;
        c->last_progress = Clock::now();
        if (c->close_after_flush) close = true;
      } else if (c->out_sent > (size_t{256} << 10)) {
        c->out.erase(0, c->out_sent);
        c->out_sent = 0;
      }
      if ((c->mode == Mode::kBackfill || c->mode == Mode::kWindow) && !c->job_queued &&
          room(*c) > options.queue_bytes / 2) {
        queue_job_locked(c);
      }
    }
    if (close) {
      close_conn(c, c->close_after_flush ? "feed finished" : "write failed: client gone");
      return false;
    }
    set_want_write(c, blocked);
    return true;
  }

  void accept_all() {
    for (;;) {
      sockaddr_storage addr{};
      socklen_t len = sizeof addr;
      const int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      const auto* sa = reinterpret_cast<const sockaddr*>(&addr);
      const std::string host = address_text(sa);
      const uint16_t port = address_port(sa);
      std::string refusal;
      if (!allow.allows(sa)) {
        refusal = "address not in --seedlink-allow";
      } else if (conns.size() >= options.max_connections) {
        refusal = fmt::format("{} connections already (--seedlink-max-connections)", conns.size());
      } else if (per_address[host] >= options.max_connections_per_address) {
        refusal = fmt::format("{} connections from this address already (--seedlink-max-connections-per-address)",
                              per_address[host]);
      }
      if (!refusal.empty()) {
        if (per_address[host] == 0) per_address.erase(host);
        refused += 1;
        spdlog::warn("seedlink: refused {}:{}: {}", host, port, refusal);
        const std::string msg = "ERROR\r\n";
        [[maybe_unused]] auto n = ::send(fd, msg.data(), msg.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        ::close(fd);
        continue;
      }
      const int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto c = std::make_shared<Conn>();
      c->fd = fd;
      c->host = host;
      c->port = port;
      c->loopback = host.starts_with("127.") || host == "::1";
      c->connected_ns = now_ns();
      c->session = std::make_unique<Session>(*this);
      c->last_command = Clock::now();
      c->last_progress = Clock::now();
      ++per_address[host];
      conns.emplace(fd, c);
      accepted += 1;
      open_connections += 1;
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.fd = fd;
      epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev);
      spdlog::debug("seedlink: {}:{} connected", host, port);
    }
  }

  void read_from(const ConnPtr& c) {
    char buf[4096];
    for (;;) {
      const ssize_t n = ::recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n == 0) {
        close_conn(c, "client closed the connection");
        return;
      }
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (errno == EINTR) continue;
        close_conn(c, "read failed");
        return;
      }
      c->reader.feed(std::string_view(buf, static_cast<size_t>(n)));
      std::string answer;
      bool start = false, bye = false;
      for (;;) {
        auto line = c->reader.next_line();
        if (!line.ok()) {
          c->session->line_too_long(answer);
          continue;
        }
        if (!*line) break;
        c->last_command = Clock::now();
        asking_conn = c.get();
        const auto next = c->session->handle(**line, answer);
        asking_conn = nullptr;
        if (next == Session::Next::kStartFeed) {
          start = true;
        } else if (next == Session::Next::kClose) {
          bye = true;
          break;
        }
      }
      if (!answer.empty() || bye) {
        std::lock_guard lock(c->mutex);
        c->out += answer;
        if (bye) c->close_after_flush = true;
      }
      if (start && !bye) start_feed(c);
      if (!flush(c)) return;
      if (bye) return;
    }
  }

  void check_timeouts() {
    const auto now = Clock::now();
    std::vector<std::pair<ConnPtr, std::string>> victims;
    for (const auto& [fd, c] : conns) {
      std::lock_guard lock(c->mutex);
      if (c->mode == Mode::kHandshake && now - c->last_command > options.handshake_timeout) {
        victims.emplace_back(c, fmt::format("no END within {} s of the last command", options.handshake_timeout.count()));
      } else if (c->queued() > 0 && now - c->last_progress > options.stall_timeout) {
        victims.emplace_back(c, fmt::format("took nothing for {} s while data waited", options.stall_timeout.count()));
      }
    }
    for (auto& [c, why] : victims) close_conn(c, why);
  }

  void io_loop() {
    std::vector<epoll_event> events(256);
    auto last_check = Clock::now();
    while (!stopping.load()) {
      const int n = epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()), 1000);
      for (int i = 0; i < n; ++i) {
        const int fd = events[static_cast<size_t>(i)].data.fd;
        const uint32_t ev = events[static_cast<size_t>(i)].events;
        if (fd == listen_fd) {
          accept_all();
          continue;
        }
        if (fd == wake_fd) {
          uint64_t v;
          [[maybe_unused]] auto r = ::read(wake_fd, &v, sizeof v);
          continue;
        }
        auto f = conns.find(fd);
        if (f == conns.end()) continue;
        ConnPtr c = f->second;
        if (ev & (EPOLLERR | EPOLLHUP)) {
          close_conn(c, "connection reset");
          continue;
        }
        if (ev & EPOLLIN) read_from(c);
        if (!c->closed.load() && (ev & EPOLLOUT)) flush(c);
      }
      std::vector<std::weak_ptr<Conn>> pending;
      {
        std::lock_guard lock(dirty_mutex);
        pending.swap(dirty);
      }
      for (auto& w : pending) {
        if (auto c = w.lock(); c && !c->closed.load()) flush(c);
      }
      if (Clock::now() - last_check >= std::chrono::seconds(1)) {
        last_check = Clock::now();
        check_timeouts();
      }
    }
    std::vector<ConnPtr> all;
    for (auto& [fd, c] : conns) all.push_back(c);
    for (auto& c : all) close_conn(c, "server stopping");
  }
};

Result<std::unique_ptr<SeedLinkServer>> SeedLinkServer::start(SeedLinkOptions options, storage::RecordStore& store,
                                                              std::string software_version) {
  auto hp = split_host_port(options.endpoint, "SeedLink");
  if (!hp.ok()) return hp.status();
  auto allow = AddressAllowList::parse(options.allow);
  if (!allow.ok()) return Status::invalid_argument(fmt::format("--seedlink-allow: {}", allow.status().message()));
  std::vector<StationPattern> served;
  for (const auto& s : options.stations) {
    auto p = StationPattern::parse_v4(std::vector<std::string>{s});
    if (!p.ok()) return Status::invalid_argument(fmt::format("--seedlink-stations '{}': {}", s, p.status().message()));
    served.push_back(std::move(p).value());
  }
  options.threads = std::max<size_t>(1, options.threads);
  options.queue_bytes = std::max<size_t>(options.queue_bytes, 64 << 10);
  auto impl = std::make_unique<Impl>(std::move(options), store, std::move(software_version));
  impl->allow = std::move(allow).value();
  impl->served = std::move(served);

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(hp->port);
  if (int e = getaddrinfo(hp->host.c_str(), port.c_str(), &hints, &res); e != 0) {
    return Status::invalid_argument(fmt::format("SeedLink address '{}': {}", impl->options.endpoint, gai_strerror(e)));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(res, freeaddrinfo);
  int fd = ::socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::io_error(fmt::format("SeedLink: cannot make a socket: {}", std::strerror(errno)));
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, res->ai_addr, res->ai_addrlen) != 0 || ::listen(fd, 128) != 0) {
    const int e = errno;
    ::close(fd);
    return Status::io_error(fmt::format("SeedLink: cannot listen on {}: {}", impl->options.endpoint, std::strerror(e)));
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  const auto bound_port = address_port(reinterpret_cast<const sockaddr*>(&bound));
  impl->bound_address = hp->host.find(':') != std::string::npos ? fmt::format("[{}]:{}", hp->host, bound_port)
                                                                : fmt::format("{}:{}", hp->host, bound_port);
  impl->listen_fd = fd;
  impl->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  impl->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  for (int f : {impl->listen_fd, impl->wake_fd}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = f;
    epoll_ctl(impl->epoll_fd, EPOLL_CTL_ADD, f, &ev);
  }
  // Every record in the store now is durable (recovered from the WAL at
  // open); ingest starts after this server, so nothing is published between.
  impl->durable_head = store.next_sequence();
  impl->durable_head_seen = impl->durable_head;

  Impl* p = impl.get();
  impl->io_thread = std::thread([p] {
    set_thread_name("sv-sl-io");
    p->io_loop();
  });
  impl->feed_thread = std::thread([p] {
    set_thread_name("sv-sl-feed");
    p->feed_loop();
  });
  for (size_t i = 0; i < p->options.threads; ++i) {
    impl->workers.emplace_back([p] {
      set_thread_name("sv-sl-read");
      p->worker_loop();
    });
  }
  spdlog::info("SeedLink 3.1/4.0 on {} (sequence numbers from {})", impl->bound_address, impl->durable_head);
  return std::unique_ptr<SeedLinkServer>(new SeedLinkServer(std::move(impl)));
}

SeedLinkServer::SeedLinkServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SeedLinkServer::~SeedLinkServer() {
  Impl& m = *impl_;
  m.stopping = true;
  m.queue.close();
  m.jobs_ready.notify_all();
  const uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(m.wake_fd, &one, sizeof one);
  if (m.feed_thread.joinable()) m.feed_thread.join();
  for (auto& w : m.workers) w.join();
  if (m.io_thread.joinable()) m.io_thread.join();
  {
    std::lock_guard lock(m.feed_mutex);
    m.feeding.clear();
  }
  ::close(m.listen_fd);
  ::close(m.wake_fd);
  ::close(m.epoll_fd);
}

std::string SeedLinkServer::address() const { return impl_->bound_address; }

void SeedLinkServer::publish(std::shared_ptr<const ingest::DurableRecords> records) {
  if (!impl_->queue.try_push(std::move(records), now_ns())) impl_->groups_dropped += 1;
}

SeedLinkCounters SeedLinkServer::counters() const {
  const Impl& m = *impl_;
  SeedLinkCounters c;
  c.connections_accepted = m.accepted.load();
  c.connections_refused = m.refused.load();
  c.connections_open = m.open_connections.load();
  c.bytes_sent = m.bytes_sent.load();
  c.live_fallbacks = m.live_fallbacks.load();
  c.backfill_records = m.backfill_records.load();
  c.groups_dropped = m.groups_dropped.load();
  {
    std::lock_guard lock(const_cast<Impl&>(m).feed_mutex);
    c.feeding = m.feeding.size();
  }
  return c;
}

}  // namespace seisvault::server
