// libFuzzer target: a SeedLink client's bytes, as seisvaultd's SeedLink face
// reads them: LineReader (server/src/seedlink_command.h) cuts them into
// command lines and a Session (server/src/seedlink_session.h) answers each,
// with a SessionHost of fixed answers.
//
// Input: byte 0 says how the rest (the stream) arrives: bits 0-1 the number
// of cuts (0-3), each at a position taken from the next bytes (stream size *
// byte / 256); with bit 2 set, one byte per feed() instead. After every
// feed() the lines are taken and handled, as the server does after each
// recv(); at the end the unterminated rest is taken (a peer gone quiet
// mid-line) and handled too. Handling stops at kClose (the server closes).
//
// Checks, besides crashes and sanitizer reports:
//   LineReader
//   - the lines and too-long reports are those of an independent splitter
//     on the whole stream (CR, LF, CRLF; blank lines skipped; longer than
//     kMaxCommandLine a report), whatever the cuts; no line holds CR or LF
//     or exceeds kMaxCommandLine;
//   Session, for each line
//   - HELLO is answered with exactly the host's hello(), INFO <level> with
//     exactly its info() (the level a single word); anything else with
//     nothing or one reply line: printable ASCII ending in CRLF, no other
//     CR or LF (v3 extended replies: "ERROR\r<CODE> <message>\r\n"), at
//     most kMaxReply bytes; total replies at most kMaxReply per input byte;
//   - before the feed, a line not answered is END/ENDFETCH, BYE, v3
//     DATA/FETCH/TIME in uni-station mode (which start the feed), or one of
//     STATION, SELECT, DATA, FETCH, TIME after v3's BATCH;
//   - kStartFeed at most once; during the feed nothing is answered except
//     INFO (with exactly info()); a too-long line is answered before the
//     feed and not during it;
//   take_feed()
//   - protocol 3 or 4 as the session says; at least one station request,
//     at most kMaxStations; as many selector texts as selectors, at most
//     kMaxSelectors; no station pattern the host refused; an end time not
//     before the begin time; each station pattern matches a station made
//     from it (its '*' dropped, each '?' an 'X'), and matching and
//     selecting a few codes (also over-long ones) does not crash.
// Finding F5 (an unknown verb echoed raw) is fixed; its reproducer is a
// regression test in tests/server/seedlink_session_test.cpp.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "fuzz_check.h"
#include "pattern_instance.h"
#include "seedlink_command.h"
#include "seedlink_session.h"

namespace {

namespace sls = seisvault::server::seedlink;
using sls::Session;
using sls::Verb;

// The longest reply line a command gets (the longest fixed message is about
// 120 characters, plus at most 43 echoed ones).
constexpr size_t kMaxReply = 320;

const std::string kHello =
    "SeedLink v4.0 (SeisVault/fuzz) :: SLPROTO:4.0 SLPROTO:3.1 CAP EXTREPLY NSWILDCARD BATCH\r\nFuzz Org\r\n";
const std::string kRefused = "XX_DENY";  // the one station the host refuses

std::string info_blob(int protocol_major) {
  if (protocol_major == 4) return std::string("SEJI\x05\0\0\0\0\0\0\0\0\0\0\0\0{\"i\":1}", 24);
  return "SLINFO  " + std::string(512, 'I');
}

struct Host final : sls::SessionHost {
  mutable int hello_calls = 0;
  int info_calls = 0;
  std::string last_level;
  int last_protocol = 0;

