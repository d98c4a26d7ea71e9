// Shared pieces of the benchmarks: synthetic records, timing, figures.
//
// Records are made once per channel with libmseed's packer from a 100 Hz
// random walk (the shape of real seismic noise), then copied with their
// start time moved forward record by record: every record is distinct,
// valid Steim-2, and the generator costs a memcpy, so it does not compete
// with the server for the CPU it measures.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "seisvault/common/time.h"
#include "seisvault/ingest/record_validator.h"
#include "seisvault/storage/record_store.h"

namespace seisvault::bench {

class RecordGenerator {
 public:
  // `channels` channels NET.Snnnn.00.HHZ (NET = `network`), 512-byte Steim-2 records at 100 Hz
  // starting at `start_ns`. The records' data come from a pool of `templates`
  // records packed by libmseed from one random walk; each channel walks the
  // pool from its own place, with its codes and start time written in.
  RecordGenerator(size_t channels, TimeNs start_ns, size_t templates = 256, const std::string& network = "XX");
  size_t channels() const { return channels_.size(); }
  // The next record of channel c (its start time follows the previous one).
  void next(size_t c, std::vector<uint8_t>& out);
  std::string source_id(size_t c) const;
  // Samples in channel c's next record (so callers can compute time spans).
  int samples_per_record(size_t c) const;

 private:
  struct Channel {
    std::string station;
    std::string network;
    TimeNs next_start = 0;
    size_t index = 0;
    std::string id;
  };
  std::vector<std::vector<uint8_t>> templates_;
  std::vector<int> samples_;  // per template
  std::vector<Channel> channels_;
};

// Sets the start time of a miniSEED 2 record (big-endian header, blockette
// 1001 microseconds kept as they are) to `t` (microsecond resolution).
void set_record_start(std::vector<uint8_t>& record, TimeNs t);

// The store's view of `records` as the validator sees them, received now
// from sender "bench"; `meta` holds what the views point into. Throws
// std::runtime_error for an invalid record.
std::vector<storage::NewRecord> new_records(ingest::RecordValidator& validator,
                                           const std::vector<std::vector<uint8_t>>& records,
                                           std::vector<ingest::ValidatedRecord>& meta);

// Writes records straight to a store (no server) with the metadata the
// validator gives them, in writes of `group` records (what the committer
// makes under load), received now from sender "bench". Throws
// std::runtime_error when a record is invalid or a write fails.
class StoreFiller {
 public:
  explicit StoreFiller(storage::RecordStore& store, size_t group = 4096) : store_(store), group_(group) {}
  void add(std::vector<uint8_t> record);
  void flush();
  size_t count() const { return count_; }

 private:
  storage::RecordStore& store_;
  size_t group_;
  ingest::RecordValidator validator_;
  std::vector<std::vector<uint8_t>> pending_;
  size_t count_ = 0;
};

// The benchmark's work directory: `given` when not empty (kept afterwards),
// else a fresh one under $TMPDIR, removed with everything in it when the
// object goes out of scope.
class WorkDir {
 public:
  explicit WorkDir(const std::string& given);
  ~WorkDir();
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  bool owned_ = false;
};

struct Figure {
  std::string name;
  double value;
  std::string unit;
  std::string conditions;
};

// Prints a JSON line per figure (after a human table).
class Report {
 public:
  explicit Report(std::string bench) : bench_(std::move(bench)) {}
  void add(std::string name, double value, std::string unit, std::string conditions = "");
  // The value of the last figure named `name` (0 if there is none).
  double value(std::string_view name) const;
  void print() const;

 private:
  std::string bench_;
  std::vector<Figure> figures_;
};

double percentile(std::vector<double> values, double p);

// CPU seconds (user + system) and peak RSS (bytes) of a process.
double process_cpu_seconds(int pid);
// CPU seconds per thread name (/proc/PID/task/*/comm), the threads of one
// name summed: SeisVault names its stages "sv-..." (common/thread_name.h),
// RocksDB its pools "rocksdb:low"/"rocksdb:high". Threads that ended are
// not counted.
std::map<std::string, double> thread_cpu_seconds(int pid);
// Bytes the process caused to be written to storage (/proc/PID/io
// write_bytes): WAL, table files, whatever reached the disk on its account.
uint64_t process_write_bytes(int pid);
uint64_t process_peak_rss(int pid);
uint64_t process_rss(int pid);

using Clock = std::chrono::steady_clock;
inline double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// The body of a benchmark's main(): calls run(argc, argv) and turns an
// exception thrown from it into a message and exit status 1. Errors end the
// run through main, so that destructors clean up (the server child, the work
// directory).
int main_guarded(int argc, char** argv, int (*run)(int, char**));

}  // namespace seisvault::bench
