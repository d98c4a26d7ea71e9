// SeedLink command lines, server side: splitting the received bytes into
// lines, recognising the verb, and reading the arguments of STATION, DATA,
// FETCH, TIME and SLPROTO for both protocol versions (3.1 and 4.0).
//
// Nothing here touches a socket or the store; the session owns the state
// machine and the replies (HELLO text, OK/ERROR, capability lists).
//
// Facts relied on, and where they were checked:
//  * Lines end with CR, LF or CRLF; empty lines are ignored (FDSN SeedLink 4
//    protocol.rst "Handshaking"). ObsPy's seedlinkconnection.py ends every
//    command with a bare "\r"; libslink network.c ends v4 commands with a bare
//    "\r" and v3 ones with "\r\n" (its tests/slmock/server.py reads both).
//    The v4 spec puts the maximum at "256(?)" characters with the CRLF; this
//    reader accepts up to 255 characters before the terminator.
//  * Verbs are case-insensitive, arguments separated by runs of spaces or
//    tabs (protocol.rst "Commands"); ObsPy sends "STATION  ANMO IU" (two
//    spaces). Verbs: HELLO, CAT, BYE, STATION, SELECT, DATA, FETCH, TIME, END,
//    INFO (SeisComP seedlink.rst, v3); CAPABILITIES, BATCH (libslink /
//    ringserver v3 extensions); SLPROTO, USERAGENT, AUTH, GETCAPABILITIES (v4
//    spec); ENDFETCH (ringserver, sent by libslink in v4 dial-up mode). The
//    HTTP verbs OPTIONS GET HEAD POST PUT DELETE TRACE CONNECT are reserved by
//    the v4 spec (a server MAY switch to HTTP/WebSocket on them).
//  * v3 DATA/FETCH sequence: hexadecimal (SeisComP), libslink sends "%0llX"
//    (no fixed width), ObsPy sends Python's hex(): "0x1a2b". ringserver reads
//    it with strtoull(base 16), which takes the "0x", and keeps the low 24
//    bits: the v3 wire sequence is 24-bit ("SL" + 6 hex digits).
//  * v4 sequence: decimal uint64; the spec says "-1 or omitted" means the next
//    packet; ringserver and libslink also use "ALL" for "everything held".
//  * Times: SeisComP documents "year,month,day,hour,minute,second" for v3
//    ("2002,08,05,14,00,00"); ObsPy's UTCDateTime.format_seedlink() does not
//    zero-pad ("2008,10,1,12,30,35"); the v4 spec wants
//    "%Y-%m-%dT%H:%M:%S[.%f]Z". ringserver parses both versions' times with
//    libmseed's ms_mdtimestr2nstime(): fields separated by any of - , / : .,
//    'T' allowed between date and time, fraction after the seconds, trailing
//    fields optional. parse_seedlink_time() accepts that same family.
//  * STATION: v3 "STATION sta [net]" (net omitted = any, ringserver); v4
//    "STATION pattern", a glob over the whole station ID "NET_STA" with '*'
//    and '?', anchored ("STATION *F", "STATION G*" in the spec's example), so
//    a v4 pattern cannot always be split into a network and a station part.
//    ringserver's allowed characters: letters, digits, '?', '*', '_'.
//
// Sources: FDSN/SeedLink docs/protocol.rst; SeisComP/seedlink
// apps/seedlink/descriptions/seedlink.rst; EarthScope/ringserver
// src/slclient.c and src/cmdtoken.c; EarthScope/libslink network.c,
// slutils.c, tests/test_spec_v3.py, tests/test_spec_v4.py,
// tests/slmock/server.py; obspy/obspy obspy/clients/seedlink/client/
// seedlinkconnection.py and UTCDateTime.format_seedlink().
//
// Thread-safety: LineReader is not thread-safe (one per connection); every
// free function is pure and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "seisvault/common/status.h"
#include "seisvault/common/time.h"

