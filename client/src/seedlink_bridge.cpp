#include "seisvault/client/seedlink_bridge.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <deque>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "message_sink.h"
#include "seisvault/common/atomic_file.h"
#include "seisvault/common/seedlink_wire.h"
#include "seisvault/common/sha256.h"

namespace seisvault::client {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr auto kWait = milliseconds(100);  // longest wait on one side while the other may have work
constexpr std::string_view kStateHeader =
    "# seisvault push --from-seedlink: last packet done per station (format 1)\n"
    "# Rewritten atomically once SeisVault has acknowledged the records; read at start.\n"
    "# <SeedLink server HOST:PORT> <NET_STA> <protocol 3|4> <sequence, decimal>\n";

std::vector<std::string_view> split_words(std::string_view line) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
    if (j > i) words.push_back(line.substr(i, j - i));
    i = j;
  }
  return words;
}

bool valid_code(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)); });
}

std::string seconds_text(Clock::duration d) {
  return fmt::format("{:.1f} s", std::chrono::duration<double>(d).count());
}

struct DigestHash {
  size_t operator()(const Sha256Digest& d) const {
    size_t h = 0;
    std::memcpy(&h, d.data(), sizeof(h));
    return h;
  }
};

}  // namespace

// ---------------------------------------------------------------------------
// SeedLinkState

Result<SeedLinkState> SeedLinkState::load(const fs::path& path) {
  SeedLinkState state;
  state.path_ = path;
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    if (ec) return Status::io_error(fmt::format("cannot read {}: {}", path.string(), ec.message()));
    return state;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::io_error(fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)));
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::string_view text = line;
    if (const auto hash = text.find('#'); hash != std::string_view::npos) text = text.substr(0, hash);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    const auto words = split_words(text);
    if (words.empty()) continue;
    const auto bad = [&](std::string_view why) {
      return Status::corruption(fmt::format("{} line {}: {} (\"{}\"); fix or remove the line (a station without a "
                                            "line starts from the server's next packet)",
                                            path.string(), number, why, line));
    };
    if (words.size() != 4) return bad("expected <server HOST:PORT> <NET_STA> <protocol 3|4> <sequence>");
    SeedLinkResumePoint point;
    if (words[2] == "3") {
      point.protocol = 3;
    } else if (words[2] == "4") {
      point.protocol = 4;
    } else {
      return bad("the protocol must be 3 or 4");
    }
    const auto seq = words[3];
    const auto [end, err] = std::from_chars(seq.data(), seq.data() + seq.size(), point.sequence);
    if (err != std::errc() || end != seq.data() + seq.size()) return bad("the sequence must be a decimal number");
    if (point.protocol == 3 && point.sequence > seedlink::kV3SequenceMask) {
      return bad("a SeedLink 3 sequence has 24 bits");
    }
    if (words[1].find('_') == std::string_view::npos) return bad("the station must be NET_STA");
    state.set(words[0], words[1], point);
  }
  if (in.bad()) return Status::io_error(fmt::format("cannot read {}", path.string()));
  return state;
}

std::optional<SeedLinkResumePoint> SeedLinkState::get(std::string_view server, std::string_view station_id) const {
  const auto it = points_.find(std::pair<std::string, std::string>(server, station_id));
  if (it == points_.end()) return std::nullopt;
  return it->second;
}

void SeedLinkState::set(std::string_view server, std::string_view station_id, SeedLinkResumePoint point) {
  points_[{std::string(server), std::string(station_id)}] = point;
}

std::string SeedLinkState::text() const {
  std::string out(kStateHeader);
  for (const auto& [key, point] : points_) {
    fmt::format_to(std::back_inserter(out), "{} {} {} {}\n", key.first, key.second, point.protocol, point.sequence);
  }
  return out;
}

Status SeedLinkState::save() const { return write_file_atomically(path_, text(), AtomicWriteOptions{.mode = 0644}); }

// ---------------------------------------------------------------------------
// parse_seedlink_streams

