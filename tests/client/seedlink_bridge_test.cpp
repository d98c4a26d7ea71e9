// SeedLinkBridge: a scripted SeedLink server on 127.0.0.1 as the station
// side, AckPeer (a real ZeroMQ ROUTER in the test process) as SeisVault.
// The resume state advances only over acknowledged records, survives a
// restart without losing or resending acknowledged records, each station
// resumes from its own point, a dropped SeedLink connection is resumed,
// SeisVault being slow stops the reading. Also `seisvault push
// --from-seedlink` run as the real program. Every test ends by itself.
#include <catch2/catch.hpp>

#include <signal.h>

#include <chrono>
#include <fstream>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <zmq.hpp>

#include "ack_peer.h"
#include "seedlink_script_server.h"
#include "seisvault/client/seedlink_bridge.h"
#include "support/process.h"
#include "support/temp_dir.h"

using namespace seisvault;
using namespace seisvault::client;
using namespace std::chrono_literals;
using seisvault::test::AckPeer;
using seisvault::test::AckPeerOptions;
using seisvault::test::ScriptedSeedLinkServer;
using seisvault::test::SeedLinkHandshake;
using Connection = seisvault::test::ScriptedSeedLinkServer::Connection;
using Clock = std::chrono::steady_clock;
using seisvault::test::read_text;
using seisvault::test::unused_endpoint;
namespace fs = std::filesystem;

namespace {

SeedLinkStationRequest station(std::string net, std::string sta) {
  SeedLinkStationRequest r;
  r.network = std::move(net);
  r.station = std::move(sta);
  return r;
}

// Stops run() when `done` holds or the time limit passes.
struct Until {
  std::function<bool()> done;
  Clock::time_point deadline = Clock::now() + 10s;
  void set(std::function<bool()> d, std::chrono::milliseconds limit = 10s) {
    done = std::move(d);
    deadline = Clock::now() + limit;
  }
  bool keep_running() const { return Clock::now() < deadline && !(done && done()); }
};

struct Fixture {
  test::TempDir dir;
  fs::path spool = dir.path() / "spool";
  Until until;
  std::vector<std::string> messages;

  SeedLinkBridgeOptions options(const ScriptedSeedLinkServer& server, const std::string& endpoint,
                                std::vector<SeedLinkStationRequest> stations = {station("GE", "WLF")}) {
    SeedLinkBridgeOptions o;
    o.seedlink.host = "127.0.0.1";
    o.seedlink.port = server.port();
    o.seedlink.stations = std::move(stations);
    o.seedlink.connect_timeout = 2s;
    o.seedlink.response_timeout = 2s;
    o.seedlink.keepalive_interval = 0ms;
    o.seedlink.idle_timeout = 10s;
    o.push.endpoint = endpoint;
    o.push.spool_dir = spool;
    o.push.max_batch_records = 5;
    o.push.max_batch_delay = 50ms;
    o.push.ack_timeout = 2s;
    o.push.reconnect_interval = 50ms;
    o.push.reconnect_interval_max = 200ms;
    o.push.on_connection = [](ConnectionState, std::string_view) {};
    o.reconnect_interval = 50ms;
    o.reconnect_interval_max = 200ms;
    o.keep_running = [this] { return until.keep_running(); };
    o.on_message = [this](std::string_view m, bool) { messages.emplace_back(m); };
    return o;
  }
  fs::path state_file() const { return spool / "seedlink.state"; }
};

std::string v4_stream(const std::vector<std::vector<uint8_t>>& records, uint64_t first, std::string_view id,
                      size_t from = 0, size_t to = SIZE_MAX) {
  std::string out;
  for (size_t i = from; i < std::min(to, records.size()); ++i) out += test::v4_packet(first + i, id, records[i]);
  return out;
}

// Captures what a connection's handshake asked for, for the test thread.
struct Captured {
  std::mutex mutex;
  std::vector<test::SeedLinkRequest> requests;
  void add(test::SeedLinkRequest r) {
    std::lock_guard lock(mutex);
    requests.push_back(std::move(r));
  }
  size_t size() {
    std::lock_guard lock(mutex);
    return requests.size();
  }
  test::SeedLinkRequest at(size_t i) {
    std::lock_guard lock(mutex);
    return requests.at(i);
  }
};

}  // namespace

