// SeedLinkSession: the handshake of one client, without sockets: answers
// in both versions, uni- and multi-station mode, BATCH, extended replies,
// what the feed request holds, and what happens to commands during a feed.
#include <catch2/catch.hpp>

#include <string>

#include "seedlink_session.h"

using namespace seisvault;
using namespace seisvault::server::seedlink;

namespace {

struct FakeHost : SessionHost {
  std::string hello() const override { return "SeedLink v4.0 (Test) :: SLPROTO:4.0 SLPROTO:3.1\r\nOrg\r\n"; }
  std::string info(int version, std::string_view level) override {
    return "<info v" + std::to_string(version) + " " + std::string(level) + ">";
  }
  bool station_allowed(const StationPattern& p, std::string& why) const override {
    if (p.text() == "XX_SECRET") {
      why = "station XX_SECRET is not served here";
      return false;
    }
    return true;
  }
};

struct Harness {
  FakeHost host;
  Session session{host};
  std::string say(std::string_view line, Session::Next* next = nullptr) {
    std::string out;
    const auto n = session.handle(line, out);
    if (next) *next = n;
    return out;
  }
};

}  // namespace

TEST_CASE("v3 multi-station: STATION, SELECT, DATA answer OK and END starts the feed", "[seedlink][session]") {
  Harness h;
  CHECK(h.say("HELLO") == h.host.hello());
  CHECK(h.say("STATION ANMO IU") == "OK\r\n");
  CHECK(h.say("SELECT 00BH?.D") == "OK\r\n");
  CHECK(h.say("DATA 00A1B2") == "OK\r\n");
  CHECK(h.say("STATION COLA IU") == "OK\r\n");
  CHECK(h.say("FETCH") == "OK\r\n");
  Session::Next next;
  CHECK(h.say("END", &next).empty());
  REQUIRE(next == Session::Next::kStartFeed);
  const auto feed = h.session.take_feed();
  CHECK(feed.protocol_major == 3);
  CHECK(feed.dialup);
  REQUIRE(feed.stations.size() == 2);
  CHECK(feed.stations[0].pattern.text() == "IU_ANMO");
  CHECK(feed.stations[0].start.sequence == 0xA1B2);
  CHECK(feed.stations[0].selectors.matches("00", "BHZ", 'D'));
  CHECK_FALSE(feed.stations[0].selectors.matches("00", "LHZ", 'D'));
  CHECK(feed.stations[1].selectors.empty());
  CHECK(h.session.feeding());
}

TEST_CASE("v3 uni-station mode: DATA without STATION starts the feed at once, unanswered", "[seedlink][session]") {
  Harness h;
  CHECK(h.say("SELECT BHZ") == "OK\r\n");
  Session::Next next;
  CHECK(h.say("DATA", &next).empty());
  REQUIRE(next == Session::Next::kStartFeed);
  const auto feed = h.session.take_feed();
  REQUIRE(feed.stations.size() == 1);
  CHECK(feed.stations[0].pattern.matches("ANY", "THING"));
  CHECK(feed.stations[0].selectors.matches("", "BHZ", 'D'));
}

TEST_CASE("v3 selectors given before the first STATION apply to stations without their own", "[seedlink][session]") {
  Harness h;
  CHECK(h.say("SELECT LHZ") == "OK\r\n");
  CHECK(h.say("STATION A XX") == "OK\r\n");
  CHECK(h.say("STATION B XX") == "OK\r\n");
  CHECK(h.say("SELECT BHZ") == "OK\r\n");
  h.say("END");
  const auto feed = h.session.take_feed();
  CHECK(feed.stations[0].selectors.matches("", "LHZ", 'D'));
  CHECK_FALSE(feed.stations[0].selectors.matches("", "BHZ", 'D'));
  CHECK(feed.stations[1].selectors.matches("", "BHZ", 'D'));
  CHECK_FALSE(feed.stations[1].selectors.matches("", "LHZ", 'D'));
}

TEST_CASE("v3 errors are a bare ERROR, or carry the reason after CAPABILITIES EXTREPLY", "[seedlink][session]") {
  Harness h;
  CHECK(h.say("SELECT B@Z") == "ERROR\r\n");
  CHECK(h.say("CAPABILITIES EXTREPLY") == "OK\r\n");
  const auto reply = h.say("SELECT B@Z");
  CHECK(reply.starts_with("ERROR\rARGUMENTS "));
  CHECK(reply.ends_with("\r\n"));
  CHECK(h.say("STATION SECRET XX").starts_with("ERROR\rUNAUTHORIZED station XX_SECRET is not served here"));
  CHECK(h.say("NONSENSE").starts_with("ERROR\rUNSUPPORTED"));
  CHECK(h.say("CAT") == "CAT command not implemented\r\n");
}