  std::string hello() const override {
    ++hello_calls;
    return kHello;
  }
  std::string info(int protocol_major, std::string_view level) override {
    ++info_calls;
    last_level = std::string(level);
    last_protocol = protocol_major;
    return info_blob(protocol_major);
  }
  bool station_allowed(const sls::StationPattern& pattern, std::string& why) const override {
    if (pattern.text() != kRefused) return true;
    why = fmt::format("station {} is not served here", pattern.text());
    return false;
  }
};

std::string shown(std::string_view s) {
  std::string out;
  for (unsigned char c : s.substr(0, 200)) {
    out += (c >= 0x20 && c < 0x7f && c != '\\') ? std::string(1, static_cast<char>(c)) : fmt::format("\\x{:02X}", c);
  }
  if (s.size() > 200) out += "...";
  return out;
}

bool is_blank_line(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t'; });
}

// A LineReader event: a line, or (nullopt) a too-long report.
using Event = std::optional<std::string>;

// The independent splitter: the events of the whole stream, and the
// unterminated rest take_unterminated() must give.
std::vector<Event> reference_lines(std::string_view stream, std::optional<std::string>& rest) {
  std::vector<Event> out;
  size_t start = 0;
  for (size_t i = 0; i <= stream.size(); ++i) {
    const bool end = i == stream.size();
    if (!end && stream[i] != '\r' && stream[i] != '\n') continue;
    const std::string_view segment = stream.substr(start, i - start);
    if (segment.size() > sls::kMaxCommandLine) {
      out.emplace_back(std::nullopt);
      if (end) rest.reset();
    } else if (end) {
      if (!segment.empty() && !is_blank_line(segment)) rest = std::string(segment);
    } else if (!is_blank_line(segment)) {
      out.emplace_back(std::string(segment));
    }
    start = i + 1;
  }
  return out;
}

// Whether `reply` (what one command appended, not HELLO's or INFO's) is one
// well-formed reply line.
void check_reply_line(std::string_view reply, std::string_view line) {
  FUZZ_CHECK(reply.size() <= kMaxReply,
             fmt::format("a {}-byte reply to '{}': {}", reply.size(), shown(line), shown(reply)));
  FUZZ_CHECK(reply.size() >= 2 && reply.substr(reply.size() - 2) == "\r\n",
             fmt::format("the reply to '{}' does not end in CRLF: '{}'", shown(line), shown(reply)));
  const bool extended_error = reply.substr(0, 6) == "ERROR\r" && reply.size() > 8;
  for (size_t i = 0; i + 2 < reply.size(); ++i) {
    const auto c = static_cast<unsigned char>(reply[i]);
    if (extended_error && i == 5) continue;
    FUZZ_CHECK(c >= 0x20 && c < 0x7f, fmt::format("the reply to '{}' holds byte 0x{:02X} at {}: '{}'", shown(line),
                                                  c, i, shown(reply)));
  }
}

bool starts_feed_unanswered(Verb verb) {
  return verb == Verb::kEnd || verb == Verb::kEndFetch || verb == Verb::kData || verb == Verb::kFetch ||
         verb == Verb::kTime;
}

class Run {
 public:
  explicit Run(size_t input_size) : input_size_(input_size) {}