TEST_CASE("the resume state does not pass records SeisVault has not acknowledged, and passes them once it has",
          "[seedlink][seedlink_bridge]") {
  Fixture f;
  AckPeerOptions po;
  po.hold_all = true;
  AckPeer peer(po);
  const auto records = test::station_records("GE", "WLF", 20);
  ScriptedSeedLinkServer server({[&](Connection& c) {
    test::serve_handshake(c);
    c.send(v4_stream(records, 101, "GE_WLF"));
    c.wait_closed(20s);
  }});
  auto bridge = SeedLinkBridge::open(f.options(server, peer.endpoint()));
  REQUIRE(bridge.ok());

  f.until.set([&] { return bridge->stats().records_added == 20 && peer.seen().batch_ids.size() >= 4; });
  REQUIRE(bridge->run().ok());
  REQUIRE(bridge->stats().records_added == 20);
  // Only the anchor: the packet before the first one received.
  CHECK(bridge->acknowledged("GE_WLF") == SeedLinkResumePoint{4, 100});
  const std::string anchored = read_text(f.state_file());
  CHECK(anchored.find(fmt::format("{} GE_WLF 4 100\n", server.address())) != std::string::npos);

  peer.release();
  f.until.set([&] { return bridge->acknowledged("GE_WLF") == SeedLinkResumePoint{4, 120}; });
  REQUIRE(bridge->run().ok());
  CHECK(bridge->acknowledged("GE_WLF") == SeedLinkResumePoint{4, 120});
  CHECK(read_text(f.state_file()).find(fmt::format("{} GE_WLF 4 120\n", server.address())) != std::string::npos);
}

TEST_CASE("with acks out of order a station's resume point stops before its first unacknowledged record",
          "[seedlink][seedlink_bridge]") {
  Fixture f;
  AckPeerOptions po;
  po.drop_first = 1;  // the first batch (101..105) is answered only when resent, after ack_timeout
  AckPeer peer(po);
  const auto records = test::station_records("GE", "WLF", 20);
  ScriptedSeedLinkServer server({[&](Connection& c) {
    test::serve_handshake(c);
    c.send(v4_stream(records, 101, "GE_WLF"));
    c.wait_closed(20s);
  }});
  auto o = f.options(server, peer.endpoint());
  o.push.ack_timeout = 1500ms;
  auto bridge = SeedLinkBridge::open(std::move(o));
  REQUIRE(bridge.ok());

  f.until.set([&] { return bridge->push_client().stats().records_acked() >= 15; });
  REQUIRE(bridge->run().ok());
  REQUIRE(bridge->push_client().stats().records_acked() == 15);  // 106..120
  CHECK(bridge->acknowledged("GE_WLF") == SeedLinkResumePoint{4, 100});

  f.until.set([&] { return bridge->acknowledged("GE_WLF") == SeedLinkResumePoint{4, 120}; });
  REQUIRE(bridge->run().ok());
  CHECK(bridge->acknowledged("GE_WLF") == SeedLinkResumePoint{4, 120});
  CHECK(bridge->push_client().stats().batches_resent >= 1);
}

