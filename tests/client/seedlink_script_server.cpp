#include "seedlink_script_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <random>
#include <stdexcept>

#include "seisvault/common/seedlink_wire.h"
#include "support/record_factory.h"

namespace seisvault::test {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::vector<std::string> words(std::string_view line) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ') ++j;
    if (j > i) out.emplace_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------
// Connection

bool ScriptedSeedLinkServer::Connection::fill(Clock::time_point deadline) {
  for (;;) {
    if (stop_->load()) throw std::runtime_error("server stopping");
    if (closed_) throw std::runtime_error("the client closed the connection");
    const auto now = Clock::now();
    if (now >= deadline) return false;
    const auto left = std::min<int64_t>(std::chrono::ceil<milliseconds>(deadline - now).count(), 50);
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      in_.append(buf, static_cast<size_t>(n));
      return true;
    }
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    closed_ = true;
  }
}

std::string ScriptedSeedLinkServer::Connection::read_command(milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const auto end = in_.find_first_of("\r\n");
    if (end != std::string::npos) {
      std::string line = in_.substr(0, end);
      size_t n = end + 1;
      if (in_[end] == '\r' && n < in_.size() && in_[n] == '\n') ++n;
      in_.erase(0, n);
      if (line.empty()) continue;  // empty lines are ignored (and the LF of a CR LF read apart)
      commands.push_back(line);
      return line;
    }
    if (!fill(deadline)) throw std::runtime_error("no command within the time limit");
  }
}

void ScriptedSeedLinkServer::Connection::send(std::string_view bytes) {
  const auto deadline = Clock::now() + milliseconds(5000);
  while (!bytes.empty()) {
    if (stop_->load()) throw std::runtime_error("server stopping");
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (Clock::now() >= deadline) throw std::runtime_error("the client does not read");
      pollfd p{fd_, POLLOUT, 0};
      ::poll(&p, 1, 50);
      continue;
    }
    throw std::runtime_error(std::string("send failed: ") + std::strerror(errno));
  }
}

void ScriptedSeedLinkServer::Connection::send_in_pieces(std::string_view bytes, size_t max_piece) {
  std::mt19937 rng(42);
  std::uniform_int_distribution<size_t> size(1, max_piece);
  while (!bytes.empty()) {
    const size_t n = std::min(size(rng), bytes.size());
    send(bytes.substr(0, n));
    bytes.remove_prefix(n);
    // TCP_NODELAY is not set here; a pause makes separate segments likely.
    struct timespec ts{0, 200'000};
    nanosleep(&ts, nullptr);
  }
}

bool ScriptedSeedLinkServer::Connection::wait_closed(milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  try {
    while (fill(deadline)) {
    }
    return false;
  } catch (const std::runtime_error&) {
    return closed_;
  }
}

// ---------------------------------------------------------------------------
// Server

ScriptedSeedLinkServer::ScriptedSeedLinkServer(std::vector<Script> scripts) : scripts_(std::move(scripts)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 8) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error("bind/listen failed");
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { run(); });
}

ScriptedSeedLinkServer::~ScriptedSeedLinkServer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  ::close(listen_fd_);
}

std::vector<std::vector<std::string>> ScriptedSeedLinkServer::commands() const {
  std::lock_guard lock(mutex_);
  return commands_;
}

std::vector<std::string> ScriptedSeedLinkServer::errors() const {
  std::lock_guard lock(mutex_);
  return errors_;
}

void ScriptedSeedLinkServer::run() {
  int index = 0;
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    Connection c(fd, index, &stop_);
    const auto& script = scripts_[std::min<size_t>(static_cast<size_t>(index), scripts_.size() - 1)];
    try {
      script(c);
    } catch (const std::exception& e) {
      std::lock_guard lock(mutex_);
      errors_.push_back("connection " + std::to_string(index) + ": " + e.what());
    }
    ::close(fd);
    {
      std::lock_guard lock(mutex_);
      commands_.push_back(c.commands);
    }
    ++finished_;
    ++index;
  }
}

// ---------------------------------------------------------------------------
// Handshake and packets

