// bench_retention: what retention costs. A store holding a day of old data
// for 1,000 channels (512-byte Steim-2 at 100 Hz, written as the committer
// writes: groups of a few thousand records, round-robin) expires that day
// (RecordStore::expire) while a writer goes on storing new records at a
// steady rate in group-commit cycles (write, then WAL fsync, every 5 ms):
// the pass's time, the longest time it held writes back, the space it gave
// back, and the writer's cycle latency (write + fsync: what an ack waits
// for in the store) with and without the pass running.
#include <sys/statvfs.h>

#include <atomic>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "bench_support.h"
#include "seisvault/common/logging.h"
#include "seisvault/storage/record_store.h"

using namespace seisvault;
using namespace seisvault::bench;

namespace {

constexpr TimeNs kDay = TimeNs{86400} * kNanosPerSecond;

uint64_t free_bytes(const std::filesystem::path& dir) {
  struct statvfs st {};
  if (::statvfs(dir.c_str(), &st) != 0) return 0;
  return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

// Writes new records at `rate` per second in 5 ms cycles (write, then
// sync_wal) until `stop`; the cycle latencies (ms) go to `latencies`.
void steady_writer(storage::RecordStore& store, RecordGenerator& gen, double rate, const std::atomic<bool>& stop,
                   std::vector<double>& latencies) {
  ingest::RecordValidator validator;
  const auto cycle = std::chrono::milliseconds(5);
  const size_t per_cycle = std::max<size_t>(1, static_cast<size_t>(rate * 0.005));
  std::vector<std::vector<uint8_t>> bytes(per_cycle);
  size_t c = 0;
  auto next = Clock::now();
  while (!stop.load()) {
    for (auto& b : bytes) gen.next(c++ % gen.channels(), b);
    std::vector<ingest::ValidatedRecord> meta;
    const auto batch = new_records(validator, bytes, meta);
    std::vector<storage::WriteOutcome> out(batch.size());
    const auto t0 = Clock::now();
    if (auto s = store.write(batch, out, false); !s.ok()) throw std::runtime_error(s.message());
    if (auto s = store.sync_wal(); !s.ok()) throw std::runtime_error(s.message());
    latencies.push_back(seconds_since(t0) * 1000);
    next += cycle;
    std::this_thread::sleep_until(next);
    if (Clock::now() > next + cycle) next = Clock::now();  // behind: no burst to catch up
  }
}

int run(int argc, char** argv) {
  CLI::App app{"bench_retention: the cost of expiring a day of data while writes go on"};
  size_t channels = 1000;
  double hours = 24, rate = 50'000, measure_s = 10;
  std::string dir_arg;
  bool smoke = false;
  app.add_option("--channels", channels, "channels with old data")->capture_default_str();
  app.add_option("--hours", hours, "hours of 100 Hz data per channel to expire")->capture_default_str();
  app.add_option("--rate", rate, "records/s the steady writer stores meanwhile")->capture_default_str();
  app.add_option("--measure-s", measure_s, "seconds of writes measured without a pass")->capture_default_str();
  app.add_option("--dir", dir_arg, "work directory (default: a fresh one under $TMPDIR, removed after)");
  app.add_flag("--smoke", smoke, "tiny sizes: checks the benchmark runs, measures nothing");
  CLI11_PARSE(app, argc, argv);
  if (smoke) {
    channels = 10;
    hours = 0.5;
    rate = 2000;
    measure_s = 1;
  }
  (void)configure_logging("warn");
  WorkDir dir(dir_arg);
  storage::StoreOptions options;
  options.min_free_bytes = 0;
  auto opened = storage::RecordStore::open(dir.path() / "store", options);
  if (!opened.ok()) throw std::runtime_error(opened.status().message());
  auto& store = **opened;

  // The old day, 40 days ago, round-robin in committer-sized writes.
  const TimeNs now = now_ns();
  RecordGenerator old_gen(channels, now - 40 * kDay);
  const int samples = old_gen.samples_per_record(0);
  const size_t per_channel = static_cast<size_t>(hours * 3600 * 100 / samples) + 1;
  StoreFiller filler(store, 3000);
  const auto fill_started = Clock::now();
  std::vector<uint8_t> rec;
  for (size_t i = 0; i < per_channel; ++i) {
    for (size_t c = 0; c < channels; ++c) {
      old_gen.next(c, rec);
      filler.add(rec);
    }
  }
  filler.flush();
  if (auto s = store.sync_wal(); !s.ok()) throw std::runtime_error(s.message());
  const double fill_s = seconds_since(fill_started);
  const size_t old_records = filler.count();
  fmt::print("filled {} records ({:.1f} GiB) in {:.1f} s\n", old_records, old_records * 512.0 / (1 << 30), fill_s);

  const std::string conditions = fmt::format(
      "{} channels x {:.1f} h of 100 Hz 512-byte Steim-2 ({} records) expired while a writer stores {:.0f} "
      "records/s in 5 ms write+fsync cycles",
      channels, hours, old_records, rate);
  Report report("retention");

  // The writer alone, then with the pass.
  RecordGenerator new_gen(channels, now - 60 * kNanosPerSecond, 256, "YY");
  std::vector<double> quiet, during;
  {
    std::atomic<bool> stop{false};
    std::thread writer([&] { steady_writer(store, new_gen, rate, stop, quiet); });
    std::this_thread::sleep_for(std::chrono::duration<double>(measure_s));
    stop = true;
    writer.join();
  }
  const uint64_t free_before = free_bytes(dir.path());
  storage::RetentionPolicy policy;
  policy.default_days = 30;
  Result<storage::ExpireStats> expired = storage::ExpireStats{};
  {
    std::atomic<bool> stop{false};
    std::thread writer([&] { steady_writer(store, new_gen, rate, stop, during); });
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    expired = store.expire(policy, now_ns());
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    stop = true;
    writer.join();
  }
  if (!expired.ok()) throw std::runtime_error(expired.status().message());
  const uint64_t free_after = free_bytes(dir.path());
  if (expired->records != old_records) {
    throw std::runtime_error(fmt::format("expired {} records of {}", expired->records, old_records));
  }
  report.add("expire_seconds", expired->seconds, "s", "the whole pass; " + conditions);
  report.add("expire_records_per_s", expired->records / std::max(expired->seconds, 1e-9), "rec/s", conditions);
  report.add("expire_longest_hold", expired->longest_hold_ms, "ms",
             "the longest time the pass held writes back (one step: at most 4,096 blocks of a channel)");
  report.add("expire_segment_files_deleted", static_cast<double>(expired->segment_files), "files", conditions);
  report.add("expire_space_returned", static_cast<double>(free_after - std::min(free_after, free_before)) / (1 << 20),
             "MiB", "free space of the store's file system after the pass minus before (writes went on meanwhile)");
  report.add("writer_cycle_p50_quiet", percentile(quiet, 50), "ms", "write + WAL fsync, no pass; " + conditions);
  report.add("writer_cycle_p99_quiet", percentile(quiet, 99), "ms", "write + WAL fsync, no pass; " + conditions);
  report.add("writer_cycle_p50_during", percentile(during, 50), "ms", "write + WAL fsync, pass running; " + conditions);
  report.add("writer_cycle_p99_during", percentile(during, 99), "ms", "write + WAL fsync, pass running; " + conditions);
  report.add("writer_cycle_p99_ratio", percentile(during, 99) / std::max(percentile(quiet, 99), 1e-9), "x",
             "p99 during the pass / p99 without");
  report.print();
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return main_guarded(argc, argv, run); }