TEST_CASE("each station resumes from its own state point: v4 DATA <last+1> in decimal, v3 in 6 hex digits",
          "[seedlink][seedlink_bridge]") {
  Fixture f;
  AckPeer peer(AckPeerOptions{});
  Captured captured;
  const auto records = test::station_records("GE", "WLF", 1);
  const auto stations = std::vector<SeedLinkStationRequest>{station("GE", "WLF"), station("GE", "APE")};
  const auto write_state = [&](const std::string& address, const std::string& lines) {
    fs::create_directories(f.spool);
    std::ofstream(f.state_file()) << "# written by the test\n"
                                  << lines << "other.example.org:18000 GE_WLF 4 77\n";
    (void)address;
  };

  SECTION("SeedLink 4") {
    ScriptedSeedLinkServer server({[&](Connection& c) {
      captured.add(test::serve_handshake(c));
      c.send(test::v4_packet(1001, "GE_WLF", records[0]));
      c.wait_closed(10s);
    }});
    write_state(server.address(), fmt::format("{0} GE_WLF 4 1000\n{0} GE_APE 4 5\n", server.address()));
    auto bridge = SeedLinkBridge::open(f.options(server, peer.endpoint(), stations));
    REQUIRE(bridge.ok());
    f.until.set([&] { return bridge->acknowledged("GE_WLF") == SeedLinkResumePoint{4, 1001}; });
    REQUIRE(bridge->run().ok());
    REQUIRE(captured.size() == 1);
    const auto r = captured.at(0);
    CHECK(r.v4);
    CHECK(r.data.at("GE_WLF") == "DATA 1001");
    CHECK(r.data.at("GE_APE") == "DATA 6");
    // The rewritten state keeps the other stations and the other server's line.
    const std::string text = read_text(f.state_file());
    CHECK(text.find(fmt::format("{} GE_WLF 4 1001\n", server.address())) != std::string::npos);
    CHECK(text.find(fmt::format("{} GE_APE 4 5\n", server.address())) != std::string::npos);
    CHECK(text.find("other.example.org:18000 GE_WLF 4 77\n") != std::string::npos);
  }
  SECTION("SeedLink 3 server, SeedLink 4 points: their low 24 bits") {
    SeedLinkHandshake h;
    h.v4 = false;
    ScriptedSeedLinkServer server({[&](Connection& c) {
      captured.add(test::serve_handshake(c, h));
      c.wait_closed(10s);
    }});
    write_state(server.address(), fmt::format("{0} GE_WLF 4 {1}\n{0} GE_APE 4 5\n", server.address(), 0x71000003E8));
    auto bridge = SeedLinkBridge::open(f.options(server, peer.endpoint(), stations));
    REQUIRE(bridge.ok());
    f.until.set([&] { return captured.size() == 1; });
    REQUIRE(bridge->run().ok());
    REQUIRE(captured.size() == 1);
    CHECK(captured.at(0).data.at("GE_WLF") == "DATA 0003E9");
    CHECK(captured.at(0).data.at("GE_APE") == "DATA 000006");
  }
  SECTION("a SeedLink 3 point keeps the bridge on SeedLink 3 with a server that offers 4") {
    ScriptedSeedLinkServer server({[&](Connection& c) {
      captured.add(test::serve_handshake(c));
      c.wait_closed(10s);
    }});
    write_state(server.address(), fmt::format("{0} GE_WLF 3 255\n{0} GE_APE 4 5\n", server.address()));
    auto bridge = SeedLinkBridge::open(f.options(server, peer.endpoint(), stations));
    REQUIRE(bridge.ok());
    f.until.set([&] { return captured.size() == 1; });
    REQUIRE(bridge->run().ok());
    REQUIRE(captured.size() == 1);
    CHECK_FALSE(captured.at(0).v4);
    CHECK(captured.at(0).data.at("GE_WLF") == "DATA 000100");
    CHECK(captured.at(0).data.at("GE_APE") == "DATA 000006");
  }
}

TEST_CASE("after the SeedLink server drops the connection the bridge reconnects and resumes after the last packet "
          "it received, sending nothing twice",
          "[seedlink][seedlink_bridge]") {
  Fixture f;
  AckPeer peer(AckPeerOptions{});
  Captured captured;
  const auto records = test::station_records("GE", "WLF", 10);
  ScriptedSeedLinkServer server({[&](Connection& c) {
                                   captured.add(test::serve_handshake(c));
                                   c.send(v4_stream(records, 101, "GE_WLF", 0, 5));
                                   c.wait_closed(200ms);  // then drop it
                                 },
                                 [&](Connection& c) {
                                   captured.add(test::serve_handshake(c));
                                   c.send(v4_stream(records, 101, "GE_WLF", 5, 10));
                                   c.wait_closed(10s);
                                 }});
  auto bridge = SeedLinkBridge::open(f.options(server, peer.endpoint()));
  REQUIRE(bridge.ok());
  f.until.set([&] { return bridge->acknowledged("GE_WLF") == SeedLinkResumePoint{4, 110}; });
  REQUIRE(bridge->run().ok());
  CHECK(bridge->acknowledged("GE_WLF") == SeedLinkResumePoint{4, 110});
  REQUIRE(captured.size() == 2);
  CHECK(captured.at(0).data.at("GE_WLF") == "DATA");
  CHECK(captured.at(1).data.at("GE_WLF") == "DATA 106");
  CHECK(bridge->stats().connections == 2);
  CHECK(bridge->stats().connection_failures >= 1);
  const auto seen = peer.seen();
  CHECK(seen.records_stored == 10);
  CHECK(seen.store_attempts == 10);
  const bool logged = std::any_of(f.messages.begin(), f.messages.end(), [](const std::string& m) {
    return m.find("connection lost") != std::string::npos && m.find("reconnecting in") != std::string::npos;
  });
  CHECK(logged);
}

