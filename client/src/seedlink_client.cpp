#include "seisvault/client/seedlink_client.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "message_sink.h"
#include "seisvault/client/unique_fd.h"
#include "seisvault/common/seedlink_wire.h"

namespace seisvault::client {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr size_t kReadChunk = 64 * 1024;
constexpr auto kSlice = milliseconds(100);  // connect() asks keep_waiting this often
constexpr size_t kMaxLine = 4096;         // a command answer or an ERROR line in the stream
constexpr size_t kMiniSeed2Header = 48;
constexpr int64_t kV3DefaultRecord = static_cast<int64_t>(seedlink::kV3RecordSize);

std::string errno_text(int e) { return std::strerror(e); }

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(s[i])) != std::toupper(static_cast<unsigned char>(prefix[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n' ||
                        s.back() == '\0')) {
    s.remove_suffix(1);
  }
  return s;
}

// A few bytes as text for an error message ("SX\x00...").
std::string show_bytes(std::span<const uint8_t> d) {
  std::string out;
  for (size_t i = 0; i < std::min<size_t>(d.size(), 12); ++i) {
    const uint8_t c = d[i];
    if (c >= 0x20 && c < 0x7F) {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("\\x{:02X}", c);
    }
  }
  return out;
}

uint16_t get_u16(std::span<const uint8_t> d, size_t at, bool big_endian) {
  return big_endian ? static_cast<uint16_t>((d[at] << 8) | d[at + 1]) : static_cast<uint16_t>((d[at + 1] << 8) | d[at]);
}

// libmseed's test of a miniSEED 2 fixed header: sequence number digits,
// a quality indicator, a reserved byte, and a plausible hour/minute/second.
bool valid_miniseed2_header(std::span<const uint8_t> d) {
  for (size_t i = 0; i < 6; ++i) {
    if (!(std::isdigit(d[i]) || d[i] == ' ' || d[i] == 0)) return false;
  }
  if (d[6] != 'D' && d[6] != 'R' && d[6] != 'Q' && d[6] != 'M') return false;
  if (d[7] != ' ' && d[7] != 0) return false;
  return d[24] <= 23 && d[25] <= 59 && d[26] <= 60;
}

// "NET_STA" from a miniSEED 2 fixed header (station at 8..12, network at 18..19).
std::string station_id_of(std::span<const uint8_t> record) {
  const auto field = [&](size_t at, size_t n) {
    return std::string(trim(std::string_view(reinterpret_cast<const char*>(record.data()) + at, n)));
  };
  return field(18, 2) + "_" + field(8, 5);
}

}  // namespace

int64_t miniseed2_record_length(std::span<const uint8_t> data, int64_t fallback) {
  if (data.size() < kMiniSeed2Header) return 0;
  if (!valid_miniseed2_header(data)) return -1;
  // Byte order from a sane year and day of year (as libmseed and libslink decide it).
  const auto sane = [&](bool be) {
    const uint16_t year = get_u16(data, 20, be);
    const uint16_t day = get_u16(data, 22, be);
    return year >= 1900 && year <= 2100 && day >= 1 && day <= 366;
  };
  const bool be = sane(true) || !sane(false);
  // Blockettes lie between the fixed header and the beginning of data; a
  // record without data has them within its first 512 bytes.
  const uint16_t data_offset = get_u16(data, 44, be);
  const size_t limit = data_offset > kMiniSeed2Header ? data_offset : seedlink::kV3RecordSize;
  size_t offset = get_u16(data, 46, be);
  for (int hops = 0; offset != 0 && hops < 64; ++hops) {
    if (offset < kMiniSeed2Header || offset + 4 > limit) break;  // a broken chain: no blockette 1000
    if (offset + 8 > data.size()) return 0;                       // need more bytes to read it
    const uint16_t type = get_u16(data, offset, be);
    const uint16_t next = get_u16(data, offset + 2, be);
    if (type == 1000) {
      const uint8_t exponent = data[offset + 6];
      if (exponent < 7 || exponent > 20) return -1;
      return int64_t{1} << exponent;
    }
    if (next != 0 && next <= offset) break;
    offset = next;
  }
  return fallback;
}