  // Handles one LineReader event; false once the connection is closed.
  bool handle(const Event& event) {
    std::string out;
    const bool feeding = session_.feeding();
    if (!event) {
      session_.line_too_long(out);
      if (feeding) {
        FUZZ_CHECK(out.empty(), fmt::format("a too-long line answered during the feed: '{}'", shown(out)));
      } else {
        check_reply_line(out, "<too long>");
      }
      replied_ += out.size();
      return true;
    }
    const std::string& line = *event;
    const sls::Command cmd = sls::parse_command(line);
    const int hello_before = host_.hello_calls, info_before = host_.info_calls;
    const int protocol_before = session_.protocol_major();
    const Session::Next next = session_.handle(line, out);
    const bool hello = host_.hello_calls != hello_before;
    const bool info = host_.info_calls != info_before;
    FUZZ_CHECK(host_.hello_calls - hello_before + host_.info_calls - info_before <= 1,
               fmt::format("'{}' asked the host more than once", shown(line)));

    if (hello) {
      FUZZ_CHECK(!feeding && cmd.verb == Verb::kHello, fmt::format("'{}' answered with HELLO", shown(line)));
      FUZZ_CHECK(out == kHello, fmt::format("HELLO answered '{}'", shown(out)));
    } else if (info) {
      FUZZ_CHECK(cmd.verb == Verb::kInfo && !cmd.args.empty() && host_.last_level == cmd.args[0],
                 fmt::format("'{}' asked for INFO '{}'", shown(line), shown(host_.last_level)));
      FUZZ_CHECK(host_.last_protocol == protocol_before,
                 fmt::format("INFO for protocol {} in a v{} session", host_.last_protocol, protocol_before));
      FUZZ_CHECK(out == info_blob(host_.last_protocol), fmt::format("'{}' answered with more than INFO: '{}'",
                                                                    shown(line), shown(out)));
    } else if (feeding) {
      FUZZ_CHECK(out.empty(), fmt::format("'{}' answered during the feed: '{}'", shown(line), shown(out)));
    } else if (!out.empty()) {
      check_reply_line(out, line);
      replied_ += out.size();
    } else {
      const bool quiet_batch = batch_ && protocol_before == 3 &&
                               (cmd.verb == Verb::kStation || cmd.verb == Verb::kSelect || cmd.verb == Verb::kData ||
                                cmd.verb == Verb::kFetch || cmd.verb == Verb::kTime);
      const bool starts = next == Session::Next::kStartFeed && starts_feed_unanswered(cmd.verb);
      const bool bye = next == Session::Next::kClose && cmd.verb == Verb::kBye;
      FUZZ_CHECK(quiet_batch || starts || bye, fmt::format("'{}' ({}) before the feed goes unanswered", shown(line),
                                                           sls::verb_name(cmd.verb)));
    }
    FUZZ_CHECK(replied_ <= kMaxReply * (input_size_ + 1),
               fmt::format("{} bytes of replies to {} input bytes", replied_, input_size_));
    if (!feeding && cmd.verb == Verb::kBatch && protocol_before == 3 && out == "OK\r\n") batch_ = true;
    FUZZ_CHECK(session_.user_agent().size() <= 200, fmt::format("a {}-byte user agent", session_.user_agent().size()));
    FUZZ_CHECK(session_.stations().size() <= Session::kMaxStations,
               fmt::format("{} stations kept", session_.stations().size()));

    switch (next) {
      case Session::Next::kContinue:
        FUZZ_CHECK(session_.feeding() == feeding, fmt::format("'{}' changed the feeding state without kStartFeed",
                                                              shown(line)));
        return true;
      case Session::Next::kClose:
        FUZZ_CHECK(cmd.verb == Verb::kBye || cmd.verb == Verb::kHttp,
                   fmt::format("'{}' closes the connection", shown(line)));
        return false;
      case Session::Next::kStartFeed:
        FUZZ_CHECK(!feeding, fmt::format("'{}' started a second feed", shown(line)));
        FUZZ_CHECK(session_.feeding(), "kStartFeed, but the session is not feeding");
        check_feed(session_.take_feed());
        return true;
    }
    return true;
  }

 private:
  void check_feed(const sls::FeedRequest& feed) {
    FUZZ_CHECK(feed.protocol_major == session_.protocol_major() &&
                   (feed.protocol_major == 3 || feed.protocol_major == 4),
               fmt::format("feed for protocol {} in a v{} session", feed.protocol_major, session_.protocol_major()));
    FUZZ_CHECK(!feed.stations.empty(), "a feed without a station request");
    FUZZ_CHECK(feed.stations.size() <= Session::kMaxStations, fmt::format("{} station requests", feed.stations.size()));
    const size_t expected = session_.stations().empty() ? 1 : session_.stations().size();
    FUZZ_CHECK(feed.stations.size() == expected,
               fmt::format("{} station requests in the feed, {} in the session", feed.stations.size(), expected));
    const std::string long_code(100, 'A');
    for (const auto& s : feed.stations) {
      const std::string& text = s.pattern.text();
      FUZZ_CHECK(!text.empty(), "an empty station pattern");
      FUZZ_CHECK(text != kRefused, fmt::format("the refused station {} is fed", kRefused));
      FUZZ_CHECK(s.selectors.size() == s.selector_texts.size(),
                 fmt::format("{} selectors, {} selector texts", s.selectors.size(), s.selector_texts.size()));
      FUZZ_CHECK(s.selectors.size() <= sls::SelectorList::kMaxSelectors, fmt::format("{} selectors", s.selectors.size()));
      if (s.start.begin && s.start.end) {
        FUZZ_CHECK(*s.start.end >= *s.start.begin,
                   fmt::format("a window ending ({}) before it begins ({})", *s.start.end, *s.start.begin));
      }
      if (!s.start_given) {
        FUZZ_CHECK(!s.start.sequence && !s.start.all && !s.start.begin && !s.start.end, "a start nobody gave");
      }
      // A station made from the pattern is matched.
      const std::string instance = pattern_instance(text);
      if (const size_t us = instance.find('_'); us != std::string::npos) {
        const std::string_view id(instance);
        FUZZ_CHECK(s.pattern.matches(id.substr(0, us), id.substr(us + 1)),
                   fmt::format("pattern {} does not match {}", text, instance));
      }
      (void)s.pattern.matches("IU", "ANMO");
      (void)s.pattern.matches("", "");
      (void)s.pattern.matches(long_code, long_code);
      (void)s.pattern.has_wildcards();
      for (const char type : {'D', 'E', 'C', 'T', 'L', 'O'}) {
        (void)s.selectors.matches("00", "BHZ", type, '2');
        (void)s.selectors.matches("", "LHZ", type, '2');
        (void)s.selectors.matches("--", "B_H_Z", type, '3');
        (void)s.selectors.filter_for("10", "HHN", type, '2');
      }
      (void)s.selectors.matches(long_code, long_code, 'D', '2');
      (void)s.selectors.matches("  ", "", 'D', '2');
    }
  }