TEST_CASE("failed connection attempts are retried with a growing delay, each one reported with its cause",
          "[seedlink][seedlink_bridge]") {
  Fixture f;
  AckPeer peer(AckPeerOptions{});
  uint16_t port = 0;
  {
    ScriptedSeedLinkServer gone({[](Connection&) {}});
    port = gone.port();
  }
  ScriptedSeedLinkServer placeholder({[](Connection&) {}});
  auto o = f.options(placeholder, peer.endpoint());
  o.seedlink.port = port;  // nobody listens there
  o.max_connect_attempts = 3;
  auto bridge = SeedLinkBridge::open(std::move(o));
  REQUIRE(bridge.ok());
  const Status s = bridge->run();
  CHECK(s.code() == StatusCode::kUnavailable);
  CHECK(bridge->stats().connection_failures == 3);
  REQUIRE(f.messages.size() >= 3);
  CHECK(f.messages[0].find("connection attempt 1 failed: cannot connect to 127.0.0.1:") != std::string::npos);
  CHECK(f.messages[0].find("next attempt in") != std::string::npos);
  CHECK(f.messages[2].find("connection attempt 3 failed") != std::string::npos);
}

TEST_CASE("a restart resumes from the state file without losing or resending acknowledged records",
          "[seedlink][seedlink_bridge]") {
  Fixture f;
  AckPeer peer(AckPeerOptions{});
  Captured captured;
  const auto records = test::station_records("GE", "WLF", 15);
  ScriptedSeedLinkServer server({[&](Connection& c) {
                                   captured.add(test::serve_handshake(c));
                                   c.send(v4_stream(records, 501, "GE_WLF", 0, 10));
                                   c.wait_closed(10s);
                                 },
                                 [&](Connection& c) {
                                   captured.add(test::serve_handshake(c));
                                   c.send(v4_stream(records, 501, "GE_WLF", 10, 15));
                                   c.wait_closed(10s);
                                 }});
  {
    auto bridge = SeedLinkBridge::open(f.options(server, peer.endpoint()));
    REQUIRE(bridge.ok());
    f.until.set([&] { return bridge->stats().records_added == 10; });
    REQUIRE(bridge->run().ok());
    REQUIRE(bridge->finish(5s).ok());
    CHECK(bridge->acknowledged("GE_WLF") == SeedLinkResumePoint{4, 510});
  }
  CHECK(read_text(f.state_file()).find(fmt::format("{} GE_WLF 4 510\n", server.address())) != std::string::npos);
  {
    auto bridge = SeedLinkBridge::open(f.options(server, peer.endpoint()));
    REQUIRE(bridge.ok());
    f.until.set([&] { return bridge->acknowledged("GE_WLF") == SeedLinkResumePoint{4, 515}; });
    REQUIRE(bridge->run().ok());
    REQUIRE(bridge->finish(5s).ok());
  }
  REQUIRE(captured.size() == 2);
  CHECK(captured.at(0).data.at("GE_WLF") == "DATA");
  CHECK(captured.at(1).data.at("GE_WLF") == "DATA 511");
  const auto seen = peer.seen();
  CHECK(seen.records_stored == 15);
  CHECK(seen.store_attempts == 15);  // nothing sent twice
}

