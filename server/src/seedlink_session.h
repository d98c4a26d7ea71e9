// SeedLinkSession: one client's side of the SeedLink 3.1 / 4.0 handshake,
// without sockets or a store. It takes the client's command lines and
// answers them; when the client says END, ENDFETCH (or, in v3's
// uni-station mode, DATA/FETCH/TIME) it hands over a FeedRequest: which
// stations and streams, from where, until when. The server (seedlink_server.h)
// then feeds the packets; during the feed only INFO and BYE are answered.
//
// Replies, as ringserver and SeisComP write them and libslink and ObsPy read
// them:
//   v3  "OK\r\n" / "ERROR\r\n"; after "CAPABILITIES EXTREPLY" an error says
//       why: "ERROR\r<CODE> <message>\r\n". After BATCH, STATION, SELECT,
//       DATA, FETCH and TIME are not answered at all (libslink does not read
//       an answer then).
//   v4  "OK\r\n" / "ERROR <CODE> <message>\r\n" (codes UNSUPPORTED,
//       UNEXPECTED, UNAUTHORIZED, LIMIT, ARGUMENTS, AUTH, INTERNAL).
// HELLO answers two lines in one write (ObsPy reads one recv()). The
// version is 3.1 until "SLPROTO 4.0".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "seedlink_command.h"
#include "seedlink_selector.h"

namespace seisvault::server::seedlink {

// What one STATION command asked for (or, before any STATION, for every
// station: v3's uni-station mode and "global" selectors).
struct StationRequest {
  StationPattern pattern;
  SelectorList selectors;
  std::vector<std::string> selector_texts;  // as sent, for INFO CONNECTIONS
  StartRequest start;                       // DATA/FETCH/TIME arguments; empty: the next packet
  bool start_given = false;
};

// What the client asked to be fed, once the handshake is over.
struct FeedRequest {
  int protocol_major = 3;
  bool dialup = false;  // FETCH / ENDFETCH: end with "END" once caught up
  std::vector<StationRequest> stations;  // at least one
};

// What a session needs from its server.
class SessionHost {
 public:
  virtual ~SessionHost() = default;
  // The two HELLO lines, each ending in CRLF.
  virtual std::string hello() const = 0;
  // The bytes answering "INFO <level>" (packed INFO packets: v3 miniSEED
  // text records, v4 one JSON packet), error documents included.
  virtual std::string info(int protocol_major, std::string_view level) = 0;
  // Whether a STATION pattern may be served (the operator's station
  // allow-list); `why` tells the client otherwise.
  virtual bool station_allowed(const StationPattern& pattern, std::string& why) const = 0;
};

class Session {
 public:
  enum class Next {
    kContinue,   // keep reading commands
    kStartFeed,  // the handshake is over: take_feed(), then feed packets
    kClose,      // BYE: close once the answer is written
  };

  // STATION commands one connection may give (SeisComP asks for a whole
  // network station by station).
  static constexpr size_t kMaxStations = 5000;

  explicit Session(SessionHost& host) : host_(host) {}

  // Handles one command line (without its line end), appending the answer
  // to `out`. During the feed only INFO and BYE do anything: other lines
  // are ignored, since a text answer would land among the packets.
  Next handle(std::string_view line, std::string& out);
  // A line longer than the protocol allows: answered with an error.
  void line_too_long(std::string& out);

  // After kStartFeed: what to feed. The session is then feeding.
  FeedRequest take_feed();

  int protocol_major() const { return v4_ ? 4 : 3; }
  bool feeding() const { return feeding_; }
  const std::string& user_agent() const { return user_agent_; }
  // The stations asked for so far (for INFO CONNECTIONS).
  const std::vector<StationRequest>& stations() const { return stations_; }
  const StationRequest& global() const { return global_; }

 private:
  void ok(std::string& out) const;
  void error(std::string& out, std::string_view code, std::string_view message) const;
  // The request DATA/FETCH/TIME/SELECT apply to: the last STATION's, or the global one.
  StationRequest& current();
  Next start(bool dialup);

  SessionHost& host_;
  bool v4_ = false;
  bool extended_replies_ = false;  // v3 "CAPABILITIES EXTREPLY"
  bool batch_ = false;             // v3 BATCH: no answers to STATION/SELECT/DATA/FETCH/TIME
  bool feeding_ = false;
  bool dialup_ = false;
  std::string user_agent_;
  StationRequest global_{StationPattern::parse_v4(std::vector<std::string>{"*"}).value(), {}, {}, {}, false};
  std::vector<StationRequest> stations_;
};

}  // namespace seisvault::server::seedlink
