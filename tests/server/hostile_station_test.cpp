// Hostile or broken stations against a real seisvaultd (CURVE on loopback):
// crafted records, oversized frames, a station that never reads its acks,
// too many connections, a hand-edited station list with a mistake. Each
// gets a clear answer (or its connection closed), never costs the server
// more than a stated share, and never stops another station's push.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include "seisvault/common/station_access_list.h"
#include "seisvault/proto/waveform.grpc.pb.h"
#include "support/process.h"
#include "support/record_factory.h"
#include "support/server_data.h"
#include "support/server_process.h"
#include "support/temp_dir.h"
#include "support/test_station.h"

using namespace seisvault;
using namespace seisvault::test;
namespace v1 = seisvault::ingest::v1;
namespace wv = seisvault::waveform::v1;

namespace {

// A fresh data directory with a server key, the listed keys authorized.
void prepare(const std::filesystem::path& dir, const std::vector<std::pair<CurveKeyPair, std::string>>& keys) {
  { ServerProcess probe(dir); REQUIRE(probe.stop() == 0); }
  for (const auto& [k, pattern] : keys) authorize_key(dir, k, {pattern});
}

size_t count_status(const v1::IngestAck& ack, v1::RecordStatus s) {
  size_t n = 0;
  for (const auto& r : ack.results()) n += r.status() == s;
  return n;
}

// Pushes `records` in batches of `per_batch` and returns how many were
// stored or already there.
size_t push_all(TestStation& station, const std::vector<std::vector<uint8_t>>& records, size_t per_batch,
                uint64_t first_batch_id = 1) {
  size_t done = 0;
  for (size_t i = 0; i < records.size(); i += per_batch) {
    std::vector<std::vector<uint8_t>> part(records.begin() + i, records.begin() + std::min(records.size(), i + per_batch));
    if (auto ack = station.call(TestStation::make_batch(first_batch_id++, part), std::chrono::seconds(30))) {
      done += count_status(*ack, v1::STORED) + count_status(*ack, v1::DUPLICATE);
    }
  }
  return done;
}

void put_be16(std::vector<uint8_t>& r, size_t at, uint16_t v) {
  r[at] = static_cast<uint8_t>(v >> 8);
  r[at + 1] = static_cast<uint8_t>(v);
}

// The server's resident memory (MiB), from /proc.
double rss_mib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:") {
      double kib = 0;
      in >> kib;
      return kib / 1024;
    }
    std::string rest;
    std::getline(in, rest);
  }
  return 0;
}

}  // namespace

TEST_CASE("records with hostile blockette chains, pushed to a running server, are rejected and never stored",
          "[server][ingest][hostile]") {
  TempDir tmp;
  const auto keys = new_station_keys();
  prepare(tmp.path(), {{keys, "XX.TEST"}});
  ServerProcess server(tmp.path());
  TestStation station(server.endpoint(), server.public_key(), keys);

  // A real record with room left in its last frames for a crafted blockette
  // (100 samples of Steim-2 in 512 bytes; blockettes 1000 at 48, 1001 at 56).
  const auto base = station_records("TEST", 100, 7).front();
  REQUIRE(base.size() == 512);
  std::vector<std::vector<uint8_t>> hostile;
  for (uint16_t length : {1, 3}) {  // blockette 2000 of length 1 and 3: libmseed copied ~64 KiB from here
    auto r = base;
    put_be16(r, 58, 448);
    put_be16(r, 448, 2000);
    put_be16(r, 450, 0);
    put_be16(r, 452, length);
    hostile.push_back(r);
  }
  auto exponent = base;
  const size_t b1000 = (base[48] << 8 | base[49]) == 1000 ? 48 : 56;
  exponent[b1000 + 6] = 41;  // 2^41 bytes, taken as 512 by libmseed
  hostile.push_back(exponent);
  auto tail = base;
  put_be16(tail, 58, 510);  // a blockette header in the last 2 bytes
  hostile.push_back(tail);

  const auto good = station_records("TEST", 3000, 8, *parse_iso8601("2024-05-01T00:00:00Z"));
  std::vector<std::vector<uint8_t>> batch = {good[0]};
  batch.insert(batch.end(), hostile.begin(), hostile.end());
  batch.push_back(good[1]);
  auto ack = station.call(TestStation::make_batch(1, batch));
  REQUIRE(ack);
  REQUIRE(ack->results_size() == static_cast<int>(batch.size()));
  CHECK(ack->results(0).status() == v1::STORED);
  for (size_t i = 1; i <= hostile.size(); ++i) {
    INFO("hostile record " << i << ": " << ack->results(static_cast<int>(i)).message());
    CHECK(ack->results(static_cast<int>(i)).status() == v1::REJECTED);
    CHECK(ack->results(static_cast<int>(i)).reason() == v1::BAD_BLOCKETTES);
  }
  CHECK(ack->results(static_cast<int>(batch.size() - 1)).status() == v1::STORED);
  REQUIRE(server.stop() == 0);
  CHECK((stored_records(tmp.path()) == std::multiset<std::vector<uint8_t>>{good[0], good[1]}));
}