TEST_CASE("records read while SeisVault is down reach it when it is back, from the spool and again from the "
          "SeedLink server, and none is lost",
          "[seedlink][seedlink_bridge]") {
  Fixture f;
  const std::string endpoint = unused_endpoint();
  Captured captured;
  const auto records = test::station_records("GE", "WLF", 12);
  ScriptedSeedLinkServer server({[&](Connection& c) {
                                   captured.add(test::serve_handshake(c));
                                   c.send(v4_stream(records, 101, "GE_WLF", 0, 10));
                                   c.wait_closed(10s);
                                 },
                                 [&](Connection& c) {
                                   // The server still has them all in its buffer.
                                   const auto r = test::serve_handshake(c);
                                   captured.add(r);
                                   c.send(v4_stream(records, 101, "GE_WLF", 0, 12));
                                   c.wait_closed(10s);
                                 }});
  {
    auto bridge = SeedLinkBridge::open(f.options(server, endpoint));
    REQUIRE(bridge.ok());
    f.until.set([&] { return bridge->stats().records_added == 10; });
    REQUIRE(bridge->run().ok());
    CHECK(bridge->finish(300ms).code() == StatusCode::kDeadlineExceeded);
    CHECK(bridge->acknowledged("GE_WLF") == SeedLinkResumePoint{4, 100});  // the anchor only
  }
  AckPeerOptions po;
  po.endpoint = endpoint;
  AckPeer peer(po);
  {
    auto bridge = SeedLinkBridge::open(f.options(server, endpoint));
    REQUIRE(bridge.ok());
    f.until.set([&] { return bridge->acknowledged("GE_WLF") == SeedLinkResumePoint{4, 112}; });
    REQUIRE(bridge->run().ok());
    CHECK(bridge->push_client().stats().records_recovered == 10);
  }
  REQUIRE(captured.size() == 2);
  CHECK(captured.at(1).data.at("GE_WLF") == "DATA 101");
  CHECK(peer.seen().records_stored == 12);
}

TEST_CASE("while SeisVault holds its acks the bridge stops reading the SeedLink socket, then catches up",
          "[seedlink][seedlink_bridge]") {
  Fixture f;
  AckPeerOptions po;
  po.hold_all = true;
  AckPeer peer(po);
  const auto records = test::station_records("GE", "WLF", 200);
  Captured captured;
  ScriptedSeedLinkServer server({[&](Connection& c) {
    // Serves from the sequence asked for, like a real server.
    const auto r = test::serve_handshake(c);
    captured.add(r);
    const std::string data = r.data.at("GE_WLF");
    const size_t from = data == "DATA" ? 0 : std::stoul(data.substr(5)) - 1;
    c.send(v4_stream(records, 1, "GE_WLF", from));
    c.wait_closed(20s);
  }});
  auto o = f.options(server, peer.endpoint());
  o.push.max_in_flight = 2;
  auto bridge = SeedLinkBridge::open(std::move(o));
  REQUIRE(bridge.ok());
  const auto stop_at = Clock::now() + 1s;
  f.until.set([&] { return Clock::now() >= stop_at; });
  REQUIRE(bridge->run().ok());
  // Two batches of 5 in flight, 5 in the next batch, and the packet waiting in add().
  const uint64_t added_first = bridge->stats().records_added;
  CHECK(added_first <= 15);
  CHECK(bridge->stats().packets <= 16);

  peer.release();
  f.until.set([&] { return bridge->acknowledged("GE_WLF") == SeedLinkResumePoint{4, 200}; }, 20s);
  REQUIRE(bridge->run().ok());
  CHECK(bridge->stats().records_added == 200);
  CHECK(peer.seen().records_stored == 200);
  CHECK(peer.seen().store_attempts == 200);
  // The packet waiting in add() when the first run() stopped was not
  // queued: the next connection asked for it again.
  REQUIRE(captured.size() == 2);
  CHECK(captured.at(1).data.at("GE_WLF") == fmt::format("DATA {}", added_first + 1));
}