std::optional<std::string> seedlink_v4_selector(std::string_view selector) {
  if (selector.find_first_of("_*") != std::string_view::npos) return std::string(selector);
  std::string out;
  if (!selector.empty() && selector.front() == '!') {
    out.push_back('!');
    selector.remove_prefix(1);
  }
  std::string_view type;
  if (const auto dot = selector.find('.'); dot != std::string_view::npos) {
    type = selector.substr(dot + 1);
    selector = selector.substr(0, dot);
  }
  bool empty_location = false;
  if (selector.starts_with("--")) {
    empty_location = true;
    selector.remove_prefix(2);
  }
  std::string_view location = "*";
  std::string_view channel;
  if (selector.size() == 3) {
    channel = selector;
    if (empty_location) location = "";
  } else if (selector.size() == 5 && !empty_location) {
    location = selector.substr(0, 2);
    channel = selector.substr(2);
  } else {
    return std::nullopt;
  }
  for (char c : channel) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '?') return std::nullopt;
  }
  out += fmt::format("{}_{}_{}_{}", location, channel[0], channel[1], channel[2]);
  if (!type.empty()) {
    // A v3 type is one character (D, E, C, T, L, O); v4 matches the format
    // and subformat together, "2D" for miniSEED 2 data, so "?D" keeps the
    // type and leaves the format open.
    out += type.size() == 1 ? fmt::format(".?{}", type) : fmt::format(".{}", type);
  }
  return out;
}

struct SeedLinkClient::Impl {
  explicit Impl(SeedLinkClientOptions o) : opt(std::move(o)) {}

  SeedLinkClientOptions opt;
  UniqueFd fd;
  int proto = 0;
  std::string server_id;
  std::string organization;
  std::vector<std::string> accepted;

  // Received bytes not yet taken: [begin, end) of buf.
  std::vector<uint8_t> buf;
  size_t begin = 0;
  size_t end = 0;
  size_t consume_next = 0;  // the packet returned last, taken at the next call
  size_t want = 0;          // bytes the packet being read needs in all (0: unknown)

  SeedLinkPacket packet;
  std::string packet_station;
  bool keepalive_pending = false;
  bool keepalive_enabled = true;
  Clock::duration quiet{};  // time next_packet() waited without a byte arriving
  bool ended = false;

  std::string address() const { return fmt::format("{}:{}", opt.host, opt.port); }

  void say(const std::string& message, bool warning) const { say_to(opt.on_message, message, warning); }

  void reset_connection() {
    fd.reset();
    begin = end = consume_next = want = 0;
    keepalive_pending = false;
    keepalive_enabled = true;
    quiet = {};
    ended = false;
    accepted.clear();
  }

  std::span<const uint8_t> available() const { return {buf.data() + begin, end - begin}; }

  bool stop_requested() const { return opt.keep_waiting && !opt.keep_waiting(); }
  Status cancelled() const { return Status::cancelled(fmt::format("{}: interrupted", address())); }

  Status open_socket();
  Status send_all(std::string_view bytes, Clock::time_point deadline);
  // Reads once (waiting at most until `deadline`). OK with `got` false on timeout.
  Status read_some(Clock::time_point deadline, bool& got);
  Result<std::string> read_line(Clock::time_point deadline, std::string_view what);
  // Sends `command` and reads its answer: OK, or ERROR with its text in `error`.
  Result<bool> command(const std::string& command, std::string* error);
  Status handshake();
  enum class Parsed : uint8_t { kNone, kPacket, kSwallowed };
  Result<Parsed> parse();
};

