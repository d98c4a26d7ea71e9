// bench_query: query figures of a real seisvaultd over a store holding one
// day of 100 Hz data for 100 channels (plus 9,900 small channels, and 1,000
// gaps in one channel), and Subscribe latency while ingest runs flat out.
#include <algorithm>
#include <limits>
#include <random>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <grpcpp/grpcpp.h>
#include <httplib.h>

#include "bench_server.h"
#include "bench_support.h"
#include "seisvault/client/push_client.h"
#include "seisvault/common/logging.h"
#include "seisvault/common/sha256.h"
#include "seisvault/ingest/record_validator.h"
#include "seisvault/proto/waveform.grpc.pb.h"
#include "seisvault/storage/record_store.h"

using namespace seisvault;
using namespace seisvault::bench;
namespace wv = seisvault::waveform::v1;

namespace {

std::unique_ptr<grpc::ClientContext> ctx() {
  auto c = std::make_unique<grpc::ClientContext>();
  c->set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(5));
  return c;
}

// Reads a GetRecords stream; returns (records, bytes).
std::pair<size_t, size_t> read_records(wv::Waveforms::Stub& api, const std::string& pattern, TimeNs a, TimeNs b) {
  wv::GetRecordsRequest req;
  req.mutable_selection()->add_patterns(pattern);
  req.mutable_window()->set_start_ns(a);
  req.mutable_window()->set_end_ns(b);
  auto c = ctx();
  auto reader = api.GetRecords(c.get(), req);
  wv::RecordBatch batch;
  size_t n = 0, bytes = 0;
  while (reader->Read(&batch)) {
    n += static_cast<size_t>(batch.records_size());
    for (const auto& r : batch.records()) bytes += r.mseed().size();
  }
  if (auto st = reader->Finish(); !st.ok()) throw std::runtime_error(st.error_message());
  return {n, bytes};
}

// FDSN dataselect through the HTTP face: the body as it streams in;
// returns (records, bytes). Records are counted by their lengths (512 bytes
// each in this store).
std::pair<size_t, size_t> dataselect(httplib::Client& http, const std::string& net, const std::string& sta,
                                     const std::string& cha, TimeNs a, TimeNs b) {
  const auto path = fmt::format("/fdsnws/dataselect/1/query?net={}&sta={}&loc=00&cha={}&start={}&end={}", net, sta,
                                cha, format_iso8601(a), format_iso8601(b));
  size_t bytes = 0;
  auto res = http.Get(path, [&](const char*, size_t n) {
    bytes += n;
    return true;
  });
  if (!res) throw std::runtime_error(fmt::format("dataselect: {}", httplib::to_string(res.error())));
  if (res->status != 200) throw std::runtime_error(fmt::format("dataselect answered {}", res->status));
  return {bytes / 512, bytes};
}

}  // namespace