TEST_CASE("SeedLink 3 records of other lengths are pushed byte-identical and the state holds 24-bit sequences",
          "[seedlink][seedlink_bridge]") {
  Fixture f;
  AckPeer peer(AckPeerOptions{});
  const auto records = test::station_records("GE", "WLF", 6, 4096);
  SeedLinkHandshake h;
  h.v4 = false;
  ScriptedSeedLinkServer server({[&](Connection& c) {
    test::serve_handshake(c, h);
    std::string out;
    for (size_t i = 0; i < records.size(); ++i) out += test::v3_packet(0xFFFFFD + i, records[i]);
    c.send_in_pieces(out, 1000);
    c.wait_closed(10s);
  }});
  std::vector<std::vector<uint8_t>> pushed;
  auto o = f.options(server, peer.endpoint());
  o.push.on_result = [&](const RecordOutcome& r) { pushed.emplace_back(r.record.begin(), r.record.end()); };
  auto bridge = SeedLinkBridge::open(std::move(o));
  REQUIRE(bridge.ok());
  f.until.set([&] { return pushed.size() == records.size() && bridge->acknowledged("GE_WLF") ==
                                                                  SeedLinkResumePoint{3, 2}; });
  REQUIRE(bridge->run().ok());
  CHECK(pushed == records);
  CHECK(read_text(f.state_file()).find(fmt::format("{} GE_WLF 3 2\n", server.address())) != std::string::npos);
}

TEST_CASE("packets that are not miniSEED are not pushed, and the resume point moves over them",
          "[seedlink][seedlink_bridge]") {
  Fixture f;
  AckPeer peer(AckPeerOptions{});
  const auto records = test::station_records("GE", "WLF", 2);
  const std::vector<uint8_t> xml{'<', 'x', '/', '>'};
  ScriptedSeedLinkServer server({[&](Connection& c) {
    test::serve_handshake(c);
    c.send(test::v4_packet(11, "GE_WLF", records[0]) + test::v4_packet(12, "GE_WLF", xml, 'X', 'D') +
           test::v4_json_packet('I', R"({"software":"x"})") + test::v4_packet(13, "GE_WLF", records[1]) +
           test::v4_packet(14, "GE_WLF", xml, 'X', 'D'));
    c.wait_closed(10s);
  }});
  auto bridge = SeedLinkBridge::open(f.options(server, peer.endpoint()));
  REQUIRE(bridge.ok());
  f.until.set([&] { return bridge->acknowledged("GE_WLF") == SeedLinkResumePoint{4, 14}; });
  REQUIRE(bridge->run().ok());
  CHECK(bridge->stats().records_added == 2);
  CHECK(bridge->stats().skipped_packets == 2);
  CHECK(bridge->stats().info_packets == 1);
  CHECK(peer.seen().records_stored == 2);
}

TEST_CASE("a state file line that does not parse stops the bridge from starting", "[seedlink][seedlink_bridge]") {
  Fixture f;
  AckPeer peer(AckPeerOptions{});
  ScriptedSeedLinkServer server({[](Connection&) {}});
  fs::create_directories(f.spool);
  std::ofstream(f.state_file()) << "127.0.0.1:1 GE_WLF 4 12x\n";
  auto bridge = SeedLinkBridge::open(f.options(server, peer.endpoint()));
  REQUIRE_FALSE(bridge.ok());
  CHECK(bridge.status().code() == StatusCode::kCorruption);
  CHECK(bridge.status().message().find("line 1") != std::string::npos);
}