Status SeedLinkClient::Impl::open_socket() {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(opt.port);
  if (int rc = ::getaddrinfo(opt.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return Status::unavailable(fmt::format("cannot resolve {}: {}", opt.host, ::gai_strerror(rc)));
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, &::freeaddrinfo);
  const auto deadline = Clock::now() + opt.connect_timeout;
  std::string last_error = "no address";
  bool timed_out = false;
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    UniqueFd s(::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol));
    if (!s.valid()) {
      last_error = errno_text(errno);
      continue;
    }
    if (::connect(s.get(), a->ai_addr, a->ai_addrlen) != 0) {
      if (errno != EINPROGRESS) {
        last_error = errno_text(errno);
        continue;
      }
      int n = 0;
      for (;;) {
        const auto left = std::chrono::ceil<milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) break;
        pollfd p{s.get(), POLLOUT, 0};
        n = ::poll(&p, 1, static_cast<int>(std::min(left, kSlice).count()));
        if (n > 0 || (n < 0 && errno != EINTR)) break;
        n = 0;
        if (stop_requested()) return cancelled();
      }
      if (n == 0) {
        timed_out = true;
        last_error = fmt::format("no answer within {} s", opt.connect_timeout.count() / 1000.0);
        continue;
      }
      int err = 0;
      socklen_t len = sizeof(err);
      if (n < 0 || ::getsockopt(s.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
        last_error = errno_text(n < 0 ? errno : err);
        continue;
      }
    }
    const int one = 1;
    ::setsockopt(s.get(), SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
    ::setsockopt(s.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fd = std::move(s);
    return {};
  }
  std::string message = fmt::format("cannot connect to {}: {}", address(), last_error);
  return timed_out ? Status::deadline_exceeded(std::move(message)) : Status::unavailable(std::move(message));
}

Status SeedLinkClient::Impl::send_all(std::string_view bytes, Clock::time_point deadline) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      const auto left = std::chrono::ceil<milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) {
        return Status::deadline_exceeded(fmt::format("{}: could not send for {} s", address(),
                                                     opt.response_timeout.count() / 1000.0));
      }
      pollfd p{fd.get(), POLLOUT, 0};
      ::poll(&p, 1, static_cast<int>(std::min(left, kSlice).count()));
      if (stop_requested()) return cancelled();
      continue;
    }
    return Status::unavailable(fmt::format("{}: sending failed: {}", address(), errno_text(errno)));
  }
  return {};
}

Status SeedLinkClient::Impl::read_some(Clock::time_point deadline, bool& got) {
  got = false;
  // Room for what the current packet needs, reading at most kReadChunk
  // ahead of it: the buffer holds one packet and one read, whatever the
  // server has queued.
  const size_t target = std::max(want, end - begin) + kReadChunk;
  if (begin > 0 && (buf.size() - begin < target || buf.size() - end < kReadChunk)) {
    std::memmove(buf.data(), buf.data() + begin, end - begin);
    end -= begin;
    begin = 0;
  }
  if (buf.size() < begin + target) buf.resize(begin + target);
  const size_t room = std::min(buf.size() - end, kReadChunk);
  const auto left = std::chrono::ceil<milliseconds>(deadline - Clock::now());
  pollfd p{fd.get(), POLLIN, 0};
  const int ready = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(left.count(), 0)));
  if (ready < 0) {
    if (errno == EINTR) return {};
    return Status::unavailable(fmt::format("{}: poll failed: {}", address(), errno_text(errno)));
  }
  if (ready == 0) return {};
  const ssize_t n = ::recv(fd.get(), buf.data() + end, room, 0);
  if (n > 0) {
    end += static_cast<size_t>(n);
    got = true;
    return {};
  }
  if (n == 0) return Status::unavailable(fmt::format("{}: the SeedLink server closed the connection", address()));
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return {};
  return Status::unavailable(fmt::format("{}: receiving failed: {}", address(), errno_text(errno)));
}

