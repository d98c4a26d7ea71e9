// bench_seedlink: SeedLink fan-out while ingest runs at full rate.
//
// Two servers, one after the other, on the same machine and records:
//   A  ingest alone (no SeedLink client): the reference;
//   B  the same ingest with `clients` SeedLink 4 clients connected, each
//      following `stations_per_client` stations (live, "DATA" with no
//      sequence: what arrives from then on).
// Figures: records/s of both, the commit-to-client latency (a sampled
// record's arrival at a SeedLink client minus the arrival of its
// acknowledgement at the pusher: both happen after its WAL fsync, the ack
// first), the server's CPU per record in A and B and the extra CPU per
// delivered packet ((B - A) / packets delivered).
//
// The clients are sockets in this process read by one thread (poll), so
// they cost the server nothing but the protocol.
//
// Then the bridge: `seisvault push --from-seedlink --fetch` (the real CLI)
// from a server holding `bridge_records` records to an empty one, against
// the reference of `seisvault push FILE` of the same records to an empty
// server, in the same run.
#include <poll.h>
#include <sys/socket.h>
#include <netdb.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <limits>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "bench_server.h"
#include "bench_support.h"
#include "seisvault/client/push_client.h"
#include "seisvault/common/curve_keys.h"
#include "seisvault/common/logging.h"

using namespace seisvault;
using namespace seisvault::bench;

namespace {

// Station code and start time bytes of a miniSEED 2 record: unique per record here.
std::string key_of(const uint8_t* r) {
  return std::string(reinterpret_cast<const char*>(r) + 8, 5) + std::string(reinterpret_cast<const char*>(r) + 20, 10);
}

// One record in ten is timed, chosen by its key on both sides.
bool sampled(const std::string& key) { return std::hash<std::string>{}(key) % 10 == 0; }

int connect_to(const std::string& address) {
  const auto colon = address.rfind(':');
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(address.substr(0, colon).c_str(), address.substr(colon + 1).c_str(), &hints, &res) != 0) {
    throw std::runtime_error("cannot resolve " + address);
  }
  const int fd = ::socket(res->ai_family, SOCK_STREAM, 0);
  if (fd < 0 || ::connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
    freeaddrinfo(res);
    throw std::runtime_error("cannot connect to " + address);
  }
  freeaddrinfo(res);
  return fd;
}

