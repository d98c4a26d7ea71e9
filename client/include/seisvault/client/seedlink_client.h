// SeedLinkClient: a SeedLink client, written on the protocol, for the bridge
// that pulls records from station equipment (a datalogger, a SeisComP
// seedlink, a ringserver) and pushes them to SeisVault
// (seedlink_bridge.h, `seisvault push --from-seedlink`).
//
// Handshake (connect()). HELLO; the server's first answer line carries its
// capabilities after "::". When they include SLPROTO:4.x (and allow_v4), the
// client says "SLPROTO 4.0" and "USERAGENT seisvault/<version>" and speaks
// SeedLink 4; otherwise SeedLink 3 (3.1). Then, for each station, in
// multi-station mode:
//   v4:  STATION NET_STA / SELECT pattern ... / DATA [next_sequence, decimal]
//   v3:  STATION STA NET / SELECT pattern ... / DATA [next_sequence, 6 hex digits, low 24 bits]
// each answered OK or ERROR (a refused station is skipped and reported; a
// station whose every SELECT is refused fails the handshake, since without
// a selector the server would send all of its streams), and finally END
// (dial-up mode: v3 FETCH instead of DATA; v4 DATA and ENDFETCH, as
// libslink does). Commands end with CR LF and are sent one at a time, each
// answer awaited (no BATCH, no asynchronous handshaking).
//
// Selectors. Given in either syntax; the client converts where it can:
//   v3 "[!][LL]CCC[.T]" (LL "--" for an empty location, ? wildcards), e.g.
//      "BHZ", "00HH?", "--LHZ", "BH?.D", "!LOG". Sent as is to a v3 server;
//      to a v4 server as "[!]LL_B_S_SS[.?T]" ("BHZ" -> "*_B_H_Z",
//      "00HH?.D" -> "00_H_H_?.?D", "--LHZ" -> "_L_H_Z"), like libslink.
//   v4 "[!]LOC_B_S_SS[.FS][:filter]" (anything with '_' or '*'): sent as is
//      to a v4 server; a v3 server cannot take it, and connect() fails with
//      InvalidArgument naming it.
//
// Packets (next_packet()). v3: "SL" + 6 hex digits + one miniSEED 2 record,
// whose length is read from its blockette 1000 (512 when it has none:
// every SeedLink 3 server sends 512-byte records unless the record says
// otherwise), or "SLINFO" + a 512-byte INFO record. v4: the "SE" header
// with the payload length. "END" ends a dial-up feed. Framing comes from
// common/seedlink_wire.h. A packet is returned whole, whatever the TCP
// segmentation; its payload is the exact bytes the server sent.
//
// Keepalive. When the server has sent nothing for keepalive_interval while
// next_packet() waited, the client sends "INFO ID" (as libslink does); the
// answer (v3 SLINFO packets up to the last one, v4 one JSON packet) is
// taken as a sign of life and not returned. A server that answers the
// keepalive with ERROR gets no more keepalives on this connection. When it
// has sent nothing at all for idle_timeout, next_packet() fails with
// DeadlineExceeded: the caller reconnects.
//
// Backpressure. Bytes are read from the socket only inside next_packet(),
// at most one packet ahead plus one read buffer (64 KiB), so a caller that
// stops asking stops the server through TCP. Waiting time spent outside
// next_packet() does not count towards the keepalive or the idle timeout.
//
// Errors are values: connect() returns Unavailable (cannot resolve or
// connect, or the connection closed during the handshake), DeadlineExceeded
// (connect_timeout or response_timeout passed), Cancelled (keep_waiting
// said stop), Incompatible (the answer is
// not SeedLink, or SLPROTO 4.0 was refused), InvalidArgument (no station
// accepted, every selector of a station refused, a v4 selector for a v3
// server); next_packet() returns Unavailable (the server closed or reset
// the connection), DeadlineExceeded (idle_timeout), Corruption (bytes that
// are not a SeedLink packet, a payload over max_payload_bytes, an ERROR
// line in the stream). After any error the connection is closed; connect()
// may be called again.
//
// Threads: one thread at a time. Movable, not copyable.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "seisvault/common/status.h"

namespace seisvault::client {

// One station to request.
struct SeedLinkStationRequest {
  std::string network;  // "GE"
  std::string station;  // "WLF"
  // SELECT patterns, in either syntax (see the file comment). Empty: no
  // SELECT, every stream of the station.
  std::vector<std::string> selectors;
  // The sequence number of the first packet wanted (the last one received
  // plus one); nullopt: the next packet the server gets. v3 sends its low
  // 24 bits.
  std::optional<uint64_t> next_sequence;
  // Without a next_sequence: start at the oldest packet the server still
  // holds (v4 "DATA ALL"; v3 sequence 000000, which ringserver and SeisVault
  // widen to their oldest while they hold fewer than 2^24 packets) instead of
  // the next one to arrive.
  bool from_oldest = false;

