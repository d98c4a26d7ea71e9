// `seisvault query` and the QueryClient library against the real seisvaultd
// (build/server/seisvaultd --insecure, on 127.0.0.1): data pushed through
// the real ingest socket, read back by running the built tool as a program.
// Every run of the tool is bounded by timeout(1), every wait by a deadline.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "seisvault/client/query_client.h"
#include "support/process.h"
#include "support/record_factory.h"
#include "support/server_process.h"
#include "support/temp_dir.h"
#include "support/test_station.h"

using namespace seisvault;
using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;
namespace v1 = seisvault::waveform::v1;
using Records = std::vector<std::vector<uint8_t>>;

namespace {

const TimeNs kStart = *parse_iso8601("2024-03-01T00:00:00Z");
constexpr TimeNs kTenMs = 10'000'000;

std::string quote(const std::string& word) {
  std::string out = "'";
  for (char c : word) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

std::string read_binary(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string concatenated(const Records& records) {
  std::string out;
  for (const auto& r : records) out.append(reinterpret_cast<const char*>(r.data()), r.size());
  return out;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

size_t count_lines_starting(const std::string& text, const std::string& prefix) {
  size_t n = 0;
  for (const auto& l : lines_of(text)) n += l.rfind(prefix, 0) == 0;
  return n;
}

// 100 Hz Steim-2 records of XX.<station>.00.<channel> from `start`.
Records records_of(const std::string& station, const std::string& channel, TimeNs start,
                   const std::vector<int32_t>& samples) {
  test::RecordSpec spec;
  spec.station = station;
  spec.channel = channel;
  spec.start_ns = start;
  return test::pack_records(spec, samples);
}

struct Run {
  int code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// A plain (--insecure) seisvaultd with a raw station to push through, and
// the tool to ask it.
struct QueryServer {
  test::TempDir tmp;
  std::unique_ptr<test::ServerProcess> server;
  std::unique_ptr<test::TestStation> station;
  uint64_t next_batch = 1;
  int runs = 0;

  explicit QueryServer(std::vector<std::string> extra = {}) {
    extra.insert(extra.begin(), "--insecure");
    server = std::make_unique<test::ServerProcess>(tmp.path() / "data", "tcp://127.0.0.1:*", extra);
    station = std::make_unique<test::TestStation>(server->endpoint(), "", CurveKeyPair{});
  }

  const fs::path& dir() const { return tmp.path(); }

  // Every record must be stored (or already there).
  void push(const Records& records) {
    for (size_t i = 0; i < records.size(); i += 500) {
      Records part(records.begin() + static_cast<ptrdiff_t>(i),
                   records.begin() + static_cast<ptrdiff_t>(std::min(records.size(), i + 500)));
      auto ack = station->call(test::TestStation::make_batch(next_batch++, part));
      REQUIRE(ack);
      for (const auto& r : ack->results()) REQUIRE(r.status() != ingest::v1::REJECTED);
    }
  }

  // `seisvault query --api API ARGS...`, stdout and stderr apart, at most 60 s.
  Run query(const std::vector<std::string>& args, bool with_api = true) {
    const int n = ++runs;
    const auto out = dir() / ("run" + std::to_string(n) + ".out");
    const auto err = dir() / ("run" + std::to_string(n) + ".err");
    std::string cmd = "timeout 60 " + quote(test::built_program("client/seisvault").string()) + " query";
    if (with_api) cmd += " --api " + quote(server->api());
    for (const auto& a : args) cmd += " " + quote(a);
    cmd += " > " + quote(out.string()) + " 2> " + quote(err.string()) + " < /dev/null";
    const int status = std::system(cmd.c_str());
    Run r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = read_binary(out);
    r.err = read_binary(err);
    return r;
  }

  client::QueryClient client() const { return client::QueryClient({.target = server->api()}); }

  uint64_t subscribers() const {
    v1::Stats stats;
    return client().get_stats(&stats).ok() ? stats.subscribers() : 0;
  }
};

// XX.QRY.00.HHZ: 3000 samples from kStart, a 10 s gap, 1000 samples from
// kStart + 40 s; XX.QRY.00.HHN: 500 samples from kStart.
struct GapData {
  std::vector<int32_t> first = test::random_walk(3000, 7);
  std::vector<int32_t> second = test::random_walk(1000, 8);
  std::vector<int32_t> north = test::random_walk(500, 9);
  Records hhz_first = records_of("QRY", "HHZ", kStart, first);
  Records hhz_second = records_of("QRY", "HHZ", kStart + 40 * kNanosPerSecond, second);
  Records hhn = records_of("QRY", "HHN", kStart, north);

  Records hhz() const {
    Records all = hhz_first;
    all.insert(all.end(), hhz_second.begin(), hhz_second.end());
    return all;
  }
  void push_to(QueryServer& s) const {
    s.push(hhz());
    s.push(hhn);
  }
};

uint64_t total_bytes(const Records& records) {
  uint64_t n = 0;
  for (const auto& r : records) n += r.size();
  return n;
}

}  // namespace

TEST_CASE("query channels lists each channel in a table and as JSON with its extent, size and latency",
          "[query][channels]") {
  QueryServer s;
  const GapData data;
  data.push_to(s);

  const auto table = s.query({"channels"});
  REQUIRE(table.code == 0);
  INFO(table.out << table.err);
  const auto rows = lines_of(table.out);
  REQUIRE(rows.size() == 3);
  CHECK_THAT(rows[0], Catch::StartsWith("SOURCE ID") && Catch::Contains("LAST RECEIVE") && Catch::Contains("LATENCY"));
  CHECK_THAT(rows[1], Catch::StartsWith("XX.QRY.00.HHN") && Catch::Contains("2024-03-01T00:00:00Z") &&
                          Catch::Contains("100 Hz"));
  CHECK_THAT(rows[2], Catch::StartsWith("XX.QRY.00.HHZ") && Catch::Contains("2024-03-01T00:00:49.990Z"));

  const auto machine = s.query({"--json", "channels", "XX.QRY.*.HHZ"});
  REQUIRE(machine.code == 0);
  const auto channels = json::parse(machine.out);
  REQUIRE(channels.size() == 1);
  const auto& c = channels[0];
  CHECK(c["source_id"] == "XX.QRY.00.HHZ");
  CHECK(c["first_start"] == format_iso8601(kStart));
  CHECK(c["first_start_ns"] == kStart);
  CHECK(c["last_end_ns"] == kStart + 40 * kNanosPerSecond + 999 * kTenMs);
  CHECK(c["sample_rate"] == 100.0);
  CHECK(c["records"] == data.hhz().size());
  CHECK(c["bytes"] == total_bytes(data.hhz()));
  CHECK(c["latency_s"].get<double>() >= 0);
  CHECK(c["latency_s"].get<double>() < 120);

  SECTION("the --net/--sta/--loc/--cha fields select like one pattern") {
    const auto r = s.query({"--json", "channels", "--net", "XX", "--sta", "Q?Y", "--cha", "HHN,HHE"});
    REQUIRE(r.code == 0);
    const auto j = json::parse(r.out);
    REQUIRE(j.size() == 1);
    CHECK(j[0]["source_id"] == "XX.QRY.00.HHN");
  }
  SECTION("patterns and fields together are a usage error") {
    const auto r = s.query({"channels", "XX.*", "--net", "XX"});
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains("not both"));
  }
}

TEST_CASE("query records --out writes the stored records byte-identical, to a file or stdout", "[query][records]") {
  QueryServer s;
  const GapData data;
  data.push_to(s);
  const auto file = s.dir() / "out.mseed";

  const auto r = s.query({"records", "XX.QRY.00.HHZ", "--start", "2024-03-01T00:00:00Z", "--end",
                          "2024-03-01T00:01:00Z", "--out", file.string()});
  REQUIRE(r.code == 0);
  CHECK(read_binary(file) == concatenated(data.hhz()));
  CHECK_FALSE(fs::exists(file.string() + ".partial"));
  CHECK_THAT(r.err, Catch::Contains(std::to_string(data.hhz().size()) + " records, " +
                                    std::to_string(total_bytes(data.hhz())) + " bytes"));

  const auto to_stdout = s.query({"records", "XX.QRY.00.HHZ", "--start", "2024-03-01T00:00:00Z", "--end",
                                  "2024-03-01T00:01:00Z", "--out", "-"});
  REQUIRE(to_stdout.code == 0);
  CHECK(to_stdout.out == concatenated(data.hhz()));

  SECTION("a window ending before the second run holds only the first run's records") {
    const auto part = s.query({"records", "XX.QRY.00.HHZ", "--start", "2024-03-01T00:00:00Z", "--end",
                               "2024-03-01T00:00:35Z", "--out", file.string()});
    REQUIRE(part.code == 0);
    CHECK(read_binary(file) == concatenated(data.hhz_first));
  }
  SECTION("nothing stored is not an error: no data, and an empty file") {
    const auto none = s.query({"records", "ZZ.*", "--start", "2024-03-01", "--end", "2024-03-02", "--out",
                               file.string()});
    CHECK(none.code == 0);
    CHECK_THAT(none.err, Catch::Contains("no data"));
    CHECK(fs::file_size(file) == 0);
  }
}

TEST_CASE("query samples --format csv writes one row per sample with its time and value", "[query][samples]") {
  QueryServer s;
  const GapData data;
  data.push_to(s);

  const auto r = s.query({"samples", "XX.QRY.00.HHZ", "--start", "2024-03-01T00:00:00Z", "--end",
                          "2024-03-01T00:01:00Z", "--format", "csv"});
  REQUIRE(r.code == 0);
  const auto rows = lines_of(r.out);
  REQUIRE(rows.size() == data.first.size() + data.second.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const bool first = i < data.first.size();
    const size_t k = first ? i : i - data.first.size();
    const TimeNs t = (first ? kStart : kStart + 40 * kNanosPerSecond) + static_cast<TimeNs>(k) * kTenMs;
    const int32_t v = first ? data.first[k] : data.second[k];
    const std::string expected = "XX.QRY.00.HHZ," + format_iso8601(t) + "," + std::to_string(v);
    if (rows[i] != expected) {
      INFO("row " << i);
      REQUIRE(rows[i] == expected);
    }
  }

  SECTION("json: one segment per run of samples, split at the gap") {
    const auto j = s.query({"--json", "samples", "XX.QRY.00.HHZ", "--start", "2024-03-01T00:00:00Z", "--end",
                            "2024-03-01T00:01:00Z"});
    REQUIRE(j.code == 0);
    const auto segments = json::parse(j.out);
    REQUIRE(segments.size() == 2);
    CHECK(segments[0]["start_ns"] == kStart);
    CHECK(segments[0]["sample_type"] == "INT32");
    CHECK(segments[0]["sample_rate"] == 100.0);
    CHECK(segments[0]["samples"].get<std::vector<int32_t>>() == data.first);
    CHECK(segments[1]["start"] == format_iso8601(kStart + 40 * kNanosPerSecond));
    CHECK(segments[1]["samples"].get<std::vector<int32_t>>() == data.second);
    CHECK(segments[1]["sample_count"] == data.second.size());
  }
  SECTION("a window with nothing in it prints no data and exits 0") {
    const auto none = s.query({"samples", "XX.QRY.00.HHZ", "--start", "2020-01-01", "--end", "2020-01-02"});
    CHECK(none.code == 0);
    CHECK(none.out.empty());
    CHECK_THAT(none.err, Catch::Contains("no data"));
  }
}

TEST_CASE("query samples --format json merges a run longer than one message into one segment",
          "[query][samples]") {
  QueryServer s;
  const auto samples = test::random_walk(300'000, 11);  // more than the server's 256 Ki samples per message
  s.push(records_of("BIG", "HHZ", kStart, samples));

  const auto r = s.query({"samples", "XX.BIG.00.HHZ", "--start", "2024-03-01T00:00:00Z", "--end",
                          "2024-03-01T01:00:00Z", "--format", "json"});
  REQUIRE(r.code == 0);
  const auto segments = json::parse(r.out);
  REQUIRE(segments.size() == 1);
  CHECK(segments[0]["sample_count"] == samples.size());
  CHECK(segments[0]["samples"].get<std::vector<int32_t>>() == samples);

  const auto csv = s.query({"samples", "XX.BIG.00.HHZ", "--start", "2024-03-01T00:00:00Z", "--end",
                            "2024-03-01T01:00:00Z"});
  REQUIRE(csv.code == 0);
  const auto rows = lines_of(csv.out);
  REQUIRE(rows.size() == samples.size());
  CHECK(rows.back() == "XX.BIG.00.HHZ," + format_iso8601(kStart + static_cast<TimeNs>(samples.size() - 1) * kTenMs) +
                           "," + std::to_string(samples.back()));
}

TEST_CASE("query availability shows the gap between two runs, as text and as JSON", "[query][availability]") {
  QueryServer s;
  const GapData data;
  data.push_to(s);
  const TimeNs first_end = kStart + 2999 * kTenMs;
  const TimeNs second_start = kStart + 40 * kNanosPerSecond;

  const auto text = s.query({"availability", "XX.QRY.00.HHZ"});
  REQUIRE(text.code == 0);
  INFO(text.out);
  const auto rows = lines_of(text.out);
  REQUIRE(rows.size() == 5);  // header, data, gap, data, summary
  CHECK_THAT(rows[1], Catch::Contains("data") && Catch::Contains("2024-03-01T00:00:00Z") &&
                          Catch::Contains("2024-03-01T00:00:29.990Z") && Catch::EndsWith("30 s"));
  CHECK_THAT(rows[2], Catch::Contains("gap") && Catch::Contains("2024-03-01T00:00:29.990Z") &&
                          Catch::Contains("2024-03-01T00:00:40Z") && Catch::EndsWith("10 s"));
  CHECK_THAT(rows[3], Catch::Contains("data") && Catch::Contains("2024-03-01T00:00:40Z"));
  CHECK(rows[4] == "1 channel, 1 gap, 0 overlaps");

  const auto machine = s.query({"--json", "availability", "XX.QRY.*", "--start", "2024-03-01T00:00:00Z",
                                "--end", "2024-03-01T00:01:00Z", "--tolerance", "0.001"});
  REQUIRE(machine.code == 0);
  const auto channels = json::parse(machine.out);
  REQUIRE(channels.size() == 2);
  const auto& hhz = channels[1];
  CHECK(hhz["source_id"] == "XX.QRY.00.HHZ");
  REQUIRE(hhz["spans"].size() == 2);
  REQUIRE(hhz["gaps"].size() == 1);
  CHECK(hhz["gaps"][0]["start_ns"] == first_end);
  CHECK(hhz["gaps"][0]["end_ns"] == second_start);
  CHECK(hhz["gaps"][0]["overlap"] == false);
  CHECK(hhz["gaps"][0]["length_s"].get<double>() == Approx(10.0));
  CHECK(channels[0]["gaps"].empty());
}

TEST_CASE("query verify finds no problem in fresh records and exits 0", "[query][verify]") {
  QueryServer s;
  const GapData data;
  data.push_to(s);
  const auto n = data.hhz().size() + data.hhn.size();

  const auto r = s.query({"verify", "XX.QRY.*", "--start", "2024-03-01", "--end", "2024-03-02"});
  CHECK(r.code == 0);
  CHECK_THAT(r.out, Catch::StartsWith("checked " + std::to_string(n) + " records: no problems\nledger: ") &&
                        Catch::EndsWith(": no problems\n"));

  const auto j = s.query({"--json", "verify", "--start", "2024-03-01", "--end", "2024-03-02"});
  REQUIRE(j.code == 0);
  const auto report = json::parse(j.out);
  CHECK(report["records_checked"] == n);
  CHECK(report["problem_count"] == 0);
  CHECK(report["problems"].empty());
  // The ledger, fetched and checked by the tool: an entry per batch pushed.
  CHECK(report["ledger_entries"].get<uint64_t>() >= 1);
  CHECK(report["ledger_problem_count"] == 0);
}

TEST_CASE("query stats shows what is stored, for a person and as JSON", "[query][stats]") {
  QueryServer s;
  const GapData data;
  data.push_to(s);
  const auto n = data.hhz().size() + data.hhn.size();

  const auto r = s.query({"stats"});
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Catch::StartsWith("stored       " + std::to_string(n) + " records") &&
                        Catch::Contains("2 channels") && Catch::Contains("uptime") &&
                        Catch::Contains("subscribers  0"));

  const auto j = s.query({"stats", "--json"});  // --json after the subcommand works too
  REQUIRE(j.code == 0);
  const auto stats = json::parse(j.out);
  CHECK(stats["records_stored"] == n);
  CHECK(stats["bytes_stored"] == total_bytes(data.hhz()) + total_bytes(data.hhn));
  CHECK(stats["channels"] == 2);
  CHECK(stats["records_ingested"] == n);
}

TEST_CASE("query errors: a window ending before it starts exits 2, a bad selection exits 2 with the server's code",
          "[query][errors]") {
  QueryServer s;

  const auto backwards = s.query({"samples", "--start", "2024-03-02", "--end", "2024-03-01"});
  CHECK(backwards.code == 2);
  CHECK_THAT(backwards.err, Catch::Contains("before it starts"));

  const auto bad_time = s.query({"records", "--start", "yesterday", "--end", "2024-03-01", "--out", "-"});
  CHECK(bad_time.code == 2);
  CHECK_THAT(bad_time.err, Catch::Contains("--start"));

  const auto bad_selection = s.query({"channels", "XX.A.B.C.D"});
  CHECK(bad_selection.code == 2);
  CHECK_THAT(bad_selection.err, Catch::StartsWith("seisvault query: INVALID_ARGUMENT: "));

  const auto empty = s.query({"channels", "ZZ.*"});
  CHECK(empty.code == 0);
  CHECK(empty.out == "no data\n");

  const auto no_api = s.query({"stats"}, false);
  CHECK(no_api.code == 2);
}

TEST_CASE("query against no server exits 3 with UNAVAILABLE", "[query][errors]") {
  test::TempDir tmp;
  const auto out = tmp.path() / "out", err = tmp.path() / "err";
  const std::string cmd = "timeout 60 " + test::built_program("client/seisvault").string() +
                          " query --api 127.0.0.1:" + std::to_string(test::free_loopback_port()) + " stats > " +
                          out.string() + " 2> " + err.string();
  const int status = std::system(cmd.c_str());
  CHECK(WEXITSTATUS(status) == 3);
  CHECK_THAT(read_binary(err), Catch::StartsWith("seisvault query: UNAVAILABLE: "));
}

TEST_CASE("query sends the bearer token: without it UNAUTHENTICATED (exit 3), with --token-file or --token it works",
          "[query][token]") {
  test::TempDir secrets;
  const auto token_file = secrets.path() / "token";
  std::ofstream(token_file) << "s3cret-token\n";
  QueryServer s({"--api-token-file", token_file.string()});

  const auto without = s.query({"stats"});
  CHECK(without.code == 3);
  CHECK_THAT(without.err, Catch::StartsWith("seisvault query: UNAUTHENTICATED: "));

  const auto wrong = s.query({"--token", "nope", "stats"});
  CHECK(wrong.code == 3);

  CHECK(s.query({"--token-file", token_file.string(), "stats"}).code == 0);
  CHECK(s.query({"--token", "s3cret-token", "channels"}).code == 0);
}

TEST_CASE("query over TLS trusts the CA given with --tls-ca, and plaintext to a TLS server fails with exit 3",
          "[query][tls]") {
  test::TempDir secrets;
  const auto cert = secrets.path() / "cert.pem", key = secrets.path() / "key.pem";
  const std::string make_cert = "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost "
                                "-addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout " +
                                key.string() + " -out " + cert.string() + " > /dev/null 2>&1";
  if (std::system(make_cert.c_str()) != 0) {
    WARN("no openssl command to make a test certificate: TLS not tested");
    return;
  }
  QueryServer s({"--api-tls-cert", cert.string(), "--api-tls-key", key.string()});
  CHECK(s.query({"--tls-ca", cert.string(), "stats"}).code == 0);
  const auto plain = s.query({"stats"});
  CHECK(plain.code == 3);
  CHECK_THAT(plain.err, Catch::Contains("UNAVAILABLE"));
}

TEST_CASE("query follow --count N prints the records pushed after it started, then exits 0", "[query][follow]") {
  QueryServer s;
  const auto log = s.dir() / "follow.log";
  test::ChildProcess follow({test::built_program("client/seisvault").string(), "query", "--api", s.server->api(),
                             "follow", "XX.LIVE.*", "--count", "5"},
                            log);
  REQUIRE(test::eventually([&] { return s.subscribers() == 1; }, 20s));

  const auto live = records_of("LIVE", "HHZ", kStart, test::random_walk(5000, 3));
  REQUIRE(live.size() > 5);
  s.push(records_of("OTHER", "HHZ", kStart, test::random_walk(1000, 4)));  // not selected
  s.push(live);

  const auto code = follow.wait(30s);
  const auto text = test::read_text(log);
  INFO(text);
  REQUIRE(code == 0);
  CHECK(count_lines_starting(text, "XX.LIVE.00.HHZ") == 5);
  CHECK(count_lines_starting(text, "XX.OTHER") == 0);
  CHECK_THAT(text, Catch::Contains("2024-03-01T00:00:00Z"));
  CHECK_THAT(text, Catch::Contains("samples") && Catch::Contains("latency"));
  CHECK_THAT(text, Catch::Contains("5 records") && Catch::Contains("--count 5 reached"));
}

TEST_CASE("query follow --since sends the backlog first, and SIGINT ends it with exit 0", "[query][follow]") {
  QueryServer s;
  const GapData data;
  data.push_to(s);
  const auto log = s.dir() / "follow.log";
  test::ChildProcess follow({test::built_program("client/seisvault").string(), "query", "--api", s.server->api(),
                             "--json", "follow", "XX.QRY.00.HHN", "--since", "2024-03-01T00:00:00Z"},
                            log);
  REQUIRE(test::eventually(
      [&] { return count_lines_starting(test::read_text(log), "{\"source_id\"") == data.hhn.size(); }, 20s));
  follow.signal(SIGINT);
  const auto code = follow.wait(10s);
  const auto text = test::read_text(log);
  INFO(text);
  REQUIRE(code == 0);
  CHECK_THAT(text, Catch::Contains("stopped by SIGINT"));
  for (const auto& line : lines_of(text)) {
    if (line.rfind("{", 0) != 0) continue;
    const auto j = json::parse(line);
    CHECK(j["source_id"] == "XX.QRY.00.HHN");
    CHECK(j["bytes"] == 512);
    CHECK(j["samples"].get<int>() > 0);
  }
}

TEST_CASE("QueryClient reads records, stops early when the callback says so, and ends a subscription on stop",
          "[query][library]") {
  QueryServer s;
  const GapData data;
  data.push_to(s);
  const auto client = s.client();

  std::vector<std::string> got;
  auto st = client.get_records({.patterns = {"XX.QRY.00.HHZ"}}, [&](const v1::Record& r) {
    got.push_back(r.mseed());
    return true;
  });
  REQUIRE(st.ok());
  const auto hhz = data.hhz();
  REQUIRE(got.size() == hhz.size());
  for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == std::string(hhz[i].begin(), hhz[i].end()));

  size_t seen = 0;
  st = client.get_records({}, [&](const v1::Record&) { return ++seen < 3; });
  CHECK(st.ok());
  CHECK(seen == 3);

  std::stop_source stop;
  std::thread stopper([&] {
    test::eventually([&] { return s.subscribers() == 1; }, 20s);
    stop.request_stop();
  });
  const auto started = std::chrono::steady_clock::now();
  st = client.subscribe({"XX.NONE.*"}, std::nullopt, [](const v1::SubscribeEvent&) { return true; }, stop.get_token());
  stopper.join();
  CHECK(st.ok());
  CHECK(std::chrono::steady_clock::now() - started < 20s);

  std::vector<v1::Channel> channels;
  CHECK(client.list_channels({.patterns = {"XX.A.B.C.D"}}, &channels).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
}
