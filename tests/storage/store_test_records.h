// Helpers of the storage tests: synthetic records (the store does not parse
// miniSEED; it trusts the metadata the ingest validator hands it), writing
// them and reading them back, with Catch2 checks on the way.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "seisvault/common/sha256.h"
#include "seisvault/common/time.h"
#include "seisvault/storage/availability.h"
#include "seisvault/storage/channel_selection.h"
#include "seisvault/storage/record_store.h"

namespace seisvault::storage_test {

using namespace seisvault::storage;

inline constexpr TimeNs kT0 = 1'700'000'000'000'000'000;  // 2023-11-14T22:13:20Z
inline constexpr TimeNs kSecond = kNanosPerSecond;
inline constexpr TimeNs kMs = 1'000'000;
inline constexpr TimeNs kPeriod100Hz = 10 * kMs;

inline StoreOptions small_options() {
  StoreOptions o;
  o.memtable_mib = 8;
  o.max_memtables = 2;
  o.block_cache_mib = 8;
  o.background_jobs = 2;
  return o;
}

inline StoreOptions small_options(uint32_t block_max_records, size_t block_max_bytes = 64 * 1024) {
  auto o = small_options();
  o.block_max_records = block_max_records;
  o.block_max_bytes = block_max_bytes;
  return o;
}

// One record of a test, owning its bytes.
struct Rec {
  std::string source_id;
  TimeNs start_ns = 0;
  TimeNs end_ns = 0;
  double sample_rate = 0;
  int64_t sample_count = 0;
  std::vector<uint8_t> bytes;
  Sha256Digest sha{};
  TimeNs receive_ns = 0;
  std::string sender;
};

// Deterministic bytes that differ for every (source id, start, salt).
inline std::vector<uint8_t> synthetic_bytes(const std::string& source_id, TimeNs start, uint32_t salt, size_t length) {
  std::string head = source_id + "|" + std::to_string(start) + "|" + std::to_string(salt) + "|";
  std::vector<uint8_t> out(head.begin(), head.end());
  std::seed_seq seed(head.begin(), head.end());
  std::mt19937 rng(seed);
  while (out.size() < length) out.push_back(static_cast<uint8_t>(rng()));
  out.resize(length);
  return out;
}

inline void rehash(Rec& r) { r.sha = sha256(r.bytes); }

// A record of `samples` samples at `rate` Hz starting at `start`; its end is
// the time of its last sample. `salt` makes records with equal metadata differ.
inline Rec rec(std::string source_id, TimeNs start, int64_t samples = 100, double rate = 100.0, uint32_t salt = 0,
        size_t length = 256) {
  Rec r;
  r.source_id = std::move(source_id);
  r.start_ns = start;
  r.sample_rate = rate;
  r.sample_count = samples;
  r.end_ns = (samples > 1 && rate > 0) ? start + (samples - 1) * sample_period_ns(rate) : start;
  r.bytes = synthetic_bytes(r.source_id, start, salt, length);
  rehash(r);
  // Received 30 s after its start; at the very end of the time range, at its
  // start (start + 30 s would overflow: UBSan stops the test there).
  r.receive_ns = start < kTimeMax - 60 * kSecond ? start + 30 * kSecond + salt : start;
  r.sender = "key-XX";
  return r;
}

// A record covering [start, end] exactly (samples at 100 Hz, end rounded to it).
inline Rec rec_span(std::string source_id, TimeNs start, TimeNs end, uint32_t salt = 0) {
  Rec r = rec(std::move(source_id), start, 1, 100.0, salt);
  r.end_ns = end;
  r.sample_count = (end - start) / kPeriod100Hz + 1;
  return r;
}

inline NewRecord as_new(const Rec& r) {
  NewRecord n;
  n.source_id = r.source_id;
  n.start_ns = r.start_ns;
  n.end_ns = r.end_ns;
  n.sample_rate = r.sample_rate;
  n.sample_count = r.sample_count;
  n.bytes = r.bytes;
  n.sha256 = r.sha;
  n.receive_ns = r.receive_ns;
  n.sender = r.sender;
  return n;
}

struct WriteResult {
  Status status;
  std::vector<WriteOutcome> outcomes;
  WriteStats stats;
};

inline WriteResult write(RecordStore& store, const std::vector<Rec>& recs, bool sync = false) {
  std::vector<NewRecord> in;
  in.reserve(recs.size());
  for (const auto& r : recs) in.push_back(as_new(r));
  WriteResult out;
  out.outcomes.assign(recs.size(), WriteOutcome::kDuplicate);
  out.stats.stored = out.stats.duplicates = out.stats.blocks = 9999;  // must be overwritten
  out.status = store.write(in, out.outcomes, sync, &out.stats);
  return out;
}

// Writes and requires success; returns the outcomes and stats.
inline WriteResult write_ok(RecordStore& store, const std::vector<Rec>& recs, bool sync = false) {
  auto w = write(store, recs, sync);
  INFO(w.status.to_string());
  REQUIRE(w.status.ok());
  return w;
}

inline size_t count_of(const std::vector<WriteOutcome>& v, WriteOutcome o) {
  return static_cast<size_t>(std::count(v.begin(), v.end(), o));
}

// A record as read back, copied out of the visitor.
struct Got {
  uint32_t channel_id = 0;
  std::string source_id;
  TimeNs start_ns = 0;
  TimeNs end_ns = 0;
  TimeNs receive_ns = 0;
  std::string sender;
  Sha256Digest sha{};
  std::vector<uint8_t> bytes;
};

inline Got copy_of(const StoredRecord& r) {
  Got g;
  g.channel_id = r.channel_id;
  g.source_id = std::string(r.source_id);
  g.start_ns = r.start_ns;
  g.end_ns = r.end_ns;
  g.receive_ns = r.receive_ns;
  g.sender = std::string(r.sender);
  REQUIRE(r.sha256 != nullptr);
  std::copy(r.sha256, r.sha256 + 32, g.sha.begin());
  g.bytes.assign(r.bytes.begin(), r.bytes.end());
  return g;
}

inline std::vector<Got> read(const RecordStore& store, const ChannelSelection& sel = {}, TimeWindow w = {}) {
  std::vector<Got> out;
  auto st = store.read_records(sel, w, [&](const StoredRecord& r) {
    out.push_back(copy_of(r));
    return true;
  });
  INFO(st.to_string());
  REQUIRE(st.ok());
  return out;
}

inline std::vector<Got> read_window(const RecordStore& store, TimeNs begin, TimeNs end) {
  return read(store, {}, TimeWindow{begin, end});
}

inline std::vector<TimeNs> starts(const std::vector<Got>& g) {
  std::vector<TimeNs> out;
  for (const auto& r : g) out.push_back(r.start_ns);
  return out;
}

inline std::vector<std::string> ids(const std::vector<Got>& g) {
  std::vector<std::string> out;
  for (const auto& r : g) out.push_back(r.source_id);
  return out;
}

inline std::vector<Sha256Digest> hashes(const std::vector<Got>& g) {
  std::vector<Sha256Digest> out;
  for (const auto& r : g) out.push_back(r.sha);
  return out;
}

inline std::vector<Sha256Digest> hashes(const std::vector<Rec>& g) {
  std::vector<Sha256Digest> out;
  for (const auto& r : g) out.push_back(r.sha);
  return out;
}

// Everything a reader can observe of a record equals what was written.
inline void check_same(const Got& g, const Rec& r) {
  INFO(r.source_id << " at " << format_iso8601(r.start_ns));
  CHECK(g.source_id == r.source_id);
  CHECK(g.start_ns == r.start_ns);
  CHECK(g.end_ns == r.end_ns);
  CHECK(g.receive_ns == r.receive_ns);
  CHECK(g.sender == r.sender);
  CHECK(g.sha == r.sha);
  CHECK(g.bytes == r.bytes);
  CHECK(sha256(g.bytes) == g.sha);
}

inline std::unique_ptr<RecordStore> open_store(const std::filesystem::path& dir, const StoreOptions& o = small_options()) {
  auto s = RecordStore::open(dir, o);
  INFO((s.ok() ? std::string("ok") : s.status().to_string()));
  REQUIRE(s.ok());
  return std::move(s.value());
}

inline ChannelSelection sel(std::string_view text) {
  auto s = ChannelSelection::parse(text);
  INFO((s.ok() ? std::string("ok") : s.status().to_string()));
  REQUIRE(s.ok());
  return s.value();
}

// A brute-force model of what a store holds: every record written to it,
// in arrival order, unless the same record (source id, start and bytes) was
// stored before.
class StoreModel {
 public:
  // Checks each outcome of `w`, the write of `recs`, against the model (a
  // duplicate exactly when the model holds the record already) and takes
  // the stored records in. `batch` names the write in failure messages.
  void check_write(const std::vector<Rec>& recs, const WriteResult& w, int batch) {
    for (size_t i = 0; i < recs.size(); ++i) {
      const auto& r = recs[i];
      const bool dup = std::any_of(stored_.begin(), stored_.end(), [&](const Rec& m) {
        return m.source_id == r.source_id && m.start_ns == r.start_ns && m.bytes == r.bytes;
      });
      INFO("batch " << batch << " record " << i);
      CHECK(w.outcomes[i] == (dup ? WriteOutcome::kDuplicate : WriteOutcome::kStored));
      if (!dup) stored_.push_back(r);
    }
  }

  // The records stored, in arrival order.
  const std::vector<Rec>& stored() const { return stored_; }

  // The hashes of the stored records overlapping `w`, in the order a read
  // gives them: by source id, then start, then arrival.
  std::vector<Sha256Digest> expect(TimeWindow w) const {
    std::vector<const Rec*> hits;
    for (const auto& r : stored_) {
      if (r.start_ns <= w.end_ns && r.end_ns >= w.begin_ns) hits.push_back(&r);
    }
    std::stable_sort(hits.begin(), hits.end(), [](const Rec* a, const Rec* b) {
      return std::tie(a->source_id, a->start_ns) < std::tie(b->source_id, b->start_ns);
    });
    std::vector<Sha256Digest> out;
    for (const Rec* r : hits) out.push_back(r->sha);
    return out;
  }

 private:
  std::vector<Rec> stored_;
};

}  // namespace seisvault::storage_test