Result<std::vector<SeedLinkStationRequest>> parse_seedlink_streams(std::string_view list) {
  std::vector<SeedLinkStationRequest> out;
  std::set<std::string> seen;
  size_t start = 0;
  while (start <= list.size()) {
    const size_t comma = std::min(list.find(',', start), list.size());
    std::string_view entry = list.substr(start, comma - start);
    start = comma + 1;
    while (!entry.empty() && entry.front() == ' ') entry.remove_prefix(1);
    while (!entry.empty() && entry.back() == ' ') entry.remove_suffix(1);
    if (entry.empty()) {
      if (comma >= list.size()) break;
      return Status::invalid_argument(fmt::format("empty station in \"{}\"", list));
    }
    std::string_view id = entry;
    std::string_view selectors;
    const auto colon = entry.find(':');
    if (colon != std::string_view::npos) {
      id = entry.substr(0, colon);
      selectors = entry.substr(colon + 1);
    }
    const auto underscore = id.find('_');
    SeedLinkStationRequest request;
    if (underscore != std::string_view::npos) {
      request.network = std::string(id.substr(0, underscore));
      request.station = std::string(id.substr(underscore + 1));
    }
    if (underscore == std::string_view::npos || !valid_code(request.network) || !valid_code(request.station)) {
      return Status::invalid_argument(fmt::format(
          "\"{}\": a station is NET_STA (letters and digits, no wildcards), e.g. GE_WLF or GE_WLF:BHZ+HHZ", entry));
    }
    for (char c : selectors) {
      if (c == '+' || c == ' ' || std::isalnum(static_cast<unsigned char>(c)) ||
          std::string_view("?*!._:-").find(c) != std::string_view::npos) {
        continue;
      }
      return Status::invalid_argument(fmt::format("\"{}\": '{}' cannot be in a selector", entry, c));
    }
    size_t s = 0;
    while (s < selectors.size()) {
      const size_t e = std::min(selectors.find_first_of("+ ", s), selectors.size());
      if (e > s) request.selectors.emplace_back(selectors.substr(s, e - s));
      s = e + 1;
    }
    if (colon != std::string_view::npos && request.selectors.empty()) {
      return Status::invalid_argument(fmt::format("\"{}\": no selector after ':'", entry));
    }
    if (!seen.insert(request.id()).second) {
      return Status::invalid_argument(
          fmt::format("{} is named twice; give all its selectors in one entry, e.g. {}:BHZ+HHZ", request.id(),
                      request.id()));
    }
    out.push_back(std::move(request));
    if (comma >= list.size()) break;
  }
  if (out.empty()) return Status::invalid_argument("no station given");
  return out;
}

// ---------------------------------------------------------------------------
// SeedLinkBridge

struct SeedLinkBridge::Impl {
  // One requested station: where it resumes, and its packets handed to the
  // PushClient and not yet done, in the order they were received.
  struct Entry {
    uint64_t sequence = 0;
    int protocol = 4;
    bool done = false;
  };
  struct Track {
    std::string id;
    std::optional<SeedLinkResumePoint> acked;     // the state file's point (after the next write)
    std::optional<SeedLinkResumePoint> received;  // the last packet handed to the PushClient by this process
    std::deque<Entry> entries;
    uint64_t first_ticket = 0;  // ticket of entries.front()
  };
  struct Pending {
    size_t track = 0;
    uint64_t ticket = 0;
  };

  explicit Impl(SeedLinkBridgeOptions o) : opt(std::move(o)), seedlink(opt.seedlink) {}

  SeedLinkBridgeOptions opt;
  SeedLinkClient seedlink;
  std::optional<PushClient> push;
  SeedLinkState state;
  SeedLinkBridgeStats stats;
  std::vector<Track> tracks;
  std::unordered_map<std::string, size_t> track_by_id;
  std::unordered_map<Sha256Digest, std::deque<Pending>, DigestHash> pending;
  std::function<void(const RecordOutcome&)> user_on_result;
  std::function<bool()> user_keep_waiting;
  bool user_allow_v4 = true;
  bool running = false;
  bool stopping = false;
  bool ended = false;
  bool dirty = false;
  bool state_write_failed = false;
  std::set<std::string> warned;  // one warning per unexpected station or format