namespace seisvault::server::seedlink {

// Longest command line accepted, terminator excluded.
inline constexpr size_t kMaxCommandLine = 255;

// Splits a byte stream into command lines.
//
// A line ends at CR, LF or CRLF (the LF of a CRLF, even when it arrives in a
// later feed(), never yields an extra line). Lines that are empty or hold
// only spaces and tabs are skipped. Bytes other than CR and LF, NUL and 0xFF
// included, are kept as they are; parse_command() deals with them.
//
// Memory: a line still being received is held up to max_line bytes; past
// that it is dropped on the spot and the rest of it, up to its terminator, is
// discarded as it arrives. So memory is bounded by max_line plus the complete
// lines fed but not yet taken: call next_line() until it has nothing after
// each feed().
class LineReader {
 public:
  explicit LineReader(size_t max_line = kMaxCommandLine) : max_line_(max_line) {}

  // Takes received bytes (any amount, any split across calls).
  void feed(std::string_view bytes);

  // The next event, in arrival order:
  //   ok, holding a line   a complete command line, without its terminator
  //   ok, holding nullopt  no complete line yet: feed more bytes
  //   ResourceExhausted    a line longer than max_line; the server answers
  //                        ERROR; the line is discarded through its
  //                        terminator and the following lines are unaffected
  Result<std::optional<std::string>> next_line();

  // Complete lines (and too-long reports) waiting to be taken.
  size_t pending() const { return ready_.size(); }

  // Takes the line still being received, as if its terminator had arrived;
  // nullopt when there is none (or it is blank, or too long). For a peer that
  // has gone quiet mid-line: some libslink 4.x releases send "ENDFETCH"
  // without a line end (network.c negotiate_v4(), fixed in later releases).
  // Call it only after next_line() has nothing and the peer has been idle.
  std::optional<std::string> take_unterminated();

 private:
  struct Item {
    bool too_long = false;
    std::string line;
  };
  void end_line();

