// SeedLinkClient against a scripted SeedLink server on 127.0.0.1 (a real
// socket, a thread speaking v3 or v4 from a script): the handshake of both
// protocol versions, packet framing across fragmented reads, record
// lengths, INFO and keepalive, END, errors. Every test ends by itself.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstring>
#include <thread>

#include "seedlink_script_server.h"
#include "seisvault/client/seedlink_client.h"

using namespace seisvault;
using namespace seisvault::client;
using namespace std::chrono_literals;
using seisvault::test::ScriptedSeedLinkServer;
using seisvault::test::SeedLinkHandshake;
using seisvault::test::SeedLinkRequest;
using Connection = seisvault::test::ScriptedSeedLinkServer::Connection;

namespace {

SeedLinkClientOptions options_for(const ScriptedSeedLinkServer& server, std::vector<SeedLinkStationRequest> stations) {
  SeedLinkClientOptions o;
  o.host = "127.0.0.1";
  o.port = server.port();
  o.stations = std::move(stations);
  o.user_agent = "seisvault-test/1";
  o.connect_timeout = 2s;
  o.response_timeout = 2s;
  o.keepalive_interval = 0ms;
  o.idle_timeout = 5s;
  o.on_message = [](std::string_view, bool) {};
  return o;
}

SeedLinkStationRequest station(std::string net, std::string sta, std::vector<std::string> selectors = {},
                               std::optional<uint64_t> next = std::nullopt) {
  SeedLinkStationRequest r;
  r.network = std::move(net);
  r.station = std::move(sta);
  r.selectors = std::move(selectors);
  r.next_sequence = next;
  return r;
}

std::vector<uint8_t> bytes(std::span<const uint8_t> s) { return {s.begin(), s.end()}; }

// Reads packets until `n` are collected or 5 s pass; copies them.
struct Got {
  SeedLinkPacketKind kind;
  uint64_t sequence;
  std::string station;
  char format;
  char subformat;
  std::vector<uint8_t> payload;
};
std::vector<Got> read_packets(SeedLinkClient& c, size_t n, Status* last = nullptr) {
  std::vector<Got> out;
  const auto end = std::chrono::steady_clock::now() + 5s;
  while (out.size() < n && std::chrono::steady_clock::now() < end) {
    auto p = c.next_packet(100ms);
    if (!p.ok()) {
      if (last) *last = p.status();
      break;
    }
    if (*p == nullptr) continue;
    const auto& q = **p;
    out.push_back(Got{q.kind, q.sequence, std::string(q.station_id), q.format, q.subformat, bytes(q.payload)});
  }
  return out;
}

// A connection that gives the handshake and then waits for the client to leave.
ScriptedSeedLinkServer::Script handshake_then_wait(SeedLinkHandshake h, std::string after = {}) {
  return [h, after](Connection& c) {
    test::serve_handshake(c, h);
    if (!after.empty()) c.send(after);
    c.wait_closed(5s);
  };
}

}  // namespace

TEST_CASE("a SeedLink 4 server gets SLPROTO 4.0, USERAGENT, and per station STATION NET_STA, v4 selectors and "
          "DATA with the next sequence in decimal, then END",
          "[seedlink][seedlink_client]") {
  ScriptedSeedLinkServer server({handshake_then_wait({})});
  SeedLinkClient client(options_for(
      server, {station("GE", "WLF", {"BHZ", "00HH?.D"}, 1235), station("GE", "APE")}));
  REQUIRE(client.connect().ok());
  CHECK(client.protocol() == 4);
  CHECK(client.server_id().starts_with("SeedLink v4.0"));
  CHECK(client.organization() == "Test network");
  CHECK(client.accepted_stations() == std::vector<std::string>{"GE_WLF", "GE_APE"});
  client.close();
  REQUIRE(test::eventually_finished(server, 1));
  CHECK(server.commands().at(0) == std::vector<std::string>{"HELLO", "SLPROTO 4.0", "USERAGENT seisvault-test/1",
                                                            "STATION GE_WLF", "SELECT *_B_H_Z", "SELECT 00_H_H_?.?D",
                                                            "DATA 1235", "STATION GE_APE", "DATA", "END"});
  CHECK(server.errors().empty());
}