  // Reconnection.
  milliseconds backoff_step{};
  Clock::time_point next_attempt{};
  int failures_in_row = 0;
  bool data_on_connection = false;
  std::mt19937_64 rng{std::random_device{}()};

  std::string server() const { return fmt::format("{}:{}", opt.seedlink.host, opt.seedlink.port); }

  void say(const std::string& message, bool warning) const { say_to(opt.on_message, message, warning); }

  bool should_stop() {
    if (!stopping && opt.keep_running && !opt.keep_running()) stopping = true;
    return stopping;
  }

  void progress() const {
    if (opt.on_progress) opt.on_progress();
  }

  void on_result(const RecordOutcome& outcome) {
    const auto it = pending.find(sha256(outcome.record));
    if (it == pending.end()) return;  // from an earlier run's spool, or an untracked station
    const Pending p = it->second.front();
    it->second.pop_front();
    if (it->second.empty()) pending.erase(it);
    Track& t = tracks[p.track];
    t.entries[p.ticket - t.first_ticket].done = true;
    advance(t);
  }

  void advance(Track& t) {
    while (!t.entries.empty() && t.entries.front().done) {
      t.acked = SeedLinkResumePoint{t.entries.front().protocol, t.entries.front().sequence};
      t.entries.pop_front();
      ++t.first_ticket;
      dirty = true;
    }
  }

  // A station without a resume point gets one at its first packet: the
  // packet before it, which nobody wanted. From then on a restart asks for
  // everything from that first packet on, even after a crash before any
  // ack (a sequence 0 gets none: SeedLink cannot ask for "from 0").
  void anchor(Track& t, uint64_t sequence) {
    if (t.acked || t.received || !t.entries.empty() || sequence == 0) return;
    const int protocol = seedlink.protocol();
    t.acked = SeedLinkResumePoint{protocol, protocol == 3 ? (sequence - 1) & seedlink::kV3SequenceMask : sequence - 1};
    dirty = true;
  }

  void save_state_if_dirty() {
    if (!dirty) return;
    for (const auto& t : tracks) {
      if (t.acked) state.set(server(), t.id, *t.acked);
    }
    dirty = false;
    if (auto s = state.save(); !s.ok()) {
      // The records are acknowledged all the same; an old state only means
      // that a restart asks for them again (and SeisVault answers DUPLICATE).
      if (!state_write_failed) say(fmt::format("cannot write the SeedLink resume state: {}", s.message()), true);
      state_write_failed = true;
      dirty = true;
      return;
    }
    if (state_write_failed) say(fmt::format("the SeedLink resume state is written again ({})", state.path().string()), false);
    state_write_failed = false;
    ++stats.state_writes;
  }

  // Where each station resumes on the next connection.
  void prepare_requests() {
    bool any_v3 = false;
    for (size_t i = 0; i < tracks.size(); ++i) {
      const Track& t = tracks[i];
      const auto& from = t.received ? t.received : t.acked;
      auto& request = seedlink.options().stations[i];
      request.next_sequence.reset();
      if (from) {
        request.next_sequence = from->sequence + 1;
        if (from->protocol == 3) any_v3 = true;
      }
    }
    seedlink.options().allow_v4 = user_allow_v4 && !any_v3;
  }

  milliseconds next_delay() {
    if (backoff_step <= milliseconds::zero()) backoff_step = opt.reconnect_interval;
    const auto step = backoff_step;
    backoff_step = std::min(backoff_step * 2, opt.reconnect_interval_max);
    std::uniform_int_distribution<int64_t> jitter(step.count() / 2, std::max<int64_t>(step.count(), 1));
    return milliseconds(jitter(rng));
  }