TEST_CASE("a station code with a NUL byte is not taken for the station before the NUL", "[server][ingest][hostile]") {
  TempDir tmp;
  const auto keys = new_station_keys();
  prepare(tmp.path(), {{keys, "XX.AN"}});
  ServerProcess server(tmp.path());
  TestStation station(server.endpoint(), server.public_key(), keys);
  auto rec = station_records("ANXMO", 100).front();
  REQUIRE(std::string(rec.begin() + 8, rec.begin() + 13) == "ANXMO");
  rec[10] = 0;  // "AN\0MO"
  auto ack = station.call(TestStation::make_batch(1, {rec}));
  REQUIRE(ack);
  CHECK(ack->results(0).status() == v1::REJECTED);
  CHECK(ack->results(0).reason() == v1::NOT_AUTHORIZED);
  CHECK_THAT(ack->results(0).message(), Catch::Contains("AN\\x00MO"));
  REQUIRE(server.stop() == 0);
  CHECK(stored_records(tmp.path()).empty());
}

TEST_CASE("a frame over the batch limit is answered OVERSIZED_BATCH unread; one over the message limit closes only "
          "its connection",
          "[server][ingest][hostile]") {
  TempDir tmp;
  const auto big = new_station_keys(), good = new_station_keys();
  prepare(tmp.path(), {{big, "XX.BIG"}, {good, "XX.GOOD"}});
  ServerProcess server(tmp.path(), "tcp://127.0.0.1:*", {"--max-batch-bytes", "65536"});

  TestStation station(server.endpoint(), server.public_key(), big);
  // 100 KiB: over the batch limit, within the message limit (twice it). The
  // frame starts like a batch (protocol version 1, batch id 77) and then is
  // garbage: had it been parsed, the answer would be MALFORMED.
  std::string frame("\x08\x01\x10\x4d", 4);
  frame.resize(100 * 1024, '\xff');
  station.send_raw({frame});
  auto ack = station.receive(std::chrono::seconds(10));
  REQUIRE(ack);
  CHECK(ack->error() == v1::OVERSIZED_BATCH);
  CHECK(ack->batch_id() == 77);
  CHECK(ack->limits().max_batch_bytes() == 65536);
  CHECK_THAT(ack->error_message(), Catch::Contains("limit of 65536 bytes"));

  // 1 MiB: over the message limit; ZeroMQ drops it with the connection.
  station.send_raw({std::string(1 << 20, 'x')});
  CHECK_FALSE(station.receive(std::chrono::seconds(2)));

  TestStation other(server.endpoint(), server.public_key(), good);
  const auto records = station_records("GOOD", 20000);
  CHECK(push_all(other, records, 100) == records.size());
  REQUIRE(server.stop() == 0);
}