TEST_CASE("a server whose HELLO lacks SLPROTO:4.0 is spoken to in SeedLink 3: STATION STA NET, selectors as "
          "given, DATA with the low 24 bits in 6 hex digits",
          "[seedlink][seedlink_client]") {
  SeedLinkHandshake h;
  h.v4 = false;
  ScriptedSeedLinkServer server({handshake_then_wait(h)});
  SeedLinkClient client(
      options_for(server, {station("GE", "WLF", {"BHZ", "00HH?.D"}, 0x1234567), station("IU", "ANMO", {}, 0x4D3)}));
  REQUIRE(client.connect().ok());
  CHECK(client.protocol() == 3);
  client.close();
  REQUIRE(test::eventually_finished(server, 1));
  CHECK(server.commands().at(0) == std::vector<std::string>{"HELLO", "STATION WLF GE", "SELECT BHZ",
                                                            "SELECT 00HH?.D", "DATA 234567", "STATION ANMO IU",
                                                            "DATA 0004D3", "END"});
}

TEST_CASE("with allow_v4 off the client speaks SeedLink 3 to a server that offers 4", "[seedlink][seedlink_client]") {
  ScriptedSeedLinkServer server({handshake_then_wait({})});
  auto o = options_for(server, {station("GE", "WLF", {}, 16)});
  o.allow_v4 = false;
  SeedLinkClient client(o);
  REQUIRE(client.connect().ok());
  CHECK(client.protocol() == 3);
  client.close();
  REQUIRE(test::eventually_finished(server, 1));
  CHECK(server.commands().at(0) == std::vector<std::string>{"HELLO", "STATION WLF GE", "DATA 000010", "END"});
}

TEST_CASE("a refused station is skipped and the others are requested; when all are refused connect() fails",
          "[seedlink][seedlink_client]") {
  SeedLinkHandshake h;
  h.refuse_stations = {"GE_WLF"};
  SECTION("one of two refused") {
    ScriptedSeedLinkServer server({handshake_then_wait(h)});
    std::vector<std::string> messages;
    auto o = options_for(server, {station("GE", "WLF", {"BHZ"}), station("GE", "APE")});
    o.on_message = [&](std::string_view m, bool warning) {
      if (warning) messages.emplace_back(m);
    };
    SeedLinkClient client(o);
    REQUIRE(client.connect().ok());
    CHECK(client.accepted_stations() == std::vector<std::string>{"GE_APE"});
    REQUIRE(messages.size() == 1);
    CHECK(messages[0].find("station GE_WLF refused: ARGUMENTS refused by the script") != std::string::npos);
  }
  SECTION("all refused") {
    ScriptedSeedLinkServer server({[](Connection& c) {
      SeedLinkHandshake all;
      all.refuse_stations = {"GE_WLF"};
      // The client gives up after STATION: the responder's read ends with the connection.
      try {
        test::serve_handshake(c, all);
      } catch (const std::exception&) {
      }
    }});
    SeedLinkClient client(options_for(server, {station("GE", "WLF")}));
    const Status s = client.connect();
    CHECK(s.code() == StatusCode::kInvalidArgument);
    CHECK(s.message().find("accepted none of the stations: GE_WLF") != std::string::npos);
    CHECK_FALSE(client.connected());
  }
}

TEST_CASE("a station whose every selector is refused fails the handshake, since the server would send every "
          "stream",
          "[seedlink][seedlink_client]") {
  SeedLinkHandshake h;
  h.refuse_selectors = {"*_B_H_Z", "*_H_H_Z"};
  ScriptedSeedLinkServer server({[h](Connection& c) {
    try {
      test::serve_handshake(c, h);
    } catch (const std::exception&) {
    }
  }});
  SeedLinkClient client(options_for(server, {station("GE", "WLF", {"BHZ", "HHZ"})}));
  const Status s = client.connect();
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK(s.message().find("none of the selectors of GE_WLF") != std::string::npos);
}