  std::string describe_requests() const {
    std::vector<std::string> parts;
    for (const auto& r : seedlink.options().stations) {
      parts.push_back(r.next_sequence ? fmt::format("{} from {}", r.id(), *r.next_sequence)
                                      : fmt::format("{} from its next packet", r.id()));
    }
    return fmt::format("{}", fmt::join(parts, ", "));
  }

  Status connect_once(bool& connected);
  // Handles one packet: OK, or a fatal PushClient status.
  Status handle(const SeedLinkPacket& packet);
  Status add_record(std::span<const uint8_t> record, std::optional<size_t> track, uint64_t sequence);
  void lost(const Status& cause);
  Status poll_push(milliseconds wait);
};

Status SeedLinkBridge::Impl::poll_push(milliseconds wait) {
  Status s = push->poll(wait);
  save_state_if_dirty();
  progress();
  if (s.code() == StatusCode::kCancelled && stopping) return {};
  return s;
}

void SeedLinkBridge::Impl::lost(const Status& cause) {
  seedlink.close();
  ++stats.connection_failures;
  if (data_on_connection) backoff_step = opt.reconnect_interval;  // it worked: start the backoff over
  data_on_connection = false;
  const auto delay = next_delay();
  next_attempt = Clock::now() + delay;
  say(fmt::format("SeedLink {}: connection lost: {}; reconnecting in {}", server(), cause.message(),
                  seconds_text(delay)),
      true);
}

Status SeedLinkBridge::Impl::connect_once(bool& connected) {
  connected = false;
  prepare_requests();
  if (user_allow_v4 && !seedlink.options().allow_v4 && failures_in_row == 0 && stats.connections == 0) {
    say(fmt::format("SeedLink {}: speaking SeedLink 3, since the resume state holds SeedLink 3 sequences (24 bits, "
                    "which SeedLink 4 cannot continue); remove those lines from {} to move to SeedLink 4",
                    server(), state.path().string()),
        false);
  }
  Status s = seedlink.connect();
  if (s.code() == StatusCode::kCancelled && stopping) return {};
  if (!s.ok()) {
    ++failures_in_row;
    ++stats.connection_failures;
    if (opt.max_connect_attempts > 0 && failures_in_row >= opt.max_connect_attempts) {
      say(fmt::format("SeedLink {}: connection attempt {} failed: {}; giving up", server(), failures_in_row,
                      s.message()),
          true);
      return s;
    }
    const auto delay = next_delay();
    next_attempt = Clock::now() + delay;
    say(fmt::format("SeedLink {}: connection attempt {} failed: {}; next attempt in {}", server(), failures_in_row,
                    s.message(), seconds_text(delay)),
        true);
    return {};
  }
  failures_in_row = 0;
  ++stats.connections;
  data_on_connection = false;
  connected = true;
  say(fmt::format("SeedLink {}: connected (SeedLink {}, \"{}\"), requesting {}", server(),
                  seedlink.protocol() == 4 ? "4.0" : "3.1", seedlink.server_id(), describe_requests()),
      false);
  return {};
}

Status SeedLinkBridge::Impl::add_record(std::span<const uint8_t> record, std::optional<size_t> track,
                                        uint64_t sequence) {
  Status s = push->add(record);
  if (!s.ok()) return s;  // not queued: the state never passed it, the next run asks for it again
  ++stats.records_added;
  stats.bytes_added += record.size();
  if (track) {
    Track& t = tracks[*track];
    const uint64_t ticket = t.first_ticket + t.entries.size();
    t.entries.push_back(Entry{sequence, seedlink.protocol(), false});
    pending[sha256(record)].push_back(Pending{*track, ticket});
    t.received = SeedLinkResumePoint{seedlink.protocol(), sequence};
  }
  save_state_if_dirty();  // add() may have taken acks
  return {};
}