Result<std::string> SeedLinkClient::Impl::read_line(Clock::time_point deadline, std::string_view what) {
  for (;;) {
    const auto data = available();
    // memchr must not see the null pointer of an empty buffer (UBSan).
    const auto* nl = data.empty() ? nullptr : static_cast<const uint8_t*>(std::memchr(data.data(), '\n', data.size()));
    if (nl != nullptr) {
      const size_t n = static_cast<size_t>(nl - data.data()) + 1;
      std::string line(trim(std::string_view(reinterpret_cast<const char*>(data.data()), n)));
      begin += n;
      return line;
    }
    if (data.size() > kMaxLine) {
      return Status::incompatible(
          fmt::format("{}: the answer to {} is not a SeedLink answer (no end of line in {} bytes: \"{}\")", address(),
                      what, data.size(), show_bytes(data)));
    }
    if (Clock::now() >= deadline) {
      return Status::deadline_exceeded(fmt::format("{}: no answer to {} within {} s", address(), what,
                                                   opt.response_timeout.count() / 1000.0));
    }
    bool got = false;
    if (auto s = read_some(std::min(deadline, Clock::now() + kSlice), got); !s.ok()) {
      return Status(s.code(), fmt::format("{} (waiting for the answer to {})", s.message(), what));
    }
    if (!got && stop_requested()) return cancelled();
  }
}

Result<bool> SeedLinkClient::Impl::command(const std::string& cmd, std::string* error) {
  const auto deadline = Clock::now() + opt.response_timeout;
  if (auto s = send_all(cmd + "\r\n", deadline); !s.ok()) return s;
  auto line = read_line(deadline, cmd);
  if (!line.ok()) return line.status();
  if (*line == "OK" || starts_with_ci(*line, "OK ")) return true;
  if (starts_with_ci(*line, "ERROR")) {
    if (error) {
      auto rest = trim(std::string_view(*line).substr(5));
      *error = rest.empty() ? "ERROR" : std::string(rest);
    }
    return false;
  }
  return Status::incompatible(fmt::format("{}: unexpected answer to {}: \"{}\"", address(), cmd, *line));
}