TEST_CASE("a SeedLink 4 selector is not sent to a SeedLink 3 server", "[seedlink][seedlink_client]") {
  SeedLinkHandshake h;
  h.v4 = false;
  ScriptedSeedLinkServer server({[h](Connection& c) {
    try {
      test::serve_handshake(c, h);
    } catch (const std::exception&) {
    }
  }});
  SeedLinkClient client(options_for(server, {station("GE", "WLF", {"00_B_H_Z"})}));
  const Status s = client.connect();
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK(s.message().find("SeedLink 4 syntax") != std::string::npos);
}

TEST_CASE("a server that does not answer HELLO like SeedLink is refused as incompatible",
          "[seedlink][seedlink_client]") {
  ScriptedSeedLinkServer server({[](Connection& c) {
    c.read_command();
    c.send("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    c.wait_closed(2s);
  }});
  SeedLinkClient client(options_for(server, {station("GE", "WLF")}));
  const Status s = client.connect();
  CHECK(s.code() == StatusCode::kIncompatible);
}

TEST_CASE("connecting to a port nobody listens on fails with Unavailable", "[seedlink][seedlink_client]") {
  uint16_t port = 0;
  {
    ScriptedSeedLinkServer closed({[](Connection&) {}});
    port = closed.port();
  }
  SeedLinkClientOptions o;
  o.host = "127.0.0.1";
  o.port = port;
  o.stations = {station("GE", "WLF")};
  SeedLinkClient client(o);
  const Status s = client.connect();
  CHECK(s.code() == StatusCode::kUnavailable);
  CHECK(s.message().find("cannot connect to 127.0.0.1:") != std::string::npos);
}

TEST_CASE("v4 packets cut into pieces of a few bytes arrive whole and byte-identical", "[seedlink][seedlink_client]") {
  const auto wlf = test::station_records("GE", "WLF", 6, 512, 1);
  const auto ape = test::station_records("GE", "APE", 3, 4096, 2);
  std::string stream;
  for (size_t i = 0; i < wlf.size(); ++i) {
    stream += test::v4_packet(1000 + i, "GE_WLF", wlf[i]);
    if (i < ape.size()) stream += test::v4_packet(7 + i, "GE_APE", ape[i]);
  }
  ScriptedSeedLinkServer server({[&](Connection& c) {
    test::serve_handshake(c);
    c.send_in_pieces(stream, 7);
    c.wait_closed(5s);
  }});
  SeedLinkClient client(options_for(server, {station("GE", "WLF"), station("GE", "APE")}));
  REQUIRE(client.connect().ok());
  const auto got = read_packets(client, 9);
  REQUIRE(got.size() == 9);
  size_t w = 0, a = 0;
  for (const auto& p : got) {
    CHECK(p.kind == SeedLinkPacketKind::kData);
    CHECK(p.format == '2');
    CHECK(p.subformat == 'D');
    if (p.station == "GE_WLF") {
      CHECK(p.sequence == 1000 + w);
      CHECK(p.payload == wlf[w++]);
    } else {
      REQUIRE(p.station == "GE_APE");
      CHECK(p.sequence == 7 + a);
      CHECK(p.payload == ape[a++]);
    }
  }
  CHECK(w == 6);
  CHECK(a == 3);
}

TEST_CASE("SeedLink 3 packets are read at their record's own length (blockette 1000), 512 bytes when it has none",
          "[seedlink][seedlink_client]") {
  const auto r512 = test::station_records("GE", "WLF", 2, 512, 1);
  const auto r4096 = test::station_records("GE", "WLF", 2, 4096, 2);
  const auto r256 = test::station_records("GE", "WLF", 2, 256, 3);
  auto no_b1000 = r512[1];
  no_b1000[46] = 0;  // no blockettes: the record length is SeedLink 3's 512
  no_b1000[47] = 0;
  const std::vector<std::vector<uint8_t>> records{r512[0], r4096[0], r256[0], r4096[1], no_b1000, r256[1]};
  std::string stream;
  for (size_t i = 0; i < records.size(); ++i) stream += test::v3_packet(0xFFFFFE + i, records[i]);
  SeedLinkHandshake h;
  h.v4 = false;
  ScriptedSeedLinkServer server({[&](Connection& c) {
    test::serve_handshake(c, h);
    c.send_in_pieces(stream, 300);
    c.wait_closed(5s);
  }});
  SeedLinkClient client(options_for(server, {station("GE", "WLF")}));
  REQUIRE(client.connect().ok());
  REQUIRE(client.protocol() == 3);
  const auto got = read_packets(client, records.size());
  REQUIRE(got.size() == records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    CHECK(got[i].kind == SeedLinkPacketKind::kData);
    CHECK(got[i].station == "GE_WLF");
    CHECK(got[i].sequence == ((0xFFFFFE + i) & 0xFFFFFF));  // 24 bits wrap
    CHECK(got[i].payload == records[i]);
  }
}

TEST_CASE("INFO packets not asked for are returned as INFO, and the answer to a keepalive is not returned",
          "[seedlink][seedlink_client]") {
  const auto records = test::station_records("GE", "WLF", 2);
  const auto info = test::info_record("<seedlink software=\"test\"/>");
  SECTION("SeedLink 3") {
    SeedLinkHandshake h;
    h.v4 = false;
    ScriptedSeedLinkServer server({[&](Connection& c) {
      test::serve_handshake(c, h);
      c.send(test::v3_packet(1, records[0]));
      if (c.read_command(3s) != "INFO ID") throw std::runtime_error("expected the keepalive");
      // The keepalive's answer, in two INFO packets; then an INFO nobody asked for, then data.
      c.send(test::v3_info_packet(true, info) + test::v3_info_packet(false, info));
      c.send(test::v3_info_packet(false, info) + test::v3_packet(2, records[1]));
      c.wait_closed(5s);
    }});
    auto o = options_for(server, {station("GE", "WLF")});
    o.keepalive_interval = 150ms;
    SeedLinkClient client(o);
    REQUIRE(client.connect().ok());
    const auto got = read_packets(client, 3);
    REQUIRE(got.size() == 3);
    CHECK(got[0].kind == SeedLinkPacketKind::kData);
    CHECK(got[1].kind == SeedLinkPacketKind::kInfo);
    CHECK(got[1].payload == info);
    CHECK(got[2].kind == SeedLinkPacketKind::kData);
    CHECK(got[2].payload == records[1]);
    CHECK(server.errors().empty());
  }
  SECTION("SeedLink 4") {
    ScriptedSeedLinkServer server({[&](Connection& c) {
      test::serve_handshake(c);
      if (c.read_command(3s) != "INFO ID") throw std::runtime_error("expected the keepalive");
      c.send(test::v4_json_packet('I', R"({"software":"test","organization":"x"})"));
      c.send(test::v4_json_packet('I', R"({"software":"unasked"})") + test::v4_packet(9, "GE_WLF", records[0]));
      c.wait_closed(5s);
    }});
    auto o = options_for(server, {station("GE", "WLF")});
    o.keepalive_interval = 150ms;
    SeedLinkClient client(o);
    REQUIRE(client.connect().ok());
    const auto got = read_packets(client, 2);
    REQUIRE(got.size() == 2);
    CHECK(got[0].kind == SeedLinkPacketKind::kInfo);
    CHECK(std::string(got[0].payload.begin(), got[0].payload.end()).find("unasked") != std::string::npos);
    CHECK(got[1].kind == SeedLinkPacketKind::kData);
    CHECK(got[1].sequence == 9);
    CHECK(server.errors().empty());
  }
}

TEST_CASE("a server that answers the keepalive with ERROR gets no more keepalives and the stream goes on",
          "[seedlink][seedlink_client]") {
  const auto records = test::station_records("GE", "WLF", 1);
  SeedLinkHandshake h;
  h.v4 = false;
  ScriptedSeedLinkServer server({[&](Connection& c) {
    test::serve_handshake(c, h);
    c.read_command(3s);  // INFO ID
    c.send("ERROR\r\n");
    std::this_thread::sleep_for(500ms);  // three keepalive intervals: none may come
    c.send(test::v3_packet(5, records[0]));
    c.wait_closed(5s);
  }});
  auto o = options_for(server, {station("GE", "WLF")});
  o.keepalive_interval = 150ms;
  SeedLinkClient client(o);
  REQUIRE(client.connect().ok());
  const auto got = read_packets(client, 1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].sequence == 5);
  client.close();
  REQUIRE(test::eventually_finished(server, 1));
  const auto commands = server.commands().at(0);
  CHECK(std::count(commands.begin(), commands.end(), "INFO ID") == 1);
}