Status SeedLinkBridge::Impl::handle(const SeedLinkPacket& packet) {
  switch (packet.kind) {
    case SeedLinkPacketKind::kData: {
      ++stats.packets;
      data_on_connection = true;
      backoff_step = opt.reconnect_interval;
      std::optional<size_t> track;
      if (const auto it = track_by_id.find(std::string(packet.station_id)); it != track_by_id.end()) {
        track = it->second;
      } else {
        ++stats.other_station_packets;
        if (warned.insert("station " + std::string(packet.station_id)).second) {
          say(fmt::format("SeedLink {}: packets of {}, which was not requested: pushing them, without resume "
                          "tracking",
                          server(), packet.station_id),
              true);
        }
      }
      if (track) anchor(tracks[*track], packet.sequence);
      const bool miniseed = packet.format == seedlink::kFormatMiniSeed2 || packet.format == seedlink::kFormatMiniSeed3;
      if (!miniseed) {
        ++stats.skipped_packets;
        if (warned.insert(fmt::format("format {}{}", packet.format, packet.subformat)).second) {
          say(fmt::format("SeedLink {}: packets of format {}{} are not miniSEED and are not pushed (first: {} "
                          "sequence {})",
                          server(), packet.format, packet.subformat, packet.station_id, packet.sequence),
              true);
        }
        if (track) {
          // Nothing to deliver: done as soon as the packets before it are.
          Track& t = tracks[*track];
          t.entries.push_back(Entry{packet.sequence, seedlink.protocol(), true});
          t.received = SeedLinkResumePoint{seedlink.protocol(), packet.sequence};
          advance(t);
        }
        return {};
      }
      return add_record(packet.payload, track, packet.sequence);
    }
    case SeedLinkPacketKind::kInfo:
      ++stats.info_packets;
      spdlog::debug("SeedLink {}: INFO packet of {} bytes (not asked for; ignored)", server(), packet.payload.size());
      return {};
    case SeedLinkPacketKind::kError: {
      ++stats.error_packets;
      std::string_view text(reinterpret_cast<const char*>(packet.payload.data()),
                            std::min<size_t>(packet.payload.size(), 400));
      say(fmt::format("SeedLink {}: the server sent an error packet: {}", server(), text), true);
      return {};
    }
    case SeedLinkPacketKind::kEnd:
      if (opt.seedlink.dial_up) {
        say(fmt::format("SeedLink {}: the server has sent everything it had (END)", server()), false);
        ended = true;
        seedlink.close();
        return {};
      }
      lost(Status::unavailable("the server ended the feed (END)"));
      return {};
  }
  return {};
}