namespace {

int run(int argc, char** argv) {
  CLI::App app{"bench_query: query figures of seisvaultd"};
  size_t channels = 100, extra_channels = 9900, gaps = 1000, hour_queries = 300, push_records = 1'000'000;
  double hours = 24;
  bool smoke = false;
  std::string dir_arg, seisvaultd = std::string(SEISVAULT_BUILD_DIR) + "/server/seisvaultd";
  app.add_option("--channels", channels, "channels with a full day of data")->check(CLI::Range(size_t{1}, std::numeric_limits<size_t>::max()))->capture_default_str();
  app.add_option("--extra-channels", extra_channels, "channels with one record each")->capture_default_str();
  app.add_option("--hours", hours, "hours of 100 Hz data per channel")->check(CLI::Range(0.01, 24.0 * 366))->capture_default_str();
  app.add_option("--push-records", push_records, "records pushed while measuring Subscribe")->check(CLI::Range(size_t{1}, std::numeric_limits<size_t>::max()))->capture_default_str();
  app.add_option("--dir", dir_arg, "work directory (default: a fresh one under $TMPDIR, removed after)");
  app.add_option("--seisvaultd", seisvaultd, "server binary")->capture_default_str();
  app.add_flag("--smoke", smoke, "tiny sizes: checks the benchmark runs, measures nothing");
  CLI11_PARSE(app, argc, argv);
  (void)configure_logging("warn");
  if (smoke) {
    channels = 3;
    extra_channels = 20;
    gaps = 5;
    hours = 0.5;
    hour_queries = 10;
    push_records = 3000;
  }
  const WorkDir work(dir_arg);
  const std::filesystem::path& dir = work.path();
  const TimeNs day0 = *parse_iso8601("2025-03-01T00:00:00Z");
  const TimeNs span = static_cast<TimeNs>(hours * 3600) * kNanosPerSecond;
  Report report("query");

  // --- Fill the store --------------------------------------------------------
  size_t gap_count = 0;
  {
    const auto t0 = Clock::now();
    auto store = storage::RecordStore::open(dir / "server" / "store");
    if (!store.ok()) throw std::runtime_error(store.status().message());
    StoreFiller filler(**store);
    RecordGenerator gen(channels, day0);
    std::mt19937_64 rng(42);
    std::vector<uint8_t> rec;
    for (size_t c = 0; c < channels; ++c) {
      // Channel 0 loses `gaps` records at random, never two in a row.
      std::vector<size_t> drop;
      const size_t per_channel = static_cast<size_t>(span / (static_cast<TimeNs>(gen.samples_per_record(c)) * 10'000'000)) + 1;
      if (c == 0) {
        std::vector<size_t> idx;
        for (size_t i = 1; i + 1 < per_channel; i += 2) idx.push_back(i);
        std::shuffle(idx.begin(), idx.end(), rng);
        idx.resize(std::min(gaps, idx.size()));
        std::sort(idx.begin(), idx.end());
        drop = idx;
        gap_count = drop.size();
      }
      size_t d = 0;
      for (size_t i = 0; i < per_channel; ++i) {
        gen.next(c, rec);
        if (d < drop.size() && drop[d] == i) {
          ++d;
          continue;
        }
        filler.add(rec);
      }
    }
    RecordGenerator small(extra_channels, day0, 1, "ZZ");
    for (size_t c = 0; c < extra_channels; ++c) {
      small.next(c, rec);
      filler.add(rec);
    }
    filler.flush();
    (void)(*store)->sync_wal();
    fmt::print(stderr, "filled {} records in {:.1f} s\n", filler.count(), seconds_since(t0));
  }

  BenchServer server(seisvaultd, dir / "server",
                     {"--ingest", "tcp://127.0.0.1:*", "--api", "127.0.0.1:0", "--http", "127.0.0.1:0", "--seedlink", "127.0.0.1:0", "--max-window-days", "3660"});
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  auto api = wv::Waveforms::NewStub(
      grpc::CreateCustomChannel(server.api_address(), grpc::InsecureChannelCredentials(), args));
  const std::string store_conditions =
      fmt::format("{} channels x {:.1f} h of 100 Hz 512-byte Steim-2 + {} one-record channels, loopback gRPC",
                  channels, hours, extra_channels);

  // --- GetRecords, one channel, the whole day --------------------------------
  {
    std::vector<double> rates;
    size_t n = 0, bytes = 0;
    for (int rep = 0; rep < 5; ++rep) {
      const auto t0 = Clock::now();
      std::tie(n, bytes) = read_records(*api, "XX.S0001.00.HHZ", day0, day0 + span);
      rates.push_back(static_cast<double>(n) / seconds_since(t0));
    }
    const double median = percentile(rates, 50);
    report.add("get_records_one_channel_day_records_per_s", median, "rec/s",
               fmt::format("{} records per read, median of 5; {}", n, store_conditions));
    report.add("get_records_one_channel_day_mb_per_s", median * static_cast<double>(bytes) / static_cast<double>(n) / 1e6,
               "MB/s", fmt::format("median of 5; {}", store_conditions));
  }

  // --- dataselect (HTTP), the same channel and day, back to back with GetRecords
  {
    const auto colon = server.http_address().rfind(':');
    httplib::Client http(server.http_address().substr(0, colon), std::stoi(server.http_address().substr(colon + 1)));
    http.set_read_timeout(300, 0);
    http.set_keep_alive(true);  // as FDSN clients that reuse connections (requests.Session, SeisComP)
    http.set_tcp_nodelay(true);
    std::vector<double> grpc_rates, http_rates;
    size_t n = 0, bytes = 0;
    // A read takes tens of milliseconds: many alternating pairs, medians.
    constexpr int kPairs = 15;
    for (int rep = 0; rep < kPairs; ++rep) {
      auto t0 = Clock::now();
      std::tie(n, bytes) = read_records(*api, "XX.S0001.00.HHZ", day0, day0 + span);
      grpc_rates.push_back(static_cast<double>(n) / seconds_since(t0));
      t0 = Clock::now();
      const auto [hn, hbytes] = dataselect(http, "XX", "S0001", "HHZ", day0, day0 + span);
      if (hbytes != bytes) {
        throw std::runtime_error(fmt::format("dataselect returned {} bytes, GetRecords {}", hbytes, bytes));
      }
      http_rates.push_back(static_cast<double>(hn) / seconds_since(t0));
    }
    const double g = percentile(grpc_rates, 50), h = percentile(http_rates, 50);
    const auto cond = fmt::format("{} records per read, median of {}, alternating with GetRecords; {}", n, kPairs,
                                  store_conditions);
    report.add("dataselect_one_channel_day_records_per_s", h, "rec/s", cond);
    report.add("dataselect_one_channel_day_mb_per_s", h * static_cast<double>(bytes) / static_cast<double>(n) / 1e6,
               "MB/s", cond);
    report.add("dataselect_vs_get_records_ratio", h / g, "x",
               fmt::format("dataselect rec/s / GetRecords rec/s in the same run ({:.0f} rec/s); target >= 0.8", g));

    std::mt19937_64 rng(11);
    std::vector<double> ms;
    const TimeNs hour = 3600 * kNanosPerSecond;
    for (size_t q = 0; q < hour_queries; ++q) {
      const size_t c = rng() % channels;
      const TimeNs a = day0 + static_cast<TimeNs>(rng() % static_cast<uint64_t>(std::max<TimeNs>(1, span - hour)));
      const auto t0 = Clock::now();
      dataselect(http, "XX", fmt::format("S{:04}", c), "HHZ", a, a + hour);
      ms.push_back(seconds_since(t0) * 1e3);
    }
    report.add("dataselect_1h_window_p50", percentile(ms, 50), "ms",
               fmt::format("{} queries over HTTP keep-alive; {}", hour_queries, store_conditions));
    report.add("dataselect_1h_window_p99", percentile(ms, 99), "ms",
               fmt::format("{} queries over HTTP keep-alive; {}", hour_queries, store_conditions));
  }

  // --- 1-hour windows at random times and channels ---------------------------
  {
    std::mt19937_64 rng(7);
    std::vector<double> ms;
    const TimeNs hour = 3600 * kNanosPerSecond;
    for (size_t q = 0; q < hour_queries; ++q) {
      const size_t c = rng() % channels;
      const TimeNs a = day0 + static_cast<TimeNs>(rng() % static_cast<uint64_t>(std::max<TimeNs>(1, span - hour)));
      const auto t0 = Clock::now();
      read_records(*api, fmt::format("XX.S{:04}.00.HHZ", c), a, a + hour);
      ms.push_back(seconds_since(t0) * 1e3);
    }
    report.add("get_records_1h_window_p50", percentile(ms, 50), "ms", fmt::format("{} queries; {}", hour_queries, store_conditions));
    report.add("get_records_1h_window_p99", percentile(ms, 99), "ms", fmt::format("{} queries; {}", hour_queries, store_conditions));
  }

  // --- Availability over the day with gaps -----------------------------------
  {
    std::vector<double> ms;
    size_t got_gaps = 0;
    for (int rep = 0; rep < 5; ++rep) {
      wv::GetAvailabilityRequest req;
      req.mutable_selection()->add_patterns("XX.S0000.00.HHZ");
      wv::GetAvailabilityResponse resp;
      auto c = ctx();
      const auto t0 = Clock::now();
      if (auto st = api->GetAvailability(c.get(), req, &resp); !st.ok()) throw std::runtime_error(st.error_message());
      ms.push_back(seconds_since(t0) * 1e3);
      got_gaps = resp.channels_size() ? static_cast<size_t>(resp.channels(0).gaps_size()) : 0;
    }
    if (got_gaps != gap_count) fmt::print(stderr, "warning: {} gaps reported, {} made\n", got_gaps, gap_count);
    report.add("get_availability_day_with_gaps", percentile(ms, 50), "ms",
               fmt::format("one channel, {} gaps found of {} made, median of 5; {}", got_gaps, gap_count, store_conditions));
  }

  // --- ListChannels -----------------------------------------------------------
  {
    std::vector<double> ms;
    size_t listed = 0;
    for (int rep = 0; rep < 5; ++rep) {
      wv::ListChannelsResponse resp;
      auto c = ctx();
      const auto t0 = Clock::now();
      if (auto st = api->ListChannels(c.get(), {}, &resp); !st.ok()) throw std::runtime_error(st.error_message());
      ms.push_back(seconds_since(t0) * 1e3);
      listed = static_cast<size_t>(resp.channels_size());
    }
    report.add("list_channels", percentile(ms, 50), "ms", fmt::format("{} channels, median of 5", listed));
  }

  // --- Subscribe latency under full ingest load ------------------------------
  {
    std::atomic<bool> done{false};
    std::atomic<size_t> delivered{0};
    std::vector<double> latency_ms, receive_ms;
    grpc::ClientContext sub_ctx;
    std::thread subscriber([&] {
      wv::SubscribeRequest req;
      req.mutable_selection()->add_patterns("YY.*");
      req.set_batched(true);
      auto reader = api->Subscribe(&sub_ctx, req);
      wv::SubscribeEvent ev;
      while (reader->Read(&ev)) {
        const TimeNs now = now_ns();
        for (const auto& r : ev.records().records()) {
          latency_ms.push_back(static_cast<double>(now - r.commit_ns()) / 1e6);
          receive_ms.push_back(static_cast<double>(now - r.receive_ns()) / 1e6);
          ++delivered;
        }
      }
      reader->Finish();
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // let the subscription register
    auto o = server.push_options();
    auto pusher = client::PushClient::open(o);
    if (!pusher.ok()) throw std::runtime_error(pusher.status().message());
    RecordGenerator gen(1000, day0 + 2 * span + 86400 * kNanosPerSecond, 16, "YY");
    std::vector<uint8_t> rec;
    const auto t0 = Clock::now();
    for (size_t i = 0; i < push_records; ++i) {
      gen.next(i % 1000, rec);
      if (auto s = pusher->add(rec); !s.ok()) throw std::runtime_error(s.message());
    }
    if (auto s = pusher->flush(std::chrono::minutes(10)); !s.ok()) throw std::runtime_error(s.message());
    const double rate = static_cast<double>(push_records) / seconds_since(t0);
    for (int i = 0; i < 200 && delivered.load() < push_records; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    sub_ctx.TryCancel();
    subscriber.join();
    done = true;
    const std::string cond = fmt::format("commit (durable) -> subscriber (batched events), {} of {} records delivered, "
                                         "ingest at {:.0f} rec/s meanwhile",
                                         delivered.load(), push_records, rate);
    report.add("subscribe_latency_p50", percentile(latency_ms, 50), "ms", cond);
    report.add("subscribe_latency_p99", percentile(latency_ms, 99), "ms", cond);
    report.add("receive_to_subscriber_p99", percentile(receive_ms, 99), "ms",
               "server receive -> subscriber: adds validation, queueing and the group commit; " + cond);
  }
  server.stop();
  report.print();
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return seisvault::bench::main_guarded(argc, argv, run); }