TEST_CASE("END ends a dial-up feed: v3 asks with FETCH, v4 with DATA and ENDFETCH", "[seedlink][seedlink_client]") {
  const auto records = test::station_records("GE", "WLF", 2);
  for (const bool v4 : {false, true}) {
    SeedLinkHandshake h;
    h.v4 = v4;
    ScriptedSeedLinkServer server({[&](Connection& c) {
      test::serve_handshake(c, h);
      std::string out = v4 ? test::v4_packet(1, "GE_WLF", records[0]) + test::v4_packet(2, "GE_WLF", records[1])
                           : test::v3_packet(1, records[0]) + test::v3_packet(2, records[1]);
      c.send_in_pieces(out + "END", 100);
      c.wait_closed(5s);
    }});
    auto o = options_for(server, {station("GE", "WLF", {}, 1)});
    o.dial_up = true;
    SeedLinkClient client(o);
    REQUIRE(client.connect().ok());
    Status last;
    const auto got = read_packets(client, 4, &last);
    REQUIRE(got.size() == 3);
    CHECK(got[0].kind == SeedLinkPacketKind::kData);
    CHECK(got[1].kind == SeedLinkPacketKind::kData);
    CHECK(got[2].kind == SeedLinkPacketKind::kEnd);
    CHECK(last.code() == StatusCode::kUnavailable);  // nothing follows END
    client.close();
    REQUIRE(test::eventually_finished(server, 1));
    const auto commands = server.commands().at(0);
    if (v4) {
      CHECK(commands.at(commands.size() - 2) == "DATA 1");
      CHECK(commands.back() == "ENDFETCH");
    } else {
      CHECK(commands.at(commands.size() - 2) == "FETCH 000001");
      CHECK(commands.back() == "END");
    }
  }
}