SeedLinkRequest serve_handshake(ScriptedSeedLinkServer::Connection& c, const SeedLinkHandshake& h) {
  SeedLinkRequest r;
  std::string station;
  for (;;) {
    const std::string line = c.read_command();
    r.commands.push_back(line);
    const auto w = words(line);
    const std::string verb = upper(w.at(0));
    const auto ok = [&] { c.send("OK\r\n"); };
    const auto error = [&](std::string_view code) {
      c.send(r.v4 ? "ERROR " + std::string(code) + " refused by the script\r\n" : std::string("ERROR\r\n"));
    };
    if (verb == "HELLO") {
      c.send(h.v4 ? "SeedLink v4.0 (ScriptedSeedLinkServer test) :: SLPROTO:4.0 SLPROTO:3.1\r\nTest network\r\n"
                  : "SeedLink v3.1 (ScriptedSeedLinkServer test) :: SLPROTO:3.1 CAP\r\nTest network\r\n");
    } else if (verb == "SLPROTO") {
      if (!h.v4 || w.size() != 2 || w[1] != "4.0") throw std::runtime_error("unexpected " + line);
      r.v4 = true;
      ok();
    } else if (verb == "USERAGENT") {
      ok();
    } else if (verb == "STATION") {
      station = r.v4 ? w.at(1) : w.at(2) + "_" + w.at(1);
      if (h.refuse_stations.count(station)) {
        error("ARGUMENTS");
        station.clear();
      } else {
        ok();
      }
    } else if (verb == "SELECT") {
      r.selects[station].push_back(w.at(1));
      if (h.refuse_selectors.count(w.at(1))) {
        error("ARGUMENTS");
      } else {
        ok();
      }
    } else if (verb == "DATA" || verb == "FETCH") {
      r.data[station] = line;
      ok();
    } else if (verb == "END" || verb == "ENDFETCH") {
      r.end = verb;
      return r;
    } else {
      throw std::runtime_error("unexpected command in the handshake: " + line);
    }
  }
}

bool eventually_finished(const ScriptedSeedLinkServer& server, int n, milliseconds timeout) {
  const auto end = Clock::now() + timeout;
  while (server.finished() < n) {
    if (Clock::now() >= end) return false;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return true;
}

std::string v3_packet(uint64_t sequence, const std::vector<uint8_t>& record) {
  std::string out;
  seedlink::append_v3_header(out, sequence);
  out.append(reinterpret_cast<const char*>(record.data()), record.size());
  return out;
}

std::string v3_info_packet(bool more_follow, const std::vector<uint8_t>& record) {
  std::string out;
  seedlink::append_v3_info_header(out, more_follow);
  out.append(reinterpret_cast<const char*>(record.data()), record.size());
  return out;
}

std::string v4_packet(uint64_t sequence, std::string_view station_id, const std::vector<uint8_t>& payload,
                      char format, char subformat) {
  std::string out;
  seedlink::append_v4_header(out, format, subformat, static_cast<uint32_t>(payload.size()), sequence, station_id);
  out.append(reinterpret_cast<const char*>(payload.data()), payload.size());
  return out;
}

std::string v4_json_packet(char subformat, std::string_view json) {
  std::string out;
  seedlink::append_v4_header(out, 'J', subformat, static_cast<uint32_t>(json.size()), 0, "");
  out += json;
  return out;
}

std::vector<std::vector<uint8_t>> station_records(const std::string& network, const std::string& station,
                                                  size_t count, int record_length, uint32_t seed, bool big_endian) {
  RecordSpec spec;
  spec.byte_order = big_endian ? 1 : 0;
  spec.network = network;
  spec.station = station;
  spec.record_length = record_length;
  std::vector<std::vector<uint8_t>> out;
  size_t samples = count * static_cast<size_t>(record_length) + 1000;
  while (out.size() < count) {
    out = pack_records(spec, random_walk(samples, seed));
    samples *= 2;
  }
  out.resize(count);
  return out;
}

std::vector<uint8_t> info_record(std::string_view xml) {
  RecordSpec spec;
  spec.network = "XX";
  spec.station = "INFO";
  spec.location = "";
  spec.channel = "INF";
  spec.encoding = 0;
  auto records = pack_text_records(spec, std::string(xml));
  return records.at(0);
}

}  // namespace seisvault::test