Status SeedLinkClient::Impl::handshake() {
  const auto deadline = Clock::now() + opt.response_timeout;
  if (auto s = send_all("HELLO\r\n", deadline); !s.ok()) return s;
  auto first = read_line(deadline, "HELLO");
  if (!first.ok()) return first.status();
  auto second = read_line(deadline, "HELLO");
  if (!second.ok()) return second.status();
  server_id = *first;
  organization = *second;
  if (!starts_with_ci(server_id, "SeedLink")) {
    return Status::incompatible(
        fmt::format("{}: not a SeedLink server (its answer to HELLO: \"{}\")", address(), server_id));
  }
  // Capabilities follow "::", space separated.
  bool offers_v4 = false;
  if (const auto at = server_id.find("::"); at != std::string::npos) {
    std::string_view caps = std::string_view(server_id).substr(at + 2);
    while (!caps.empty()) {
      const auto sp = caps.find(' ');
      const auto token = caps.substr(0, sp);
      if (token.starts_with("SLPROTO:4.")) offers_v4 = true;
      if (sp == std::string_view::npos) break;
      caps.remove_prefix(sp + 1);
    }
  }
  std::string error;
  if (offers_v4 && opt.allow_v4) {
    auto ok = command("SLPROTO 4.0", &error);
    if (!ok.ok()) return ok.status();
    if (!*ok) {
      return Status::incompatible(fmt::format("{}: the server offers SLPROTO:4.0 but refused it: {}", address(), error));
    }
    proto = 4;
    ok = command("USERAGENT " + opt.user_agent, &error);
    if (!ok.ok()) return ok.status();
    if (!*ok) say(fmt::format("{}: USERAGENT refused ({}); going on", address(), error), false);
  } else {
    proto = 3;
  }

  std::vector<std::string> refused;
  for (const auto& st : opt.stations) {
    const std::string id = st.id();
    auto ok = command(proto == 4 ? "STATION " + id : fmt::format("STATION {} {}", st.station, st.network), &error);
    if (!ok.ok()) return ok.status();
    if (!*ok) {
      say(fmt::format("{}: station {} refused: {}", address(), id, error), true);
      refused.push_back(fmt::format("{} ({})", id, error));
      continue;
    }
    size_t selected = 0;
    std::vector<std::string> selector_errors;
    for (const auto& sel : st.selectors) {
      std::string pattern = sel;
      if (proto == 4) {
        auto v4 = seedlink_v4_selector(sel);
        if (!v4) {
          return Status::invalid_argument(
              fmt::format("{}: selector \"{}\" is neither [!][LL]CCC[.T] nor SeedLink 4 syntax", id, sel));
        }
        pattern = *v4;
      } else if (sel.find('_') != std::string::npos) {
        return Status::invalid_argument(fmt::format(
            "{}: selector \"{}\" is SeedLink 4 syntax, and {} speaks only SeedLink 3: use [!][LL]CCC[.T]", id, sel,
            address()));
      }
      ok = command("SELECT " + pattern, &error);
      if (!ok.ok()) return ok.status();
      if (*ok) {
        ++selected;
      } else {
        say(fmt::format("{}: {} selector {} refused: {}", address(), id, pattern, error), true);
        selector_errors.push_back(fmt::format("{}: {}", pattern, error));
      }
    }
    if (!st.selectors.empty() && selected == 0) {
      // Without any selector the server would send every stream of the station.
      return Status::invalid_argument(fmt::format("{}: the server accepted none of the selectors of {} ({})",
                                                  address(), id, fmt::join(selector_errors, "; ")));
    }
    std::string data = proto == 3 && opt.dial_up ? "FETCH" : "DATA";
    if (st.next_sequence) {
      data += proto == 4 ? fmt::format(" {}", *st.next_sequence)
                         : fmt::format(" {:06X}", *st.next_sequence & seedlink::kV3SequenceMask);
    } else if (st.from_oldest) {
      data += proto == 4 ? " ALL" : " 000000";
    }
    ok = command(data, &error);
    if (!ok.ok()) return ok.status();
    if (!*ok) {
      say(fmt::format("{}: {} {} refused: {}", address(), id, data, error), true);
      refused.push_back(fmt::format("{} ({}: {})", id, data, error));
      continue;
    }
    accepted.push_back(id);
  }
  if (accepted.empty()) {
    return Status::invalid_argument(fmt::format("{}: the server accepted none of the stations: {}", address(),
                                                refused.empty() ? std::string("none requested")
                                                                : fmt::format("{}", fmt::join(refused, ", "))));
  }
  // No answer to END: data follows.
  return send_all(proto == 4 && opt.dial_up ? "ENDFETCH\r\n" : "END\r\n", Clock::now() + opt.response_timeout);
}