TEST_CASE("BATCH (v3) silences STATION, SELECT and DATA answers", "[seedlink][session]") {
  Harness h;
  CHECK(h.say("BATCH") == "OK\r\n");
  CHECK(h.say("STATION ANMO IU").empty());
  CHECK(h.say("SELECT BHZ").empty());
  CHECK(h.say("SELECT B@Z").empty());
  CHECK(h.say("DATA").empty());
  CHECK(h.say("INFO ID") == "<info v3 ID>");  // INFO still answered
}

TEST_CASE("v4: SLPROTO switches; errors carry a code; TIME and BATCH are refused; DATA takes ALL", "[seedlink][session]") {
  Harness h;
  CHECK(h.say("SLPROTO 4.0") == "OK\r\n");
  CHECK(h.session.protocol_major() == 4);
  CHECK(h.say("USERAGENT slinktool/4.0 libslink/4.0") == "OK\r\n");
  CHECK(h.session.user_agent() == "slinktool/4.0 libslink/4.0");
  CHECK(h.say("GETCAPABILITIES").starts_with("SLPROTO:4.0"));
  CHECK(h.say("TIME 2024,1,1,0,0,0").starts_with("ERROR UNSUPPORTED "));
  CHECK(h.say("BATCH").starts_with("ERROR UNSUPPORTED "));
  CHECK(h.say("SELECT").starts_with("ERROR ARGUMENTS "));
  CHECK(h.say("STATION IU_*") == "OK\r\n");
  CHECK(h.say("SELECT 00_B_H_? !00_B_H_E") == "OK\r\n");
  CHECK(h.say("DATA ALL") == "OK\r\n");
  CHECK(h.say("AUTH USERPASS a b").starts_with("ERROR UNSUPPORTED "));
  Session::Next next;
  h.say("ENDFETCH", &next);
  REQUIRE(next == Session::Next::kStartFeed);
  const auto feed = h.session.take_feed();
  CHECK(feed.protocol_major == 4);
  CHECK(feed.dialup);
  CHECK(feed.stations[0].start.all);
  CHECK(feed.stations[0].selectors.matches("00", "BHZ", 'D'));
  CHECK_FALSE(feed.stations[0].selectors.matches("00", "BHE", 'D'));
  CHECK(h.say("SLPROTO 9.9").empty());  // feeding: ignored, not answered into the packets
}

TEST_CASE("during a feed only INFO and BYE act", "[seedlink][session]") {
  Harness h;
  h.say("SLPROTO 4.0");
  h.say("END");
  CHECK(h.say("STATION IU_ANMO").empty());
  CHECK(h.say("INFO ID") == "<info v4 ID>");
  Session::Next next;
  h.say("BYE", &next);
  CHECK(next == Session::Next::kClose);
}

TEST_CASE("an overlong line is answered with an error; HTTP requests are refused and closed", "[seedlink][session]") {
  Harness h;
  std::string out;
  h.session.line_too_long(out);
  CHECK(out.starts_with("ERROR"));
  Session::Next next;
  CHECK(h.say("GET / HTTP/1.1", &next).starts_with("ERROR"));
  CHECK(next == Session::Next::kClose);
}

// Fuzzing finding F5 (fuzz/regressions/seedlink_session/unknown-verb-echoed-raw):
// the reply to an unknown command echoed its raw bytes, control bytes and
// all, to the client.
TEST_CASE("an unknown command is echoed in its reply as printable ASCII only (F5)", "[seedlink][session][regression]") {
  Harness h;
  h.say("SLPROTO 4.0");
  const auto reply = h.say(std::string("\xEB\x01\x7F", 3));
  REQUIRE(reply.starts_with("ERROR UNSUPPORTED "));
  REQUIRE(reply.ends_with("\r\n"));
  for (size_t i = 0; i + 2 < reply.size(); ++i) {
    const auto c = static_cast<unsigned char>(reply[i]);
    CHECK((c >= 0x20 && c < 0x7F));
  }
}