TEST_CASE("a v4 error packet is returned as an error", "[seedlink][seedlink_client]") {
  ScriptedSeedLinkServer server({handshake_then_wait(
      {}, test::v4_json_packet('E', R"({"error":{"code":"UNSUPPORTED","message":"no such thing"}})"))});
  SeedLinkClient client(options_for(server, {station("GE", "WLF")}));
  REQUIRE(client.connect().ok());
  const auto got = read_packets(client, 1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].kind == SeedLinkPacketKind::kError);
  CHECK(std::string(got[0].payload.begin(), got[0].payload.end()).find("no such thing") != std::string::npos);
}

TEST_CASE("a closed connection gives Unavailable, a silent one DeadlineExceeded after idle_timeout, garbage "
          "Corruption",
          "[seedlink][seedlink_client]") {
  SECTION("closed") {
    ScriptedSeedLinkServer server({[](Connection& c) { test::serve_handshake(c); }});
    SeedLinkClient client(options_for(server, {station("GE", "WLF")}));
    REQUIRE(client.connect().ok());
    Status last;
    CHECK(read_packets(client, 1, &last).empty());
    CHECK(last.code() == StatusCode::kUnavailable);
    CHECK(last.message().find("closed the connection") != std::string::npos);
    CHECK_FALSE(client.connected());
  }
  SECTION("silent") {
    ScriptedSeedLinkServer server({handshake_then_wait({})});
    auto o = options_for(server, {station("GE", "WLF")});
    o.idle_timeout = 300ms;
    SeedLinkClient client(o);
    REQUIRE(client.connect().ok());
    Status last;
    CHECK(read_packets(client, 1, &last).empty());
    CHECK(last.code() == StatusCode::kDeadlineExceeded);
  }
  SECTION("garbage") {
    ScriptedSeedLinkServer server({handshake_then_wait({}, "XYZ not a packet")});
    SeedLinkClient client(options_for(server, {station("GE", "WLF")}));
    REQUIRE(client.connect().ok());
    Status last;
    CHECK(read_packets(client, 1, &last).empty());
    CHECK(last.code() == StatusCode::kCorruption);
  }
}