Result<SeedLinkClient::Impl::Parsed> SeedLinkClient::Impl::parse() {
  const auto data = available();
  want = 0;
  if (data.empty()) return Parsed::kNone;

  // An ERROR line between packets: the answer to an INFO the server does
  // not support, or a complaint about the connection.
  if (data.size() >= 2 && data[0] == 'E' && data[1] == 'R') {
    const auto* nl = static_cast<const uint8_t*>(std::memchr(data.data(), '\n', data.size()));
    if (nl == nullptr) {
      if (data.size() > kMaxLine) {
        return Status::corruption(fmt::format("{}: bytes that are not a SeedLink packet: \"{}\"", address(),
                                              show_bytes(data)));
      }
      return Parsed::kNone;
    }
    const size_t n = static_cast<size_t>(nl - data.data()) + 1;
    const std::string line(trim(std::string_view(reinterpret_cast<const char*>(data.data()), n)));
    begin += n;
    if (keepalive_pending) {
      keepalive_pending = false;
      keepalive_enabled = false;
      say(fmt::format("{}: the server answered the keepalive (INFO ID) with \"{}\"; no more keepalives on this "
                      "connection",
                      address(), line),
          true);
      return Parsed::kSwallowed;
    }
    return Status::corruption(fmt::format("{}: the SeedLink server reported \"{}\"", address(), line));
  }

  seedlink::PacketHeader header;
  std::string error;
  switch (seedlink::parse_packet_header(data, proto == 4, header, &error)) {
    case seedlink::HeaderParse::kNeedMore: return Parsed::kNone;
    case seedlink::HeaderParse::kBad:
      return Status::corruption(fmt::format("{}: {} (received \"{}\")", address(), error, show_bytes(data)));
    case seedlink::HeaderParse::kOk: break;
  }

  packet = SeedLinkPacket{};
  switch (header.kind) {
    case seedlink::PacketHeader::Kind::kEnd:
      consume_next = header.header_size;
      ended = true;
      packet.kind = SeedLinkPacketKind::kEnd;
      return Parsed::kPacket;

    case seedlink::PacketHeader::Kind::kV4: {
      if (header.payload_length > opt.max_payload_bytes) {
        return Status::corruption(fmt::format("{}: a packet of {} ({} bytes) is larger than the {} bytes accepted",
                                              address(), header.station_id, header.payload_length,
                                              opt.max_payload_bytes));
      }
      const size_t total = header.header_size + header.payload_length;
      if (data.size() < total) {
        want = total;
        return Parsed::kNone;
      }
      packet_station = header.station_id;
      packet.sequence = header.sequence;
      packet.station_id = packet_station;
      packet.format = header.format;
      packet.subformat = header.subformat;
      packet.payload = data.subspan(header.header_size, header.payload_length);
      packet.kind = SeedLinkPacketKind::kData;
      if (header.format == seedlink::kFormatJson) {
        const bool is_error = header.subformat == seedlink::kSubformatError;
        if (keepalive_pending) {
          // The answer to our INFO ID (whatever it says, the server is alive).
          keepalive_pending = false;
          begin += total;
          if (is_error) {
            keepalive_enabled = false;
            say(fmt::format("{}: the server refused the keepalive (INFO ID); no more keepalives on this connection",
                            address()),
                true);
          }
          return Parsed::kSwallowed;
        }
        packet.kind = is_error ? SeedLinkPacketKind::kError : SeedLinkPacketKind::kInfo;
      }
      consume_next = total;
      return Parsed::kPacket;
    }

    case seedlink::PacketHeader::Kind::kV3Data:
    case seedlink::PacketHeader::Kind::kV3Info: {
      const auto record = data.subspan(header.header_size);
      const int64_t length = miniseed2_record_length(record, kV3DefaultRecord);
      if (length < 0) {
        return Status::corruption(
            fmt::format("{}: a SeedLink 3 packet (sequence {:06X}) that does not hold a miniSEED 2 record "
                        "(\"{}\")",
                        address(), header.sequence, show_bytes(record)));
      }
      if (length == 0) {
        want = header.header_size + record.size() + 64;
        return Parsed::kNone;
      }
      if (static_cast<uint64_t>(length) > opt.max_payload_bytes) {
        return Status::corruption(fmt::format("{}: a record of {} bytes is larger than the {} bytes accepted",
                                              address(), length, opt.max_payload_bytes));
      }
      const size_t total = header.header_size + static_cast<size_t>(length);
      if (data.size() < total) {
        want = total;
        return Parsed::kNone;
      }
      packet.payload = data.subspan(header.header_size, static_cast<size_t>(length));
      packet.format = seedlink::kFormatMiniSeed2;
      if (header.kind == seedlink::PacketHeader::Kind::kV3Info) {
        if (keepalive_pending) {
          if (!header.info_more) keepalive_pending = false;
          begin += total;
          return Parsed::kSwallowed;
        }
        packet.kind = SeedLinkPacketKind::kInfo;
        packet.subformat = seedlink::kSubformatInfo;
        packet.info_more = header.info_more;
      } else {
        packet.kind = SeedLinkPacketKind::kData;
        packet.subformat = seedlink::kSubformatData;
        packet.sequence = header.sequence;
        packet_station = station_id_of(packet.payload);
        packet.station_id = packet_station;
      }
      consume_next = total;
      return Parsed::kPacket;
    }
  }
  return Status::internal("unknown SeedLink header kind");
}

