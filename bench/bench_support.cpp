#include "bench_support.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "seisvault/common/sha256.h"
#include "support/record_factory.h"

namespace seisvault::bench {

namespace {

// Writes `code` into a fixed-header field of `width` bytes, space-padded.
void put_code(std::vector<uint8_t>& r, size_t offset, size_t width, std::string_view code) {
  for (size_t i = 0; i < width; ++i) r[offset + i] = i < code.size() ? static_cast<uint8_t>(code[i]) : ' ';
}

}  // namespace

RecordGenerator::RecordGenerator(size_t channels, TimeNs start_ns, size_t templates, const std::string& network) {
  // One pool of packed records shared by all channels, each channel at its
  // own place in it: a pool per channel (8 MB for 1,000 channels) made every
  // copy a cache miss, and the generator then cost the pushing process more
  // than the client library does.
  test::RecordSpec spec;
  spec.network = network;
  spec.station = "S0000";
  spec.channel = "HHZ";
  spec.start_ns = start_ns;
  spec.record_length = 512;
  const size_t pool = std::max<size_t>(1, templates);
  auto recs = test::pack_records(spec, test::random_walk(pool * 700, 1, 40));
  recs.resize(std::min(recs.size(), pool));
  for (auto& r : recs) {
    samples_.push_back((r[30] << 8) | r[31]);
    templates_.push_back(std::move(r));
  }
  channels_.resize(channels);
  for (size_t c = 0; c < channels; ++c) {
    auto& ch = channels_[c];
    ch.station = fmt::format("S{:04}", c % 10000);
    ch.network = c < 10000 ? network : fmt::format("{}{}", network.substr(0, 1), c / 10000);
    ch.id = fmt::format("{}.{}.00.HHZ", ch.network, ch.station);
    ch.index = c % templates_.size();
    ch.next_start = start_ns;
  }
}

std::string RecordGenerator::source_id(size_t c) const { return channels_[c].id; }
int RecordGenerator::samples_per_record(size_t c) const { return samples_[channels_[c].index % samples_.size()]; }

void RecordGenerator::next(size_t c, std::vector<uint8_t>& out) {
  auto& ch = channels_[c];
  const size_t k = ch.index++ % templates_.size();
  out = templates_[k];
  put_code(out, 8, 5, ch.station);
  put_code(out, 18, 2, ch.network);
  set_record_start(out, ch.next_start);
  ch.next_start += static_cast<TimeNs>(samples_[k]) * 10'000'000;  // 100 Hz
}

void set_record_start(std::vector<uint8_t>& r, TimeNs t) {
  // Fixed header BTime at byte 20 (big-endian): year, day, hour, min, sec, unused, fract (0.0001 s).
  using namespace std::chrono;
  const int64_t us_total = t / 1000;
  const int64_t secs = us_total / 1'000'000;
  const int64_t us = us_total % 1'000'000;
  const sys_days day{days{secs / 86400}};
  const int64_t sod = secs % 86400;
  const year_month_day ymd{day};
  const auto day_of_year = (day - sys_days{ymd.year() / January / 1}).count() + 1;
  const uint16_t y = static_cast<uint16_t>(static_cast<int>(ymd.year())), d = static_cast<uint16_t>(day_of_year);
  r[20] = static_cast<uint8_t>(y >> 8);
  r[21] = static_cast<uint8_t>(y);
  r[22] = static_cast<uint8_t>(d >> 8);
  r[23] = static_cast<uint8_t>(d);
  r[24] = static_cast<uint8_t>(sod / 3600);
  r[25] = static_cast<uint8_t>((sod / 60) % 60);
  r[26] = static_cast<uint8_t>(sod % 60);
  const uint16_t fract = static_cast<uint16_t>(us / 100);
  r[28] = static_cast<uint8_t>(fract >> 8);
  r[29] = static_cast<uint8_t>(fract);
  // Blockette 1001 (if any) keeps the microseconds below 100 us: find and set it.
  size_t off = (r[46] << 8) | r[47];
  for (int guard = 0; off != 0 && off + 8 <= r.size() && guard < 8; ++guard) {
    const int type = (r[off] << 8) | r[off + 1];
    if (type == 1001) r[off + 5] = static_cast<uint8_t>(static_cast<int8_t>(us % 100));
    off = (r[off + 2] << 8) | r[off + 3];
  }
}

WorkDir::WorkDir(const std::string& given) : path_(given) {
  if (!path_.empty()) return;
  std::string tmpl = (std::filesystem::temp_directory_path() / "seisvault-bench-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("cannot make a work directory under $TMPDIR");
  path_ = tmpl;
  owned_ = true;
}

WorkDir::~WorkDir() {
  if (!owned_) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void Report::add(std::string name, double value, std::string unit, std::string conditions) {
  figures_.push_back({std::move(name), value, std::move(unit), std::move(conditions)});
}

double Report::value(std::string_view name) const {
  for (auto it = figures_.rbegin(); it != figures_.rend(); ++it) {
    if (it->name == name) return it->value;
  }
  return 0;
}

void Report::print() const {
  fmt::print("\n{:<44} {:>14}  {:<10} {}\n", bench_ + " figure", "value", "unit", "conditions");
  fmt::print("{}\n", std::string(110, '-'));
  for (const auto& f : figures_) {
    fmt::print("{:<44} {:>14.6g}  {:<10} {}\n", f.name, f.value, f.unit, f.conditions);
  }
  fmt::print("\n");
  for (const auto& f : figures_) {
    std::string cond;
    for (char c : f.conditions) {
      if (c == '"' || c == '\\') cond += '\\';
      cond += c;
    }
    fmt::print("{{\"bench\":\"{}\",\"name\":\"{}\",\"value\":{},\"unit\":\"{}\",\"conditions\":\"{}\"}}\n", bench_,
               f.name, f.value, f.unit, cond);
  }
  std::fflush(stdout);
}

void StoreFiller::add(std::vector<uint8_t> record) {
  pending_.push_back(std::move(record));
  if (pending_.size() >= group_) flush();
}

std::vector<storage::NewRecord> new_records(ingest::RecordValidator& validator,
                                           const std::vector<std::vector<uint8_t>>& records,
                                           std::vector<ingest::ValidatedRecord>& meta) {
  meta.clear();
  meta.reserve(records.size());
  for (const auto& r : records) {
    auto v = validator.validate(r, kTimeMax / 2);
    if (!v.ok()) throw std::runtime_error(v.message);
    meta.push_back(v.record);
  }
  std::vector<storage::NewRecord> batch;
  batch.reserve(meta.size());
  for (const auto& m : meta) {
    batch.push_back({m.source_id(), m.start_ns, m.end_ns, m.sample_rate, m.sample_count, m.bytes, sha256(m.bytes),
                     now_ns(), "bench"});
  }
  return batch;
}

void StoreFiller::flush() {
  if (pending_.empty()) return;
  std::vector<ingest::ValidatedRecord> meta;
  const auto batch = new_records(validator_, pending_, meta);
  std::vector<storage::WriteOutcome> out(batch.size());
  if (auto s = store_.write(batch, out, false); !s.ok()) throw std::runtime_error(s.message());
  count_ += batch.size();
  pending_.clear();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5));
  return v[i];
}

// utime + stime of a /proc stat file, in seconds.
static double stat_cpu_seconds(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  const auto close = line.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stod(field);
    if (i == 15) stime = std::stod(field);
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double process_cpu_seconds(int pid) { return stat_cpu_seconds(fmt::format("/proc/{}/stat", pid)); }

std::map<std::string, double> thread_cpu_seconds(int pid) {
  std::map<std::string, double> out;
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator(fmt::format("/proc/{}/task", pid), ec)) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    std::getline(comm, name);
    if (name.empty()) continue;
    out[name] += stat_cpu_seconds((task.path() / "stat").string());
  }
  return out;
}

uint64_t process_write_bytes(int pid) {
  std::ifstream in(fmt::format("/proc/{}/io", pid));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("write_bytes:", 0) == 0) return std::stoull(line.substr(12));
  }
  return 0;
}

static uint64_t status_kib(int pid, const char* key) {
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) return std::stoull(line.substr(std::strlen(key))) * 1024;
  }
  return 0;
}

uint64_t process_peak_rss(int pid) { return status_kib(pid, "VmHWM:"); }
uint64_t process_rss(int pid) { return status_kib(pid, "VmRSS:"); }

int main_guarded(int argc, char** argv, int (*run)(int, char**)) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", argv[0], e.what());
    return 1;
  }
}

}  // namespace seisvault::bench