TEST_CASE("a station that never reads its acks is held to its share while another station's push completes; the "
          "server's memory stays bounded",
          "[server][ingest][hostile]") {
  TempDir tmp;
  const auto deaf = new_station_keys(), good = new_station_keys();
  prepare(tmp.path(), {{deaf, "XX.DEAF"}, {good, "XX.GOOD"}});
  ServerProcess server(tmp.path());

  // 300 distinct batches of 100 records (~56 KiB each): new data, so each
  // costs the server real work.
  constexpr size_t kPerBatch = 100;
  const auto deaf_records = station_records("DEAF", 300 * kPerBatch * 850, 3);
  REQUIRE(deaf_records.size() >= 300 * kPerBatch);
  std::atomic<bool> stop{false};
  std::atomic<size_t> deaf_sent{0};
  std::thread deaf_station([&] {
    zmq::context_t ctx(1);
    zmq::socket_t s(ctx, zmq::socket_type::dealer);
    s.set(zmq::sockopt::linger, 0);
    s.set(zmq::sockopt::curve_serverkey, server.public_key());
    s.set(zmq::sockopt::curve_publickey, deaf.public_key);
    s.set(zmq::sockopt::curve_secretkey, deaf.secret_key);
    s.set(zmq::sockopt::rcvhwm, 1);        // takes in almost nothing it does not read...
    s.set(zmq::sockopt::rcvbuf, 4096);     // ...so the server's acks back up
    s.set(zmq::sockopt::sndtimeo, 100);
    s.connect(server.endpoint());
    for (size_t b = 0; b < 300 && !stop; ++b) {
      std::vector<std::vector<uint8_t>> part(deaf_records.begin() + b * kPerBatch,
                                             deaf_records.begin() + (b + 1) * kPerBatch);
      const auto bytes = TestStation::make_batch(b + 1, part).SerializeAsString();
      while (!stop) {
        if (s.send(zmq::buffer(bytes), zmq::send_flags::none)) break;  // retries while TCP is full
      }
      ++deaf_sent;
    }
    while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  });

  std::atomic<double> peak_rss{0};
  std::atomic<bool> sampling{true};
  std::thread sampler([&] {
    while (sampling) {
      peak_rss = std::max(peak_rss.load(), rss_mib(server.process().pid()));
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });

  TestStation station(server.endpoint(), server.public_key(), good);
  const auto records = station_records("GOOD", 40000, 4);
  const size_t done = push_all(station, records, 200);
  // Let the deaf station go on a little longer against a server that no
  // longer takes its batches.
  eventually([&] { return deaf_sent.load() >= 300; }, std::chrono::seconds(5));
  const auto stats = server_stats(server);
  stop = true;
  deaf_station.join();
  sampling = false;
  sampler.join();

  CHECK(done == records.size());
  INFO("server peak RSS " << peak_rss.load() << " MiB; deaf station sent " << deaf_sent.load() << " batches");
  // The stated bound: the deaf connection's share (32 batches in the
  // pipeline or unread acks, 4 buffered by ZeroMQ, all of 56 KiB) is a few
  // MiB over the server's own ~100-150 MiB (16 MiB memtables, caches,
  // the other station's batches).
  CHECK(peak_rss.load() < 300);
  CHECK(stats.batches_busy() > 0);
  REQUIRE(server.stop() == 0);
  // Of the deaf station's data only part was taken in: its batches were
  // answered BUSY once its unread acks filled what its socket and the
  // kernel's buffers hold (the server's memory holds at most 32 of them).
  size_t deaf_stored = 0;
  for (const auto& r : stored_records(tmp.path())) {
    deaf_stored += std::string(r.begin() + 8, r.begin() + 12) == "DEAF";
  }
  CHECK(deaf_stored < deaf_sent.load() * kPerBatch);
}

TEST_CASE("connections beyond --max-connections-per-key are closed; the key's first connections keep working",
          "[server][ingest][hostile]") {
  TempDir tmp;
  const auto keys = new_station_keys();
  prepare(tmp.path(), {{keys, "XX.MANY"}});
  ServerProcess server(tmp.path(), "tcp://127.0.0.1:*", {"--max-connections-per-key", "2"});
  const auto records = station_records("MANY", 3000);
  TestStation a(server.endpoint(), server.public_key(), keys);
  TestStation b(server.endpoint(), server.public_key(), keys);
  REQUIRE(a.call(TestStation::make_batch(1, {records[0]})));
  REQUIRE(b.call(TestStation::make_batch(2, {records[1]})));
  TestStation c(server.endpoint(), server.public_key(), keys);
  CHECK_FALSE(c.call(TestStation::make_batch(3, {records[2]}), std::chrono::seconds(2)));
  CHECK(eventually([&] { return server.log().find("already has 2 connections open") != std::string::npos; },
                   std::chrono::seconds(5)));
  auto ack = a.call(TestStation::make_batch(4, {records[3]}));
  REQUIRE(ack);
  CHECK(ack->results(0).status() == v1::STORED);
  REQUIRE(server.stop() == 0);
}

TEST_CASE("connections beyond --max-connections are closed, handshake or not, and taken again once others close",
          "[server][ingest][hostile]") {
  TempDir tmp;
  const auto keys = new_station_keys();
  prepare(tmp.path(), {{keys, "XX.CAP"}});
  ServerProcess server(tmp.path(), "tcp://127.0.0.1:*", {"--max-connections", "3"});
  const auto port = static_cast<uint16_t>(std::stoi(server.endpoint().substr(server.endpoint().rfind(':') + 1)));
  // Three connections that never start a handshake hold every slot.
  std::vector<int> idle;
  for (int i = 0; i < 3; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    idle.push_back(fd);
  }
  const auto records = station_records("CAP", 1000);
  {
    TestStation station(server.endpoint(), server.public_key(), keys);
    CHECK_FALSE(station.call(TestStation::make_batch(1, {records[0]}), std::chrono::seconds(2)));
    CHECK(eventually([&] { return server.log().find("(--max-connections)") != std::string::npos; },
                     std::chrono::seconds(5)));
    for (int fd : idle) ::close(fd);
    // ZeroMQ reconnects by itself: the same station gets in now.
    std::optional<v1::IngestAck> ack;
    for (uint64_t id = 2; id < 12 && !ack; ++id) ack = station.call(TestStation::make_batch(id, {records[1]}), std::chrono::seconds(2));
    REQUIRE(ack);
    CHECK(ack->results(0).status() == v1::STORED);
  }
  REQUIRE(server.stop() == 0);
}

TEST_CASE("a SIGHUP reload with a broken line puts the rest in force and shuts the broken line's key out",
          "[server][ingest][access]") {
  TempDir tmp;
  const auto a = new_station_keys(), b = new_station_keys(), c = new_station_keys();
  prepare(tmp.path(), {{a, "XX.A"}, {b, "XX.B"}, {c, "XX.C"}});
  ServerProcess server(tmp.path());
  const auto ra = station_records("A", 1000), rb = station_records("B", 1000), rc = station_records("C", 1000);
  {
    TestStation sb(server.endpoint(), server.public_key(), b);
    REQUIRE(sb.call(TestStation::make_batch(1, {rb[0]})));
  }
  // By hand: B revoked (its line deleted), A's line narrowed with a typo, C kept.
  {
    std::ofstream out(tmp.path() / "authorized_stations", std::ios::trunc);
    out << a.public_key << "  XX.A,X!.B  allow-unsigned  # narrowed, with a typo\n"
        << c.public_key << "  XX.C  allow-unsigned\n";
  }
  server.process().signal(SIGHUP);
  REQUIRE(eventually([&] { return server.log().find("SIGHUP: reloaded") != std::string::npos; },
                     std::chrono::seconds(10)));
  CHECK_THAT(server.log(), Catch::Contains("line 1") && Catch::Contains("left out"));
  const auto stats = server_stats(server);
  REQUIRE(stats.access_list_problems_size() == 1);
  CHECK_THAT(stats.access_list_problems(0), Catch::Contains("X!.B"));

  TestStation sb(server.endpoint(), server.public_key(), b);  // revoked: refused
  CHECK_FALSE(sb.call(TestStation::make_batch(2, {rb[1]}), std::chrono::seconds(2)));
  TestStation sa(server.endpoint(), server.public_key(), a);  // its line is broken: no access
  CHECK_FALSE(sa.call(TestStation::make_batch(1, {ra[0]}), std::chrono::seconds(2)));
  TestStation sc(server.endpoint(), server.public_key(), c);  // untouched: still in
  auto ack = sc.call(TestStation::make_batch(1, {rc[0]}));
  REQUIRE(ack);
  CHECK(ack->results(0).status() == v1::STORED);
  REQUIRE(server.stop() == 0);
}

TEST_CASE("the data directory is made readable by the server's user only", "[server][files]") {
  TempDir tmp;
  const auto dir = tmp.path() / "data";
  std::filesystem::create_directories(dir);
  ::chmod(dir.c_str(), 0755);
  ServerProcess server(dir);
  struct stat st {};
  REQUIRE(::stat(dir.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0700);
  REQUIRE(server.stop() == 0);
}

TEST_CASE("a flood of new channel codes from one station stops at --max-channels-per-station; its existing channels "
          "and other stations go on",
          "[server][ingest][hostile]") {
  TempDir tmp;
  const auto flood = new_station_keys(), other = new_station_keys();
  prepare(tmp.path(), {{flood, "XX.FLD"}, {other, "XX.OTH"}});
  ServerProcess server(tmp.path(), "tcp://127.0.0.1:*", {"--max-channels-per-station", "50"});
  TestStation station(server.endpoint(), server.public_key(), flood);

  // 200 channel codes of XX.FLD, one record each.
  std::vector<std::vector<uint8_t>> records;
  for (int c = 0; c < 200; ++c) {
    RecordSpec spec;
    spec.station = "FLD";
    spec.channel = fmt::format("{}{:02}", static_cast<char>('A' + c / 100), c % 100);
    records.push_back(pack_records(spec, random_walk(100, static_cast<uint32_t>(c + 1))).front());
  }
  auto ack = station.call(TestStation::make_batch(1, records));
  REQUIRE(ack);
  REQUIRE(ack->results_size() == 200);
  CHECK(count_status(*ack, v1::STORED) == 50);
  CHECK(count_status(*ack, v1::REJECTED) == 150);
  for (const auto& r : ack->results()) {
    if (r.status() != v1::REJECTED) continue;
    CHECK(r.reason() == v1::TOO_MANY_CHANNELS);
    CHECK_THAT(r.message(), Catch::Contains("--max-channels-per-station"));
  }
  // A longer flood (5,000 more codes) is refused as cheaply: the server's
  // memory does not grow with it.
  double peak = 0;
  for (int b = 0; b < 25; ++b) {
    std::vector<std::vector<uint8_t>> part;
    for (int c = 0; c < 200; ++c) {
      RecordSpec spec;
      spec.station = "FLD";
      spec.location = fmt::format("{:02}", b + 10);  // new codes: the first batch used 00
      spec.channel = fmt::format("{}{:02}", static_cast<char>('A' + c / 100), c % 100);
      part.push_back(pack_records(spec, random_walk(100, static_cast<uint32_t>(1000 + b * 200 + c))).front());
    }
    ack = station.call(TestStation::make_batch(10 + b, part));
    REQUIRE(ack);
    CHECK(count_status(*ack, v1::REJECTED) == part.size());
    peak = std::max(peak, rss_mib(server.process().pid()));
  }
  INFO("server peak RSS during the flood: " << peak << " MiB");
  CHECK(peak < 300);
  // The station's existing channels still take data, and so do other stations.
  RecordSpec more;
  more.station = "FLD";
  more.channel = "A00";
  more.start_ns += 3600 * kNanosPerSecond;
  ack = station.call(TestStation::make_batch(2, {pack_records(more, random_walk(100, 999)).front()}));
  REQUIRE(ack);
  CHECK(ack->results(0).status() == v1::STORED);
  TestStation station2(server.endpoint(), server.public_key(), other);
  const auto other_records = station_records("OTH", 20000);
  CHECK(push_all(station2, other_records, 100) == other_records.size());
  REQUIRE(server.stop() == 0);
}

TEST_CASE("a record with a clock years off among good ones is stored and read back in place; the channel's windows "
          "still read right",
          "[server][ingest][hostile]") {
  TempDir tmp;
  const auto keys = new_station_keys();
  prepare(tmp.path(), {{keys, "XX.CLK"}});
  ServerProcess server(tmp.path());
  TestStation station(server.endpoint(), server.public_key(), keys);
  const TimeNs start = *parse_iso8601("2024-03-01T00:00:00Z");
  auto records = station_records("CLK", 20000, 5, start);
  // One record from a datalogger whose clock said 2019, in the middle of the batch.
  const auto stray = station_records("CLK", 800, 6, *parse_iso8601("2019-07-01T00:00:00Z")).front();
  records.insert(records.begin() + static_cast<std::ptrdiff_t>(records.size() / 2), stray);
  auto ack = station.call(TestStation::make_batch(1, records));
  REQUIRE(ack);
  CHECK(count_status(*ack, v1::STORED) == records.size());

  auto api = wv::Waveforms::NewStub(grpc::CreateChannel(server.api(), grpc::InsecureChannelCredentials()));
  auto read = [&](TimeNs from, TimeNs to) {
    wv::GetRecordsRequest req;
    req.mutable_selection()->add_patterns("XX.CLK");
    req.mutable_window()->set_start_ns(from);
    req.mutable_window()->set_end_ns(to);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    auto reader = api->GetRecords(&ctx, req);
    std::vector<std::string> out;
    wv::RecordBatch batch;
    while (reader->Read(&batch)) {
      for (const auto& r : batch.records()) out.push_back(r.mseed());
    }
    REQUIRE(reader->Finish().ok());
    return out;
  };
  // The stray record alone in its year, the good ones in theirs.
  const auto old = read(*parse_iso8601("2019-06-30T00:00:00Z"), *parse_iso8601("2019-07-02T00:00:00Z"));
  REQUIRE(old.size() == 1);
  CHECK(old[0] == std::string(stray.begin(), stray.end()));
  const auto window = read(start + 60 * kNanosPerSecond, start + 61 * kNanosPerSecond);
  CHECK(window.size() >= 1);
  CHECK(window.size() <= 2);
  CHECK(read(start, start + 3600 * kNanosPerSecond).size() == records.size() - 1);
  REQUIRE(server.stop() == 0);
}