SeedLinkBridge::SeedLinkBridge(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SeedLinkBridge::SeedLinkBridge(SeedLinkBridge&&) noexcept = default;
SeedLinkBridge& SeedLinkBridge::operator=(SeedLinkBridge&&) noexcept = default;

SeedLinkBridge::~SeedLinkBridge() {
  if (!impl_) return;
  impl_->seedlink.close();
  impl_->save_state_if_dirty();
}

Result<SeedLinkBridge> SeedLinkBridge::open(SeedLinkBridgeOptions options) {
  if (options.push.spool_dir.empty()) {
    return Status::invalid_argument(
        "the SeedLink bridge needs a spool directory: it keeps unacknowledged batches and the resume state");
  }
  if (options.seedlink.stations.empty()) return Status::invalid_argument("no SeedLink station to request");
  if (options.seedlink.host.empty()) return Status::invalid_argument("no SeedLink server");
  if (options.reconnect_interval <= milliseconds::zero() ||
      options.reconnect_interval_max < options.reconnect_interval) {
    return Status::invalid_argument("the reconnection interval must be positive and at most its maximum");
  }
  if (!options.seedlink.on_message) options.seedlink.on_message = options.on_message;
  auto impl = std::make_unique<Impl>(std::move(options));
  Impl* m = impl.get();
  auto user_sl_keep_waiting = std::move(m->seedlink.options().keep_waiting);
  m->seedlink.options().keep_waiting = [m, user_sl_keep_waiting] {
    if (m->should_stop()) return false;
    return user_sl_keep_waiting ? user_sl_keep_waiting() : true;
  };
  m->user_allow_v4 = m->opt.seedlink.allow_v4;

  PushOptions push = m->opt.push;
  m->user_on_result = std::move(push.on_result);
  m->user_keep_waiting = std::move(push.keep_waiting);
  push.on_result = [m](const RecordOutcome& outcome) {
    m->on_result(outcome);
    if (m->user_on_result) m->user_on_result(outcome);
  };
  push.keep_waiting = [m] {
    m->progress();
    if (m->running && m->should_stop()) return false;  // stop reading: the record waiting in add() is not queued
    return m->user_keep_waiting ? m->user_keep_waiting() : true;
  };
  auto client = PushClient::open(std::move(push));  // takes the spool's lock
  if (!client.ok()) return client.status();
  m->push.emplace(std::move(*client));

  const fs::path dir = m->opt.push.spool_dir;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const auto name = it->path().filename().string();
    if (name.starts_with(fmt::format(".{}.", SeedLinkState::kFileName)) && name.ends_with(".tmp")) {
      fs::remove(it->path(), ec);  // a state write the process did not finish
    }
  }
  auto state = SeedLinkState::load(dir / SeedLinkState::kFileName);
  if (!state.ok()) return state.status();
  m->state = std::move(*state);

  for (const auto& request : m->opt.seedlink.stations) {
    Impl::Track t;
    t.id = request.id();
    t.acked = m->state.get(m->server(), t.id);
    m->track_by_id.emplace(t.id, m->tracks.size());
    m->tracks.push_back(std::move(t));
  }
  return SeedLinkBridge(std::move(impl));
}

Status SeedLinkBridge::run() {
  Impl& m = *impl_;
  m.running = true;
  m.stopping = false;
  struct Reset {
    Impl& m;
    ~Reset() { m.running = false; }
  } reset{m};

  while (!m.ended) {
    if (m.should_stop()) return {};
    if (!m.seedlink.connected()) {
      const auto now = Clock::now();
      if (now < m.next_attempt) {
        const auto wait = std::min(std::chrono::ceil<milliseconds>(m.next_attempt - now), kWait);
        if (auto s = m.poll_push(wait); !s.ok()) return s;
        continue;
      }
      bool connected = false;
      if (auto s = m.connect_once(connected); !s.ok()) return s;
      if (!connected) continue;
    }
    auto packet = m.seedlink.next_packet(kWait);
    if (!packet.ok()) {
      m.lost(packet.status());
      continue;
    }
    if (*packet == nullptr) {
      if (auto s = m.poll_push(milliseconds::zero()); !s.ok()) return s;
      continue;
    }
    Status s = m.handle(**packet);
    if (s.code() == StatusCode::kCancelled && m.stopping) {
      // Stopped while add() waited: that packet was not queued. Closing the
      // connection makes the next one ask for it again (the position
      // received stays before it).
      m.seedlink.close();
      return {};
    }
    if (!s.ok()) return s;
    m.progress();
  }
  return {};
}

Status SeedLinkBridge::finish(std::chrono::milliseconds timeout) {
  Impl& m = *impl_;
  m.seedlink.close();
  Status s = m.push->flush(timeout);
  m.save_state_if_dirty();
  return s;
}

bool SeedLinkBridge::ended() const { return impl_->ended; }
const PushClient& SeedLinkBridge::push_client() const { return *impl_->push; }
const SeedLinkBridgeStats& SeedLinkBridge::stats() const { return impl_->stats; }
const fs::path& SeedLinkBridge::state_path() const { return impl_->state.path(); }
std::string SeedLinkBridge::server() const { return impl_->server(); }

std::optional<SeedLinkResumePoint> SeedLinkBridge::acknowledged(std::string_view station_id) const {
  const auto it = impl_->track_by_id.find(std::string(station_id));
  if (it == impl_->track_by_id.end()) return std::nullopt;
  return impl_->tracks[it->second].acked;
}

}  // namespace seisvault::client