SeedLinkClient::SeedLinkClient(SeedLinkClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}
SeedLinkClient::~SeedLinkClient() = default;
SeedLinkClient::SeedLinkClient(SeedLinkClient&&) noexcept = default;
SeedLinkClient& SeedLinkClient::operator=(SeedLinkClient&&) noexcept = default;

SeedLinkClientOptions& SeedLinkClient::options() { return impl_->opt; }
const SeedLinkClientOptions& SeedLinkClient::options() const { return impl_->opt; }

Status SeedLinkClient::connect() {
  Impl& m = *impl_;
  m.reset_connection();
  m.proto = 0;
  m.server_id.clear();
  m.organization.clear();
  if (m.opt.stations.empty()) return Status::invalid_argument("no station to request");
  if (auto s = m.open_socket(); !s.ok()) return s;
  if (auto s = m.handshake(); !s.ok()) {
    m.fd.reset();
    return s;
  }
  return {};
}

Result<const SeedLinkPacket*> SeedLinkClient::next_packet(std::chrono::milliseconds wait) {
  Impl& m = *impl_;
  if (!m.fd.valid()) return Status::unavailable(fmt::format("{}: not connected", m.address()));
  m.begin += std::exchange(m.consume_next, 0);
  if (m.begin == m.end) m.begin = m.end = 0;
  const auto fail = [&](Status s) -> Result<const SeedLinkPacket*> {
    m.fd.reset();
    return s;
  };
  const auto deadline = Clock::now() + wait;
  bool read_once = false;  // even with no time to wait, take what the socket already holds
  for (;;) {
    if (m.ended) {
      return fail(Status::unavailable(fmt::format("{}: the server has ended the feed (END)", m.address())));
    }
    auto parsed = m.parse();
    if (!parsed.ok()) return fail(parsed.status());
    if (*parsed == Impl::Parsed::kPacket) return &m.packet;
    if (*parsed == Impl::Parsed::kSwallowed) continue;

    // More bytes are needed.
    auto now = Clock::now();
    const auto& o = m.opt;
    const bool keepalive_on = o.keepalive_interval > milliseconds::zero() && m.keepalive_enabled;
    if (keepalive_on && !m.keepalive_pending && m.quiet >= o.keepalive_interval) {
      if (auto s = m.send_all("INFO ID\r\n", now + o.response_timeout); !s.ok()) return fail(s);
      m.keepalive_pending = true;
    }
    if (o.idle_timeout > milliseconds::zero() && m.quiet >= o.idle_timeout) {
      return fail(Status::deadline_exceeded(fmt::format("{}: nothing received from the SeedLink server for {} s",
                                                        m.address(), o.idle_timeout.count() / 1000.0)));
    }
    if (now >= deadline && read_once) return nullptr;
    auto until = std::max(deadline, now);
    if (keepalive_on && !m.keepalive_pending) {
      until = std::min(until, now + (o.keepalive_interval - m.quiet));
    }
    if (o.idle_timeout > milliseconds::zero()) until = std::min(until, now + (o.idle_timeout - m.quiet));
    bool got = false;
    if (auto s = m.read_some(until, got); !s.ok()) return fail(s);
    read_once = true;
    const auto after = Clock::now();
    if (got) {
      m.quiet = {};
    } else {
      m.quiet += after - now;
    }
  }
}

void SeedLinkClient::close() { impl_->reset_connection(); }

bool SeedLinkClient::connected() const { return impl_->fd.valid(); }
int SeedLinkClient::protocol() const { return impl_->proto; }
const std::string& SeedLinkClient::server_id() const { return impl_->server_id; }
const std::string& SeedLinkClient::organization() const { return impl_->organization; }
const std::vector<std::string>& SeedLinkClient::accepted_stations() const { return impl_->accepted; }

}  // namespace seisvault::client