TEST_CASE("a payload over max_payload_bytes is refused, not buffered", "[seedlink][seedlink_client]") {
  const auto big = test::station_records("GE", "WLF", 1, 4096);
  ScriptedSeedLinkServer server({handshake_then_wait({}, test::v4_packet(1, "GE_WLF", big[0]))});
  auto o = options_for(server, {station("GE", "WLF")});
  o.max_payload_bytes = 1024;
  SeedLinkClient client(o);
  REQUIRE(client.connect().ok());
  Status last;
  CHECK(read_packets(client, 1, &last).empty());
  CHECK(last.code() == StatusCode::kCorruption);
}

TEST_CASE("v3 selectors become v4 selectors as libslink converts them", "[seedlink][seedlink_client]") {
  CHECK(seedlink_v4_selector("BHZ") == "*_B_H_Z");
  CHECK(seedlink_v4_selector("00BHZ") == "00_B_H_Z");
  CHECK(seedlink_v4_selector("--LHZ") == "_L_H_Z");
  CHECK(seedlink_v4_selector("EH?.D") == "*_E_H_?.?D");
  CHECK(seedlink_v4_selector("!LOG") == "!*_L_O_G");
  CHECK(seedlink_v4_selector("*_B_H_?.2D") == "*_B_H_?.2D");  // v4 already
  CHECK(seedlink_v4_selector("BH") == std::nullopt);
  CHECK(seedlink_v4_selector("0BHZ") == std::nullopt);
}

TEST_CASE("a miniSEED 2 record's length comes from its blockette 1000, in either byte order",
          "[seedlink][seedlink_client]") {
  const auto r = test::station_records("GE", "WLF", 1, 1024)[0];
  CHECK(miniseed2_record_length(r, 512) == 1024);
  CHECK(miniseed2_record_length(std::span(r).first(40), 512) == 0);  // not enough to tell
  auto garbage = r;
  garbage[6] = 'X';  // no quality indicator: not a record
  CHECK(miniseed2_record_length(garbage, 512) == -1);
  auto no_blockettes = r;
  no_blockettes[46] = no_blockettes[47] = 0;
  CHECK(miniseed2_record_length(no_blockettes, 512) == 512);
  const auto little = test::station_records("GE", "WLF", 1, 2048, 1, /*big_endian=*/false)[0];
  CHECK(miniseed2_record_length(little, 512) == 2048);
}

TEST_CASE("connect() gives up waiting for an answer when keep_waiting says stop", "[seedlink][seedlink_client]") {
  ScriptedSeedLinkServer server({[](Connection& c) { c.wait_closed(5s); }});  // never answers HELLO
  auto o = options_for(server, {station("GE", "WLF")});
  o.response_timeout = 10s;
  const auto stop_at = std::chrono::steady_clock::now() + 200ms;
  o.keep_waiting = [&] { return std::chrono::steady_clock::now() < stop_at; };
  SeedLinkClient client(o);
  const auto started = std::chrono::steady_clock::now();
  const Status s = client.connect();
  CHECK(s.code() == StatusCode::kCancelled);
  CHECK(std::chrono::steady_clock::now() - started < 2s);
}