// Sends the commands, then reads one "OK" line per command but the last (END).
void handshake(int fd, const std::vector<std::string>& commands) {
  std::string all;
  for (const auto& c : commands) all += c + "\r\n";
  if (::send(fd, all.data(), all.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(all.size())) {
    throw std::runtime_error("handshake send failed");
  }
  size_t oks = 0;
  std::string got;
  char ch;
  while (oks + 1 < commands.size()) {
    if (::recv(fd, &ch, 1, 0) != 1) throw std::runtime_error("handshake: connection closed");
    got += ch;
    if (got.ends_with("\r\n")) {
      if (got != "OK\r\n") throw std::runtime_error("handshake answered " + got);
      ++oks;
      got.clear();
    }
  }
}

struct Clients {
  std::vector<int> fds;
  std::vector<std::string> buffers;
  std::atomic<uint64_t> packets{0};
  std::atomic<bool> stop{false};
  std::vector<double> latencies_ms;
  std::mutex* acks_mutex = nullptr;
  std::unordered_map<std::string, Clock::time_point>* acked = nullptr;
  std::unordered_map<std::string, Clock::time_point> early;  // arrived before its ack was seen

  void run() {
    std::vector<pollfd> pfds;
    for (int fd : fds) pfds.push_back({fd, POLLIN, 0});
    std::vector<char> buf(1 << 16);
    while (!stop.load()) {
      if (::poll(pfds.data(), pfds.size(), 100) <= 0) continue;
      for (size_t i = 0; i < pfds.size(); ++i) {
        if (!(pfds[i].revents & POLLIN)) continue;
        const ssize_t n = ::recv(pfds[i].fd, buf.data(), buf.size(), MSG_DONTWAIT);
        if (n <= 0) continue;
        const auto now = Clock::now();
        auto& b = buffers[i];
        b.append(buf.data(), static_cast<size_t>(n));
        size_t at = 0;
        while (b.size() - at >= 17) {
          uint32_t length;
          std::memcpy(&length, b.data() + at + 4, 4);
          const size_t idlen = static_cast<uint8_t>(b[at + 16]);
          const size_t total = 17 + idlen + length;
          if (b.size() - at < total) break;
          const auto* rec = reinterpret_cast<const uint8_t*>(b.data() + at + 17 + idlen);
          packets.fetch_add(1);
          if (const auto key = key_of(rec); sampled(key)) {
            std::lock_guard lock(*acks_mutex);
            if (auto f = acked->find(key); f != acked->end()) {
              latencies_ms.push_back(std::chrono::duration<double, std::milli>(now - f->second).count());
              acked->erase(f);
            } else {
              early.emplace(key, now);
            }
          }
          at += total;
        }
        b.erase(0, at);
      }
    }
  }
};

struct Phase {
  double seconds = 0;
  double records_per_s = 0;
  double server_cpu_s = 0;
  uint64_t packets = 0;
  std::vector<double> latencies_ms;
};

Phase run_phase(const std::string& seisvaultd, const std::filesystem::path& dir, size_t records, size_t channels,
                size_t clients, size_t stations_per_client, size_t batch, size_t in_flight) {
  BenchServer server(seisvaultd, dir, {"--ingest", "tcp://127.0.0.1:*", "--api", "127.0.0.1:0", "--http", "127.0.0.1:0",
                                      "--seedlink", "127.0.0.1:0", "--seedlink-max-connections-per-address", "1000"});
  std::mutex acks_mutex;
  std::unordered_map<std::string, Clock::time_point> acked;
  Clients c;
  c.acks_mutex = &acks_mutex;
  c.acked = &acked;
  for (size_t i = 0; i < clients; ++i) {
    const int fd = connect_to(server.seedlink_address());
    std::vector<std::string> cmds = {"SLPROTO 4.0"};
    for (size_t s = 0; s < stations_per_client; ++s) {
      cmds.push_back(fmt::format("STATION XX_S{:04}", (i * stations_per_client + s) % channels));
      cmds.push_back("DATA");
    }
    cmds.push_back("END");
    handshake(fd, cmds);
    c.fds.push_back(fd);
    c.buffers.emplace_back();
  }
  std::thread reader([&] { c.run(); });

  RecordGenerator gen(channels, *parse_iso8601("2025-01-01T00:00:00Z"));
  auto o = server.push_options();
  o.max_batch_records = batch;
  o.max_in_flight = in_flight;
  o.ack_timeout = std::chrono::seconds(60);
  std::vector<uint8_t> rec;
  o.on_result = [&](const client::RecordOutcome& out) {
    if (out.status != client::RecordStatus::kStored) throw std::runtime_error("a record was not stored");
    const auto now = Clock::now();
    const auto key = key_of(out.record.data());
    if (clients == 0 || !sampled(key)) return;
    std::lock_guard lock(acks_mutex);
    if (auto f = c.early.find(key); f != c.early.end()) {
      c.latencies_ms.push_back(std::chrono::duration<double, std::milli>(f->second - now).count());
      c.early.erase(f);
    } else {
      acked.emplace(key, now);
    }
  };
  auto pusher = client::PushClient::open(o);
  if (!pusher.ok()) throw std::runtime_error(pusher.status().message());
  const double cpu0 = process_cpu_seconds(server.pid());
  const auto t0 = Clock::now();
  for (size_t i = 0; i < records; ++i) {
    gen.next(i % channels, rec);
    if (auto s = pusher->add(rec); !s.ok()) throw std::runtime_error(s.message());
  }
  if (auto s = pusher->flush(std::chrono::seconds(300)); !s.ok()) throw std::runtime_error(s.message());
  Phase p;
  p.seconds = seconds_since(t0);
  // Let the clients take what is still on its way (bounded).
  const uint64_t expect = clients * stations_per_client >= channels ? records : 0;
  for (int i = 0; i < 200 && clients > 0 && c.packets.load() < expect; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  p.server_cpu_s = process_cpu_seconds(server.pid()) - cpu0;
  c.stop = true;
  reader.join();
  for (int fd : c.fds) ::close(fd);
  p.records_per_s = static_cast<double>(records) / p.seconds;
  p.packets = c.packets.load();
  p.latencies_ms = std::move(c.latencies_ms);
  return p;
}

// Runs a command line; throws unless it exits 0.
void run_command(const std::string& command) {
  if (const int rc = std::system(command.c_str()); rc != 0) {
    throw std::runtime_error(fmt::format("exit status {}: {}", rc, command));
  }
}

// The key files the CLI reads for a bench server's station key.
std::string key_args(const BenchServer& s, const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  if (auto st = write_key_files(dir / "station", s.station_keys()); !st.ok()) throw std::runtime_error(st.message());
  if (s.signing_key()) {
    if (auto st = write_signing_key_files(dir / "station", *s.signing_key()); !st.ok()) {
      throw std::runtime_error(st.message());
    }
  }
  const auto server_pub = dir / "server.pub";
  std::FILE* f = std::fopen(server_pub.c_str(), "w");
  if (!f) throw std::runtime_error("cannot write " + server_pub.string());
  fmt::print(f, "{}\n", s.server_keys().public_key);
  std::fclose(f);
  return fmt::format("--server {} --server-key {} --key {}", s.ingest_endpoint(), server_pub.string(),
                     (dir / "station").string());
}

struct BridgeFigures {
  double push_records_per_s = 0;
  double bridge_records_per_s = 0;
};

BridgeFigures run_bridge(const std::string& seisvaultd, const std::filesystem::path& dir, size_t records,
                         size_t channels) {
  const std::filesystem::path bin = std::filesystem::path(seisvaultd).parent_path().parent_path() / "client" / "seisvault";
  const std::vector<std::string> flags = {"--ingest", "tcp://127.0.0.1:*", "--api", "127.0.0.1:0", "--http",
                                          "127.0.0.1:0", "--seedlink", "127.0.0.1:0"};
  // The records, as a file.
  std::filesystem::create_directories(dir);
  const auto file = dir / "records.mseed";
  {
    RecordGenerator gen(channels, *parse_iso8601("2025-01-01T00:00:00Z"));
    std::FILE* f = std::fopen(file.c_str(), "wb");
    if (!f) throw std::runtime_error("cannot write " + file.string());
    std::vector<uint8_t> rec;
    for (size_t i = 0; i < records; ++i) {
      gen.next(i % channels, rec);
      std::fwrite(rec.data(), 1, rec.size(), f);
    }
    std::fclose(f);
  }
  BridgeFigures out;
  // Reference: seisvault push FILE into an empty server; the same into A.
  {
    BenchServer ref(seisvaultd, dir / "ref", flags);
    const auto t0 = Clock::now();
    run_command(fmt::format("{} push {} --spool {} {} > /dev/null", bin.string(), key_args(ref, dir / "ref-keys"),
                            (dir / "ref-spool").string(), file.string()));
    out.push_records_per_s = static_cast<double>(records) / seconds_since(t0);
  }
  BenchServer a(seisvaultd, dir / "a", flags);
  run_command(fmt::format("{} push {} --spool {} {} > /dev/null", bin.string(), key_args(a, dir / "a-keys"),
                          (dir / "a-spool").string(), file.string()));
  BenchServer b(seisvaultd, dir / "b", flags);
  std::string streams;
  for (size_t c = 0; c < channels; ++c) streams += fmt::format("{}XX_S{:04}", c ? "," : "", c);
  const auto t0 = Clock::now();
  run_command(fmt::format("{} push {} --spool {} --from-seedlink {} --streams {} --fetch --seedlink-start oldest "
                          "> /dev/null 2>&1",
                          bin.string(), key_args(b, dir / "b-keys"), (dir / "b-spool").string(), a.seedlink_address(),
                          streams));
  out.bridge_records_per_s = static_cast<double>(records) / seconds_since(t0);
  return out;
}

int run(int argc, char** argv) {
  CLI::App app{"bench_seedlink: SeedLink fan-out during full-rate ingest"};
  size_t records = 1'000'000, channels = 1000, clients = 100, per_client = 10, batch = 500, in_flight = 16;
  size_t bridge_records = 500'000, bridge_channels = 100;
  bool smoke = false;
  std::string dir_arg, seisvaultd = std::string(SEISVAULT_BUILD_DIR) + "/server/seisvaultd";
  app.add_option("--records", records, "records to push in each phase")->capture_default_str();
  app.add_option("--channels", channels, "stations (one channel each)")->capture_default_str();
  app.add_option("--clients", clients, "SeedLink clients in phase B")->capture_default_str();
  app.add_option("--stations-per-client", per_client, "stations each client follows")->capture_default_str();
  app.add_option("--bridge-records", bridge_records, "records the bridge carries (0: no bridge figure)")
      ->capture_default_str();
  app.add_option("--bridge-channels", bridge_channels, "stations of the bridge's records")->capture_default_str();
  app.add_option("--dir", dir_arg, "work directory (default: a fresh one, removed after)");
  app.add_option("--seisvaultd", seisvaultd, "server binary")->capture_default_str();
  app.add_flag("--smoke", smoke, "a few thousand records: checks the benchmark runs, measures nothing");
  CLI11_PARSE(app, argc, argv);
  (void)configure_logging("warn");
  if (smoke) {
    records = 5000;
    channels = 50;
    clients = 5;
    bridge_records = 2000;
    bridge_channels = 10;
  }
  const WorkDir work(dir_arg);
  const std::string conditions = fmt::format(
      "{} records round-robin over {} stations, 512-byte Steim-2, batches of {}, {} in flight, CURVE, group commit; "
      "{} SeedLink 4 clients x {} stations, live; {} cores",
      records, channels, batch, in_flight, clients, per_client, std::thread::hardware_concurrency());
  const Phase a = run_phase(seisvaultd, work.path() / "a", records, channels, 0, per_client, batch, in_flight);
  const Phase b = run_phase(seisvaultd, work.path() / "b", records, channels, clients, per_client, batch, in_flight);
  Report report("seedlink");
  report.add("ingest alone", a.records_per_s, "records/s", conditions);
  report.add("ingest with SeedLink clients", b.records_per_s, "records/s");
  report.add("ratio (with / alone)", b.records_per_s / a.records_per_s, "");
  report.add("packets delivered", static_cast<double>(b.packets), "packets");
  report.add("commit-to-client latency p50", percentile(b.latencies_ms, 50), "ms",
             fmt::format("{} sampled records", b.latencies_ms.size()));
  report.add("commit-to-client latency p99", percentile(b.latencies_ms, 99), "ms");
  report.add("server CPU per record, alone", a.server_cpu_s / static_cast<double>(records) * 1e6, "us");
  report.add("server CPU per record, with clients", b.server_cpu_s / static_cast<double>(records) * 1e6, "us");
  if (b.packets > 0) {
    report.add("extra server CPU per delivered packet", (b.server_cpu_s - a.server_cpu_s) / static_cast<double>(b.packets) * 1e6,
               "us");
  }
  if (bridge_records > 0) {
    const auto f = run_bridge(seisvaultd, work.path() / "bridge", bridge_records, bridge_channels);
    const std::string bc = fmt::format(
        "{} records over {} stations, 512-byte Steim-2: seisvault push --from-seedlink --fetch (SeedLink 4) from a "
        "server holding them to an empty one, vs seisvault push of the same file to an empty one",
        bridge_records, bridge_channels);
    report.add("bridge throughput", f.bridge_records_per_s, "records/s", bc);
    report.add("seisvault push of the file (reference)", f.push_records_per_s, "records/s");
    report.add("ratio (bridge / push)", f.bridge_records_per_s / f.push_records_per_s, "");
  }
  report.print();
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return main_guarded(argc, argv, run); }