TEST_CASE("the --streams list gives stations with their selectors", "[seedlink][seedlink_bridge]") {
  auto s = parse_seedlink_streams("GE_WLF:BHZ+HHZ,GE_APE, IU_ANMO:00BH?.D 10LH?");
  REQUIRE(s.ok());
  REQUIRE(s->size() == 3);
  CHECK((*s)[0].id() == "GE_WLF");
  CHECK((*s)[0].selectors == std::vector<std::string>{"BHZ", "HHZ"});
  CHECK((*s)[1].id() == "GE_APE");
  CHECK((*s)[1].selectors.empty());
  CHECK((*s)[2].selectors == std::vector<std::string>{"00BH?.D", "10LH?"});
  CHECK(parse_seedlink_streams("GE_*").status().code() == StatusCode::kInvalidArgument);
  CHECK(parse_seedlink_streams("WLF").status().code() == StatusCode::kInvalidArgument);
  CHECK(parse_seedlink_streams("GE_WLF:").status().code() == StatusCode::kInvalidArgument);
  CHECK(parse_seedlink_streams("GE_WLF,GE_WLF:BHZ").status().code() == StatusCode::kInvalidArgument);
  CHECK(parse_seedlink_streams("GE_WLF:BH;Z").status().code() == StatusCode::kInvalidArgument);
  CHECK(parse_seedlink_streams("").status().code() == StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------
// The real program.

namespace {

const std::string kTool = std::string(SEISVAULT_BINARY_DIR) + "/client/seisvault";

test::ToolRun run_tool(const test::TempDir& dir, const std::string& args) { return test::run_seisvault(dir.path(), args); }

}  // namespace

TEST_CASE("`seisvault push --from-seedlink --fetch` pulls a dial-up feed to its END, delivers it, writes the "
          "resume state and exits 0",
          "[seedlink][seedlink_bridge][cli]") {
  Fixture f;
  AckPeer peer(AckPeerOptions{});
  Captured captured;
  const auto records = test::station_records("GE", "WLF", 5);
  ScriptedSeedLinkServer server({[&](Connection& c) {
    captured.add(test::serve_handshake(c));
    c.send(v4_stream(records, 1, "GE_WLF") + "END");
    c.wait_closed(30s);
  }});
  const auto r = run_tool(f.dir, fmt::format("push --from-seedlink {} --streams GE_WLF:HHZ --server {} --insecure "
                                            "--spool {} --fetch",
                                            server.address(), peer.endpoint(), f.spool.string()));
  INFO(r.output);
  CHECK(r.code == 0);
  CHECK(r.output.find("5 records") != std::string::npos);
  CHECK(r.output.find("GE_WLF resumes after sequence 5 (SeedLink 4)") != std::string::npos);
  CHECK(peer.seen().records_stored == 5);
  REQUIRE(captured.size() == 1);
  CHECK(captured.at(0).end == "ENDFETCH");
  CHECK(captured.at(0).selects.at("GE_WLF") == std::vector<std::string>{"*_H_H_Z"});
  CHECK(read_text(f.state_file()).find(fmt::format("{} GE_WLF 4 5\n", server.address())) != std::string::npos);
}

TEST_CASE("`seisvault push --from-seedlink` without --spool, without --streams or with PATH is a usage error",
          "[seedlink][seedlink_bridge][cli]") {
  test::TempDir dir;
  CHECK(run_tool(dir, "push --from-seedlink 127.0.0.1:1 --streams GE_WLF --server tcp://127.0.0.1:1 --insecure")
            .code == 2);
  CHECK(run_tool(dir, "push --from-seedlink 127.0.0.1:1 --server tcp://127.0.0.1:1 --insecure --spool " +
                          (dir.path() / "s").string())
            .code == 2);
  CHECK(run_tool(dir, "push --from-seedlink 127.0.0.1:1 --streams GE_WLF --server tcp://127.0.0.1:1 --insecure "
                      "--spool " +
                          (dir.path() / "s").string() + " somefile.mseed")
            .code == 2);
  CHECK(run_tool(dir, "push --from-seedlink 127.0.0.1:1 --streams 'GE_*' --server tcp://127.0.0.1:1 --insecure "
                      "--spool " +
                          (dir.path() / "s").string())
            .code == 2);
}

TEST_CASE("`seisvault push --from-seedlink` streams until SIGTERM, then delivers what it read, writes the resume "
          "state and exits 0",
          "[seedlink][seedlink_bridge][cli]") {
  Fixture f;
  AckPeer peer(AckPeerOptions{});
  const auto records = test::station_records("GE", "WLF", 7);
  ScriptedSeedLinkServer server({[&](Connection& c) {
    test::serve_handshake(c);
    c.send(v4_stream(records, 1, "GE_WLF"));
    c.wait_closed(30s);
  }});
  const auto log = f.dir.path() / "bridge.log";
  test::ChildProcess bridge({kTool, "push", "--from-seedlink", server.address(), "--streams", "GE_WLF", "--server",
                             peer.endpoint(), "--insecure", "--spool", f.spool.string()},
                            log);
  REQUIRE(test::eventually([&] { return peer.seen().records_stored == 7; }, 10s));
  bridge.signal(SIGTERM);
  const auto code = bridge.wait(10s);
  const std::string output = test::read_text(log);
  INFO(output);
  REQUIRE(code.has_value());
  CHECK(*code == 0);
  CHECK(output.find("GE_WLF resumes after sequence 7 (SeedLink 4)") != std::string::npos);
  CHECK(read_text(f.state_file()).find(fmt::format("{} GE_WLF 4 7\n", server.address())) != std::string::npos);
}