  size_t input_size_;
  Host host_;
  Session session_{host_};
  bool batch_ = false;  // v3 BATCH accepted
  size_t replied_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const size_t cuts_wanted = mode & 3;
  const bool bytewise = (mode & 4) != 0;
  const size_t header = 1 + std::min(cuts_wanted, size - 1);
  const std::string_view stream(reinterpret_cast<const char*>(data) + header, size - header);
  std::vector<size_t> cuts;
  for (size_t i = 1; i < header; ++i) cuts.push_back(stream.size() * data[i] / 256);
  std::sort(cuts.begin(), cuts.end());
  cuts.push_back(stream.size());

  std::optional<std::string> expected_rest;
  const std::vector<Event> expected = reference_lines(stream, expected_rest);

  sls::LineReader reader;
  Run run(size);
  std::vector<Event> got;
  bool open = true;
  auto take_lines = [&] {
    for (;;) {
      auto line = reader.next_line();
      if (!line.ok()) {
        FUZZ_CHECK(line.status().code() == seisvault::StatusCode::kResourceExhausted,
                   fmt::format("next_line failed: {}", line.status().message()));
        got.emplace_back(std::nullopt);
      } else if (!*line) {
        break;
      } else {
        const std::string& l = **line;
        FUZZ_CHECK(!l.empty() && l.size() <= sls::kMaxCommandLine && l.find_first_of("\r\n") == std::string::npos &&
                       !is_blank_line(l),
                   fmt::format("LineReader gave '{}'", shown(l)));
        got.emplace_back(l);
      }
      if (open) open = run.handle(got.back());
    }
    FUZZ_CHECK(reader.pending() == 0, fmt::format("{} lines pending after next_line() gave none", reader.pending()));
  };
  size_t at = 0;
  for (const size_t cut : cuts) {
    if (bytewise) {
      for (; at < cut; ++at) {
        reader.feed(stream.substr(at, 1));
        take_lines();
      }
    } else {
      reader.feed(stream.substr(at, cut - at));
      take_lines();
      at = cut;
    }
  }
  FUZZ_CHECK(got == expected, fmt::format("LineReader gave {} events, the reference {}, for '{}' cut at {}",
                                          got.size(), expected.size(), shown(stream), fmt::join(cuts, ",")));
  const std::optional<std::string> rest = reader.take_unterminated();
  FUZZ_CHECK(rest == expected_rest, fmt::format("take_unterminated gave '{}', the reference '{}'",
                                                rest ? shown(*rest) : "<none>",
                                                expected_rest ? shown(*expected_rest) : "<none>"));
  if (rest && open) run.handle(rest);
  FUZZ_CHECK(!reader.take_unterminated().has_value(), "take_unterminated gave the same rest twice");
  return 0;
}
