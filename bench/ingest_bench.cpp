// bench_ingest: end-to-end ingest throughput of a real seisvaultd (CURVE,
// WAL, group commit), measured against the component limits in the same run.
//
// The pushing side is this process, through the real client library
// (seisvault::client::PushClient); the server is a separate seisvaultd.
// Records: 512-byte Steim-2, 100 Hz random walk, round-robin over the
// channels (the least favourable order for the store's per-channel blocks).
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <thread>
#include <unordered_map>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <grpcpp/grpcpp.h>

#include "bench_server.h"
#include "bench_support.h"
#include "component_limits.h"
#include "seisvault/client/push_client.h"
#include "seisvault/common/logging.h"
#include "seisvault/proto/waveform.grpc.pb.h"

using namespace seisvault;
using namespace seisvault::bench;
namespace wv = seisvault::waveform::v1;

namespace {

int run(int argc, char** argv) {
  CLI::App app{"bench_ingest: seisvaultd ingest throughput vs. component limits"};
  size_t records = 5'000'000, channels = 1000, batch = 500, in_flight = 16, components = 2'000'000;
  int sync_ms = 5;
  unsigned workers = 0;
  size_t run = 1, subscriber_patterns = 0;
  double rate = 0;
  bool smoke = false;
  std::string dir_arg, trace_path, seisvaultd = std::string(SEISVAULT_BUILD_DIR) + "/server/seisvaultd";
  app.add_option("--records", records, "records to push")->check(CLI::Range(size_t{1}, std::numeric_limits<size_t>::max()))->capture_default_str();
  app.add_option("--channels", channels, "distinct channels")->check(CLI::Range(size_t{1}, std::numeric_limits<size_t>::max()))->capture_default_str();
  app.add_option("--batch", batch, "records per batch")->check(CLI::Range(size_t{1}, std::numeric_limits<size_t>::max()))->capture_default_str();
  app.add_option("--in-flight", in_flight, "batches in flight")->check(CLI::Range(size_t{1}, std::numeric_limits<size_t>::max()))->capture_default_str();
  app.add_option("--component-records", components, "records for each component limit")->check(CLI::Range(size_t{1}, std::numeric_limits<size_t>::max()))->capture_default_str();
  app.add_option("--sync-interval-ms", sync_ms, "server group-commit interval (the server's default)")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  app.add_option("--run", run,
                 "consecutive records per channel before the next (1: round-robin, the store's worst case; "
                 "32: a station backfilling its channels)")
      ->check(CLI::Range(size_t{1}, size_t{1000000}))
      ->capture_default_str();
  app.add_option("--rate", rate,
                 "offered load in records/s (0: as fast as acks allow). Paced, the ack latency of a record is "
                 "counted from when it was due, so a client held back by a full window does not hide the delay")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--workers", workers, "server validation threads (0: one per core)")->capture_default_str();
  app.add_option("--dir", dir_arg, "work directory (default: a fresh one under $TMPDIR, removed after)");
  app.add_option("--seisvaultd", seisvaultd, "server binary")->capture_default_str();
  app.add_option("--latency-trace", trace_path,
                 "write each sampled record's due time (s since the start) and ack latency (ms) to this file, "
                 "one line each, to see when the slow acks happened");
  app.add_option("--subscriber-patterns", subscriber_patterns,
                 "a live subscriber (Subscribe) during the run with this many patterns, of which only the last "
                 "selects anything (the first channel): what it costs ingest is matching, not delivery (0: none)")
      ->capture_default_str();
  std::vector<std::string> server_flags;
  app.add_option("--server-flag", server_flags,
                 "one more seisvaultd flag (repeat; a flag and its value as one argument each, e.g. "
                 "--server-flag=--memtable-mib --server-flag=64): for trying a setting");
  bool sustained = false;
  bool unsigned_station = false;
  bool signature_cost = false;
  app.add_flag("--unsigned", unsigned_station,
               "the station sends unsigned batches (its entry allow-unsigned); by default it signs each batch");
  size_t signature_pairs = 2;
  app.add_flag("--signature-cost", signature_cost,
               "after the (signed) end-to-end run, more runs alternating unsigned and signed in the order unsigned, "
               "signed, signed, unsigned (repeated), each on a fresh server, and the ratios of their throughput "
               "and ack p99 (sums of all signed runs over all unsigned ones)");
  app.add_option("--signature-pairs", signature_pairs,
                 "with --signature-cost: how many signed and as many unsigned runs (at least 2; an odd number is rounded up)")
      ->check(CLI::Range(size_t{2}, size_t{100}))
      ->capture_default_str();
  app.add_flag("--sustained", sustained,
               "10 M records (unless --records says more): long enough for compactions to run as they do in "
               "service, for the write amplification figure");
  app.add_flag("--smoke", smoke, "a few thousand records: checks the benchmark runs, measures nothing");
  CLI11_PARSE(app, argc, argv);
  if (sustained) records = std::max<size_t>(records, 10'000'000);
  (void)configure_logging("warn");
  if (smoke) {
    records = 5000;
    channels = 50;
    components = 5000;
  }
  const WorkDir work(dir_arg);
  const std::filesystem::path& dir = work.path();
  const TimeNs start = *parse_iso8601("2025-01-01T00:00:00Z");
  const std::string conditions_base =
      fmt::format("{} records, {} channels ({}), 512-byte Steim-2, batches of {}, {} in flight, CURVE, WAL fsync every {} "
                  "ms, {} cores",
                  records, channels, run == 1 ? std::string("round-robin") : fmt::format("runs of {}", run), batch,
                  in_flight, sync_ms, std::thread::hardware_concurrency()) +
      (rate > 0 ? fmt::format(", offered {:.0f} records/s", rate) : std::string()) +
      (subscriber_patterns > 0 ? fmt::format(", a subscriber holding {} patterns", subscriber_patterns) : std::string()) +
      (server_flags.empty() ? std::string() : fmt::format(", seisvaultd {}", fmt::join(server_flags, " ")));
  Report report("ingest");

  // --- End to end -----------------------------------------------------------
  double e2e_rate = 0;
  size_t store_group = 3000;  // records per store write: what the server's committer made, once known
  double ack_p99 = 0;         // of the first run
  // One run of the whole path, on a fresh server in `server_dir`; figures
  // named with `suffix`. The station signs its batches when `signing`.
  auto end_to_end = [&](bool signing, const std::string& suffix, const std::filesystem::path& server_dir) -> int {
    // What the run before left for the kernel to write back (its server's
    // store, GBs of it) is written now, not during this run: without it the
    // run right after the first paid for it (--signature-cost: a p99 of
    // 300 ms in the second run against 50-80 ms in the others).
    ::sync();
    const std::string conditions = conditions_base + (signing ? ", batches signed (Ed25519)" : ", batches unsigned");
    const auto add = [&](const std::string& name, double value, const std::string& unit, const std::string& cond) {
      report.add(name + suffix, value, unit, cond);
    };
    std::vector<std::string> flags = {"--ingest", "tcp://127.0.0.1:*", "--api", "127.0.0.1:0", "--http", "127.0.0.1:0",
                                      "--seedlink", "127.0.0.1:0", "--sync", "group", "--sync-interval-ms",
                                      std::to_string(sync_ms), "--workers", std::to_string(workers)};
    flags.insert(flags.end(), server_flags.begin(), server_flags.end());
    BenchServer server(seisvaultd, server_dir, flags, signing);
    RecordGenerator gen(channels, start);
    std::unordered_map<std::string, Clock::time_point> sent_at;  // sampled records
    std::vector<double> latencies_ms;
    auto key_of = [](std::span<const uint8_t> r) {
      return std::string(reinterpret_cast<const char*>(r.data()) + 8, 5) +
             std::string(reinterpret_cast<const char*>(r.data()) + 20, 10);
    };
    std::unique_ptr<FILE, int (*)(FILE*)> trace(nullptr, &std::fclose);
    if (!trace_path.empty()) {
      trace.reset(std::fopen(trace_path.c_str(), "w"));
      if (!trace) {
        fmt::print(stderr, "bench_ingest: cannot write {}: {}\n", trace_path, std::strerror(errno));
        return 1;
      }
    }
    Clock::time_point t0 = Clock::now();
    auto o = server.push_options();
    o.max_batch_records = batch;
    o.max_in_flight = in_flight;
    o.ack_timeout = std::chrono::seconds(60);
    o.on_result = [&](const client::RecordOutcome& out) {
      if (out.status != client::RecordStatus::kStored) {
        std::fprintf(stderr, "record not stored: %.*s\n", static_cast<int>(out.message.size()), out.message.data());
        return;
      }
      if (out.index % 50 != 0) return;  // only sampled records (see the add loop) are looked up
      if (auto it = sent_at.find(key_of(out.record)); it != sent_at.end()) {
        latencies_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - it->second).count());
        if (trace) {
          fmt::print(trace.get(), "{:.4f} {:.3f}\n", std::chrono::duration<double>(it->second - t0).count(),
                     latencies_ms.back());
        }
        sent_at.erase(it);
      }
    };
    auto pusher = client::PushClient::open(o);
    if (!pusher.ok()) {
      fmt::print(stderr, "bench_ingest: {}\n", pusher.status().message());
      return 1;
    }
    // The subscriber, registered before the first record goes out.
    auto api = wv::Waveforms::NewStub(grpc::CreateChannel(server.api_address(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext sub_ctx;
    std::atomic<uint64_t> sub_records{0}, sub_skipped{0};
    std::thread subscriber;
    if (subscriber_patterns > 0) {
      wv::SubscribeRequest req;
      for (size_t i = 1; i < subscriber_patterns; ++i) req.mutable_selection()->add_patterns(fmt::format("ZZ.Q{}.00.HHZ", i));
      req.mutable_selection()->add_patterns(gen.source_id(0));
      req.set_batched(true);
      subscriber = std::thread([&, req] {
        auto reader = api->Subscribe(&sub_ctx, req);
        wv::SubscribeEvent ev;
        while (reader->Read(&ev)) {
          sub_records += static_cast<uint64_t>(ev.records().records_size());
          sub_skipped += ev.skipped().records();
        }
        reader->Finish();
      });
      for (int i = 0; i < 200; ++i) {
        grpc::ClientContext c;
        wv::Stats stats;
        if (api->GetStats(&c, {}, &stats).ok() && stats.subscribers() > 0) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    std::vector<uint8_t> rec;
    const double cpu0 = process_cpu_seconds(server.pid());
    const uint64_t written0 = process_write_bytes(server.pid());
    const auto threads0 = thread_cpu_seconds(server.pid());
    std::vector<uint64_t> rss_samples;
    t0 = Clock::now();
    uint64_t first_channel_records = 0;  // what the subscriber selects
    for (size_t i = 0; i < records; ++i) {
      const size_t c = (i / run) % channels;
      gen.next(c, rec);
      if (c == 0) ++first_channel_records;
      auto due = Clock::now();
      if (rate > 0) {
        due = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(static_cast<double>(i) / rate));
        if (due > Clock::now()) std::this_thread::sleep_until(due);
      }
      // Sample every 50th record of each batch (batches fill in add order, so
      // its index in the batch is i % batch) for the ack latency.
      if ((i % batch) % 50 == 0) sent_at.emplace(key_of(rec), due);
      if (auto s = pusher->add(rec); !s.ok()) {
        fmt::print(stderr, "bench_ingest: {}\n", s.message());
        return 1;
      }
      if (i % (records / 8 + 1) == 0) rss_samples.push_back(process_rss(server.pid()));
    }
    if (auto s = pusher->flush(std::chrono::minutes(10)); !s.ok()) {
      fmt::print(stderr, "bench_ingest: {}\n", s.message());
      return 1;
    }
    const double dt = seconds_since(t0);
    const double cpu = process_cpu_seconds(server.pid()) - cpu0;
    // Write amplification: what the server wrote to the disk (WAL, flushes,
    // compactions) per byte of miniSEED stored, counted until compaction is
    // idle (the bytes written stop growing for 3 s; at most 10 min).
    {
      uint64_t last = process_write_bytes(server.pid());
      int quiet = 0;
      const auto deadline = Clock::now() + std::chrono::minutes(10);
      while (quiet < 3 && Clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::seconds(1));
        const uint64_t now = process_write_bytes(server.pid());
        quiet = now == last ? quiet + 1 : 0;
        last = now;
      }
      const double payload = static_cast<double>(records) * 512;
      add("write_amplification", static_cast<double>(last - written0) / payload, "x",
                 fmt::format("bytes the server wrote to the disk (/proc write_bytes, WAL included) until compaction "
                             "was idle, per byte of miniSEED pushed ({:.0f} MB written for {:.0f} MB); {}",
                             static_cast<double>(last - written0) / 1e6, payload / 1e6, conditions));
    }
    // CPU per record per stage (threads by name, common/thread_name.h).
    {
      const auto threads1 = thread_cpu_seconds(server.pid());
      std::map<std::string, double> stage;
      for (const auto& [name, seconds] : threads1) {
        const auto before = threads0.find(name);
        const double used = seconds - (before == threads0.end() ? 0.0 : before->second);
        const std::string group = name.rfind("sv-", 0) == 0 || name.rfind("rocksdb:", 0) == 0 ? name : "other";
        stage[group] += used;
      }
      for (const auto& [name, seconds] : stage) {
        if (seconds <= 0) continue;
        add("cpu_us_per_record_" + name, seconds / static_cast<double>(records) * 1e6, "us",
                   "server threads of this name, from the first record to compaction idle; " + conditions);
      }
    }
    if (subscriber.joinable()) {
      // Its records are the first channel's: wait for them (or skips), then end it.
      const uint64_t expect = first_channel_records;
      for (int i = 0; i < 200 && sub_records + sub_skipped < expect; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      sub_ctx.TryCancel();
      subscriber.join();
      add("subscriber_records", static_cast<double>(sub_records), "records",
                 fmt::format("received by the subscriber ({} skipped, {} expected); {}", sub_skipped.load(), expect,
                             conditions));
    }
    const uint64_t peak = process_peak_rss(server.pid());
    const auto& st = pusher->stats();
    if (st.stored != records) fmt::print(stderr, "warning: {} of {} records stored\n", st.stored, records);
    const double rate_here = static_cast<double>(st.stored) / dt;
    if (suffix.empty()) e2e_rate = rate_here;
    add("end_to_end_records_per_s", rate_here, "rec/s", conditions);
    add("end_to_end_mb_per_s", rate_here * 512 / 1e6, "MB/s", conditions);
    if (suffix.empty()) ack_p99 = percentile(latencies_ms, 99);
    add("ack_latency_p50", percentile(latencies_ms, 50), "ms", "per record, add() to its ack; " + conditions);
    add("ack_latency_p99", percentile(latencies_ms, 99), "ms", "per record, add() to its ack; " + conditions);
    add("server_cpu_s_per_million_records", cpu / (static_cast<double>(records) / 1e6), "s", conditions);
    add("server_peak_rss", static_cast<double>(peak) / (1 << 20), "MiB", conditions);
    std::string rss;
    for (auto r : rss_samples) rss += fmt::format("{} ", r >> 20);
    add("server_rss_during_run_last", static_cast<double>(rss_samples.empty() ? 0 : rss_samples.back()) / (1 << 20),
               "MiB", "RSS sampled every 1/8 of the run (MiB): " + rss);
    server.stop();
    const auto line = server.log_line("ingest stopped");
    const auto each = line.find("store writes (");
    if (each != std::string::npos) {
      const double per_write = std::stod(line.substr(each + 14));
      if (per_write >= 1 && suffix.empty()) store_group = static_cast<size_t>(per_write);
      const auto per = line.find("records each, ", each);
      const double per_block = std::stod(line.substr(per + 14));
      add("store_records_per_write", per_write, "records", "RocksDB write batches the committer made; " + conditions);
      add("store_records_per_block", per_block, "records", "records per RocksDB entry; " + conditions);
    }
    return 0;
  };

  if (int rc = end_to_end(!unsigned_station, "", dir / "server"); rc != 0) return rc;
  if (signature_cost) {
    // The same run unsigned and signed in the order U S S U, U S S U, ...,
    // each on a fresh server, after the run above (which runs faster than
    // every later one on this machine, so it is not among them), so that a
    // drift of the machine falls on both alike: what signing (one Ed25519
    // signature per batch at the station, one verification at the server)
    // costs end to end. Each U S S U block gives a ratio of its own: their
    // spread says how far to trust the overall one.
    const size_t runs = 2 * (signature_pairs + signature_pairs % 2);
    double signed_rate = 0, signed_p99 = 0, unsigned_rate = 0, unsigned_p99 = 0;
    double block_signed = 0, block_unsigned = 0, block_min = 1e9, block_max = 0;
    for (size_t i = 0; i < runs; ++i) {
      const bool signing = i % 4 == 1 || i % 4 == 2;
      const std::string suffix = fmt::format("_{}_{}", signing ? "signed" : "unsigned", i + 1);
      const auto server_dir = dir / fmt::format("server{}", suffix);
      if (int rc = end_to_end(signing, suffix, server_dir); rc != 0) return rc;
      // Gone before the next run: the runs' stores (GBs each) filling the
      // disk made each run slower than the one before.
      std::filesystem::remove_all(server_dir);
      const double rate_i = report.value("end_to_end_records_per_s" + suffix);
      const double p99_i = report.value("ack_latency_p99" + suffix);
      (signing ? signed_rate : unsigned_rate) += rate_i;
      (signing ? signed_p99 : unsigned_p99) += p99_i;
      (signing ? block_signed : block_unsigned) += rate_i;
      if (i % 4 == 3) {
        block_min = std::min(block_min, block_signed / block_unsigned);
        block_max = std::max(block_max, block_signed / block_unsigned);
        block_signed = block_unsigned = 0;
      }
    }
    const std::string pairs = fmt::format("{} signed and {} unsigned runs", runs / 2, runs / 2);
    report.add("ratio_signed_to_unsigned_records_per_s", signed_rate / unsigned_rate, "ratio",
               "end to end, the signed runs over the unsigned ones (sums of " + pairs + "), in this run; " +
                   conditions_base);
    report.add("ratio_signed_to_unsigned_ack_p99", signed_p99 / unsigned_p99, "ratio",
               "ack latency p99, the signed runs over the unsigned ones (sums of " + pairs + "), in this run; " +
                   conditions_base);
    report.add("ratio_signed_to_unsigned_records_per_s_block_min", block_min, "ratio",
               "the lowest of the U S S U blocks' throughput ratios; " + conditions_base);
    report.add("ratio_signed_to_unsigned_records_per_s_block_max", block_max, "ratio",
               "the highest of the U S S U blocks' throughput ratios; " + conditions_base);
  }

  // --- Component limits, same record shape ----------------------------------
  Records sample;
  {
    RecordGenerator gen(channels, start + 86400 * kNanosPerSecond);
    sample.resize(components);
    for (size_t i = 0; i < components; ++i) gen.next((i / run) % channels, sample[i]);  // the same order as above
  }
  const std::string cc = fmt::format("{} records, {} channels ({}), one core", components, channels,
                                     run == 1 ? std::string("round-robin") : fmt::format("runs of {}", run));
  const double v = validator_rate(sample);
  const double h = sha256_rate(sample);
  const auto sig = signature_rates(sample, batch);
  storage::StoreOptions so;  // the server's defaults
  // The store's limit over as many records as the run above, so that it
  // pays for the same flushes and compactions (over 2 M records it measured
  // 341 k to 498 k/s, depending on whether a compaction fell inside). Best
  // of two fresh stores: a limit is the best the component can do.
  double s = 0;
  for (int k = 1; k <= 2; ++k) {
    Records all(records);
    RecordGenerator gen(channels, start + 86400 * kNanosPerSecond);
    for (size_t i = 0; i < records; ++i) gen.next((i / run) % channels, all[i]);
    s = std::max(s, store_rate(all, dir / fmt::format("store-limit-{}", k), so, store_group,
                               std::chrono::milliseconds(sync_ms)));
  }
  const double raw = rocksdb_raw_rate(sample, dir / "rocksdb-raw", so, std::chrono::milliseconds(sync_ms));
  const double z = zmq_curve_rate(sample, batch);
  report.add("limit_validator", v, "rec/s", "RecordValidator (libmseed header parse, Steim scan, checks), " + cc);
  report.add("limit_sha256", h, "rec/s", "OpenSSL SHA-256, " + cc);
  report.add("limit_batch_sign", sig.sign, "rec/s",
             fmt::format("Ed25519 batch signatures made (the station's side), batches of {}, {}", batch, cc));
  report.add("limit_batch_verify", sig.verify, "rec/s",
             fmt::format("Ed25519 batch signatures verified (the server's side), batches of {}, {}", batch, cc));
  report.add("limit_store_write_path", s, "rec/s",
             fmt::format("RecordStore::write of {}-record groups (as the server's committer made them), WAL fsync "
                         "every {} ms, best of 2 fresh stores, {} records (as many as end to end), {} channels ({}), "
                         "one core",
                         store_group, sync_ms, records, channels,
                         run == 1 ? std::string("round-robin") : fmt::format("runs of {}", run)));
  report.add("limit_zmq_curve", z, "rec/s",
             fmt::format("DEALER->ROUTER tcp loopback, CURVE, {}-record IngestBatch messages parsed, {}", batch, cc));
  report.add("reference_rocksdb_raw_one_entry_per_record", raw, "rec/s",
             fmt::format("plain RocksDB, 20-byte key + 512-byte value per record, WriteBatch 1000, WAL fsync every {} ms, {}",
                         sync_ms, cc));
  const double slowest = std::min({v, h, s, z});
  report.add("ratio_end_to_end_to_slowest_component", e2e_rate / slowest, "ratio",
             "slowest of validator, SHA-256, store write path, ZeroMQ CURVE");
  report.print();

  return 0;
}

}  // namespace

int main(int argc, char** argv) { return seisvault::bench::main_guarded(argc, argv, run); }