  std::string id() const { return network + "_" + station; }  // "GE_WLF"
};

struct SeedLinkClientOptions {
  std::string host;        // name or address of the SeedLink server
  uint16_t port = 18000;   // SeedLink's registered port
  std::vector<SeedLinkStationRequest> stations;

  // Speak SeedLink 4 when the server offers SLPROTO:4.x. false: always 3.
  bool allow_v4 = true;
  // Dial-up mode: the server sends what it has queued, then "END".
  bool dial_up = false;
  // Sent to a v4 server (USERAGENT).
  std::string user_agent = "seisvault";

  // TCP connect, and each answer during the handshake, at most this long.
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds response_timeout{30'000};
  // Send "INFO ID" after this much silence (0: never). libslink-based
  // tools use 30 s or so; it keeps NAT and firewall state alive, and tells
  // a dead link from a quiet station.
  std::chrono::milliseconds keepalive_interval{30'000};
  // Give up on a connection that sent nothing at all for this long
  // (next_packet() then fails with DeadlineExceeded). Keep it well above
  // keepalive_interval.
  std::chrono::milliseconds idle_timeout{300'000};
  // The largest payload accepted (a v4 payload, a v3 record); 2^20 covers
  // every miniSEED 2 record length.
  size_t max_payload_bytes = size_t{1} << 20;

  // Asked about every 100 ms while connect() waits (for the TCP
  // connection, for an answer, to send); false makes connect() return
  // Cancelled. A program notices a signal here. Optional.
  std::function<bool()> keep_waiting;

  // Called with what the client has to say about the handshake and the
  // stream (a station refused, a keepalive refused, the server's id). The
  // bool says whether it is a warning. Optional; without it, spdlog.
  std::function<void(std::string_view message, bool warning)> on_message;
};

enum class SeedLinkPacketKind : uint8_t {
  kData,   // a record (or other data payload) of a station
  kInfo,   // an INFO answer not asked for as a keepalive (v3 SLINFO record, v4 format J subformat I)
  kError,  // a v4 error packet (format J, subformat E): JSON with the error
  kEnd,    // "END": the server has sent everything (dial-up mode); nothing follows
};

// A packet as received. The views are valid until the next call to
// next_packet(), connect() or close().
struct SeedLinkPacket {
  SeedLinkPacketKind kind = SeedLinkPacketKind::kData;
  uint64_t sequence = 0;        // data: v3 24-bit, v4 64-bit
  std::string_view station_id;  // data: "NET_STA" (v4 from the header, v3 from the record's header)
  char format = 0;              // v4 format code; v3: '2' (miniSEED 2)
  char subformat = 0;           // v4 subformat code; v3: 'D' for data, 'I' for INFO
  bool info_more = false;       // v3 INFO: another INFO packet follows
  std::span<const uint8_t> payload;
};

class SeedLinkClient {
 public:
  explicit SeedLinkClient(SeedLinkClientOptions options);
  ~SeedLinkClient();
  SeedLinkClient(SeedLinkClient&&) noexcept;
  SeedLinkClient& operator=(SeedLinkClient&&) noexcept;

  // The options; the stations' next_sequence may be changed between
  // connections (the bridge sets them before each connect()).
  SeedLinkClientOptions& options();
  const SeedLinkClientOptions& options() const;

  // Connects and does the handshake up to END (closing any connection
  // first). OK: packets may be read. Errors: see the file comment.
  Status connect();

  // Waits at most `wait` for the next complete packet (reading at least
  // once, so 0 takes what has arrived). nullptr: none yet (the connection
  // is fine). Errors: see the file comment.
  Result<const SeedLinkPacket*> next_packet(std::chrono::milliseconds wait);

  // Closes the connection (nothing is sent). Idempotent.
  void close();

  bool connected() const;
  // 3 or 4 once connected (the protocol of the current or last connection); 0 before.
  int protocol() const;
  // The HELLO answer of the current or last connection.
  const std::string& server_id() const;
  const std::string& organization() const;
  // The stations the server accepted on the current connection.
  const std::vector<std::string>& accepted_stations() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Converts a v3 selector ("[!][LL]CCC[.T]") to v4 ("[!]LL_B_S_SS[.?T]");
// a v4 selector (with '_' or '*') is returned as is; nullopt for a v3 form
// it cannot convert (a channel not 3 characters, a location not 0-2).
std::optional<std::string> seedlink_v4_selector(std::string_view selector);

// The length of the miniSEED 2 record at the start of `data`, from its
// blockette 1000, like libslink's detection: >0 the length; 0 more bytes
// are needed to tell (the blockette chain points past `data`); -1 not a
// miniSEED 2 fixed header, or a blockette 1000 with a length exponent
// outside 7..20. A valid header without blockette 1000 gives `fallback`.
int64_t miniseed2_record_length(std::span<const uint8_t> data, int64_t fallback);

}  // namespace seisvault::client