  size_t max_line_;
  std::string partial_;        // the line being received, at most max_line_ bytes
  bool discarding_ = false;    // inside a too-long line: drop bytes to its terminator
  bool after_cr_ = false;      // the previous byte was a CR: a following LF is its pair
  std::deque<Item> ready_;
};

enum class Verb {
  kUnknown,          // not a SeedLink verb (answer ERROR / UNSUPPORTED)
  kHello,            // v3, v4
  kSlproto,          // v4: SLPROTO 4.0
  kCapabilities,     // v3 (libslink/ringserver): CAPABILITIES EXTREPLY ...
  kGetCapabilities,  // v4
  kUserAgent,        // v4
  kAuth,             // v4
  kStation,          // v3: STATION sta [net]; v4: STATION NET_STA-pattern
  kSelect,           // v3, v4
  kData,             // v3, v4
  kFetch,            // v3, v4
  kTime,             // v3
  kEnd,              // v3, v4
  kEndFetch,         // ringserver/libslink: END in dial-up mode
  kInfo,             // v3, v4
  kBatch,            // v3.1
  kBye,              // v3, v4
  kCat,              // v3
  kHttp,             // a reserved HTTP verb (GET, POST, ...): not a SeedLink client
};

// "HELLO", "SLPROTO", ..., "UNKNOWN", "HTTP": for logs and error messages.
std::string_view verb_name(Verb verb);

struct Command {
  Verb verb = Verb::kUnknown;
  std::string word;               // the verb as sent ("station"), empty for a blank line
  std::vector<std::string> args;  // the arguments, split on runs of spaces/tabs
  std::string raw;                // the whole line as received
};

// Splits a command line: verb case-insensitively, arguments on runs of spaces
// and tabs, leading and trailing blanks ignored. Never fails; anything
// unrecognised is Verb::kUnknown.
Command parse_command(std::string_view line);

// --- Arguments ----------------------------------------------------------------

// The v3 sequence is 24 bits wide on the wire ("SL" + 6 hex digits).
inline constexpr uint64_t kV3SequenceMask = 0xFFFFFF;

// A v3 DATA/FETCH sequence: 1 to 16 hexadecimal digits, either case, with an
// optional "0x"/"0X" prefix (ObsPy). Returns the value as sent; callers that
// map it onto 24-bit wire sequences use (value & kV3SequenceMask), as
// ringserver does. InvalidArgument otherwise.
Result<uint64_t> parse_v3_sequence(std::string_view text);

// A v3 resume sequence (its low 24 bits count) widened to a full sequence
// number against `newest` (the next number to be assigned): the most recent
// number at or below `newest` with those low bits (ringserver's rule). Right
// when the client was away for fewer than 2^24 numbers.
uint64_t widen_v3_sequence(uint64_t sent, uint64_t newest);

// A v4 DATA/FETCH sequence argument.
struct V4Sequence {
  enum class Kind {
    kNext,   // "-1": from the next packet to arrive (the same as no argument)
    kAll,    // "ALL": from the oldest packet held
    kValue,  // a decimal sequence number
  };
  Kind kind = Kind::kNext;
  uint64_t value = 0;  // for kValue
};

// "-1", "ALL" (any case) or a decimal uint64 (no sign, at most 20 digits, no
// overflow). InvalidArgument otherwise.
Result<V4Sequence> parse_v4_sequence(std::string_view text);

// A start or end time of DATA/FETCH/TIME, either version:
//   YYYY[sMsD[thsm[sS[.f]]]][Z]
// with s any of - , / : .  (one character), t any of those or 'T'; month,
// day, hour, minute, second of one or two digits (so "2008,10,1,12,30,35"
// and "2024-05-01T12:00:00.5Z" both work); a fraction only after the
// seconds (digits past the ninth are dropped); omitted fields are the start
// of their period (month and day 1, the rest 0). Second 60 (a leap second's
// notation) is read as the next minute's start, as libmseed does. Year
// 1678-2261 (what TimeNs can hold). InvalidArgument, saying which field is
// wrong, otherwise.
Result<TimeNs> parse_seedlink_time(std::string_view text);

// What DATA, FETCH or TIME asks for.
struct StartRequest {
  // The sequence the client wants next (resume); nullopt = next packet to
  // arrive. For v3 the value is as sent: mask it with kV3SequenceMask to
  // compare with 24-bit wire sequences.
  std::optional<uint64_t> sequence;
  bool all = false;            // v4 "ALL": from the oldest packet held
  std::optional<TimeNs> begin; // v3 DATA/FETCH: skip older packets; TIME/v4: window start
  std::optional<TimeNs> end;   // window end (TIME, v4 DATA/FETCH)
};

// v3 "DATA|FETCH [seq [begin_time]]" (arguments after the verb).
Result<StartRequest> parse_v3_data_arguments(std::span<const std::string> args);

// v3 "TIME begin_time [end_time]". The begin time is required (ringserver;
// libslink and ObsPy always send it). An end before the begin is refused.
// Whether the begin lies in the future (ringserver refuses that) is for the
// caller, which knows the time.
Result<StartRequest> parse_v3_time_arguments(std::span<const std::string> args);

// v4 "DATA|FETCH [seq|-1|ALL [start_time [end_time]]]". An end before the
// start is refused.
Result<StartRequest> parse_v4_data_arguments(std::span<const std::string> args);

// The station(s) a STATION command asks for: a glob over the station ID
// "NET_STA" ('*' any run, '?' one character, ASCII case-insensitive).
class StationPattern {
 public:
  // Longest v4 pattern accepted; v3 codes may have up to kMaxCode each.
  static constexpr size_t kMaxPattern = 64;
  static constexpr size_t kMaxCode = 16;

  // v3 "STATION sta [net]": args is {sta} or {sta, net}; a missing network is
  // "*" (ringserver). Codes: letters, digits, '?', '*'.
  static Result<StationPattern> parse_v3(std::span<const std::string> args);

  // v4 "STATION pattern": args is {pattern}, letters, digits, '?', '*', '_'.
  static Result<StationPattern> parse_v4(std::span<const std::string> args);

  // Whether the station NET.STA is requested. Allocation-free.
  bool matches(std::string_view network, std::string_view station) const;

  // The glob, upper-cased: "IU_ANMO", "*_ANMO" (v3 without network), "G*".
  const std::string& text() const { return pattern_; }

  // True when the pattern holds '*' or '?' (the v4 spec lets a server refuse
  // a DATA sequence number for such a pattern).
  bool has_wildcards() const;

 private:
  explicit StationPattern(std::string pattern) : pattern_(std::move(pattern)) {}
  std::string pattern_;
};

// SLPROTO's argument "major.minor" ("4.0", "3.1").
struct ProtocolVersion {
  int major = 0;
  int minor = 0;
};

// "SLPROTO X.Y": args is {"X.Y"}, each part 1-3 digits. InvalidArgument
// otherwise. Which versions are supported is for the caller.
Result<ProtocolVersion> parse_slproto_arguments(std::span<const std::string> args);

}  // namespace seisvault::server::seedlink
