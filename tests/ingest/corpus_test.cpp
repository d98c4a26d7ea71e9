// The shared corpus of real miniSEED files (MANIFEST.tsv), through the
// validator into a real record store and back.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <regex>
#include <set>

#include <fmt/format.h>

#include "seisvault/common/sha256.h"
#include "seisvault/ingest/record_validator.h"
#include "seisvault/storage/record_store.h"
#include "support/corpus.h"
#include "support/temp_dir.h"

using namespace seisvault;
using namespace seisvault::ingest;
using namespace seisvault::storage;

namespace {

struct Ingested {
  std::vector<test::Piece> pieces;
  std::vector<Validation> verdicts;  // one per piece
};

Ingested validate_file(const std::filesystem::path& path) {
  Ingested out;
  out.pieces = test::split_file(test::read_file(path));
  RecordValidator validator;
  for (const auto& p : out.pieces) out.verdicts.push_back(validator.validate(p.bytes, now_ns()));
  return out;
}

// Stores the valid records of `in` in one write.
WriteStats store_valid(RecordStore& store, const Ingested& in) {
  std::vector<NewRecord> batch;
  for (size_t i = 0; i < in.pieces.size(); ++i) {
    const auto& v = in.verdicts[i];
    if (!v.ok()) continue;
    batch.push_back({v.record.source_id(), v.record.start_ns, v.record.end_ns, v.record.sample_rate,
                     v.record.sample_count, v.record.bytes, sha256(v.record.bytes), now_ns(), "corpus-test"});
  }
  std::vector<WriteOutcome> outcomes(batch.size());
  WriteStats stats;
  REQUIRE(store.write(batch, outcomes, false, &stats).ok());
  return stats;
}

// The files whose intact records libmseed itself recovers (README: "Using
// the corpus in tests"); our policy stores such records when they validate.
bool may_hold_intact_records(const std::string& file) {
  for (const char* f : {"various_noise_records", "fullseed", "brokenlastrecord", "infinite-loop",
                        "invalid-blockette-offsets"}) {
    if (file.find(f) != std::string::npos) return true;
  }
  return false;
}

std::string piece_summary(const Ingested& in, size_t i) {
  return fmt::format("piece {} at byte {} ({} bytes, {}): {} {}", i, in.pieces[i].where.offset,
                     in.pieces[i].where.length, piece_kind_name(in.pieces[i].where.kind),
                     reject_reason_name(in.verdicts[i].reason), in.verdicts[i].message);
}

}  // namespace

TEST_CASE("every record of every parsing corpus file validates, is stored, and reads back byte-identical",
          "[corpus]") {
  const auto dir = test::corpus_dir_or_skip();
  for (const auto& row : test::read_manifest(dir)) {
    if (!row.parses()) continue;
    INFO(row.file << " (" << row.verdict << ")");
    const auto in = validate_file(dir / row.file);
    std::vector<size_t> records;  // indices of the valid pieces, in file order
    for (size_t i = 0; i < in.pieces.size(); ++i) {
      INFO(piece_summary(in, i));
      if (in.verdicts[i].ok()) {
        records.push_back(i);
      } else {
        // Only libmseed's silently ignored trailing bytes may be left over.
        CHECK(row.verdict.find("trailing") != std::string::npos);
        CHECK(in.pieces[i].where.kind == PieceKind::kNotData);
        CHECK(i == in.pieces.size() - 1);
      }
    }
    REQUIRE(records.size() == row.records);

    test::TempDir tmp;
    auto store = RecordStore::open(tmp.path(), StoreOptions{.memtable_mib = 8, .block_cache_mib = 8});
    REQUIRE(store.ok());
    const auto stats = store_valid(**store, in);
    CHECK(stats.stored == row.records);
    CHECK(stats.duplicates == 0);

    // Query every id over [start, end] (inclusive: end is the last sample's time).
    const TimeWindow window{*parse_iso8601(row.start), *parse_iso8601(row.end)};
    std::vector<std::string> patterns;
    std::map<std::vector<uint8_t>, size_t> offset_of;  // record bytes -> piece index
    for (size_t i : records) offset_of[in.pieces[i].bytes] = i;
    std::vector<std::pair<size_t, std::vector<uint8_t>>> returned;
    for (const auto& id : row.nslc_ids) {
      std::vector<SourcePattern> one(1);
      std::string fields[4];
      size_t f = 0;
      for (char c : id) {
        if (c == '.' && f < 3) ++f; else fields[f] += c;
      }
      one[0].network = {fields[0]};
      one[0].station = {fields[1]};
      one[0].location = {fields[2]};
      one[0].channel = {fields[3]};
      const auto st = (*store)->read_records(ChannelSelection(one), window, [&](const StoredRecord& r) {
        std::vector<uint8_t> bytes(r.bytes.begin(), r.bytes.end());
        CHECK(r.source_id == id);
        CHECK(to_hex({r.sha256, 32}) == to_hex(sha256(r.bytes)));
        CHECK(r.sender == "corpus-test");
        auto it = offset_of.find(bytes);
        CHECK(it != offset_of.end());
        returned.emplace_back(it == offset_of.end() ? SIZE_MAX : it->second, std::move(bytes));
        return true;
      });
      REQUIRE(st.ok());
    }
    // Every record exactly once, overlapping and duplicate-time records included.
    REQUIRE(returned.size() == row.records);
    std::sort(returned.begin(), returned.end());
    for (size_t k = 0; k < returned.size(); ++k) CHECK(returned[k].first == records[k]);

    // Decoded samples, in file order, hash to the manifest's value.
    std::vector<uint8_t> samples;
    int64_t count = 0;
    for (const auto& [_, bytes] : returned) {
      const int64_t n = test::append_decoded_samples(bytes, samples);
      REQUIRE(n >= 0);
      count += n;
    }
    CHECK(count == row.samples);
    CHECK(to_hex(sha256(samples)) == row.decoded_samples_sha256);

    // The store's own metadata agrees with the manifest.
    auto channels = (*store)->list_channels(ChannelSelection());
    REQUIRE(channels.ok());
    CHECK(channels->size() == row.nslc_ids.size());
    uint64_t total = 0;
    TimeNs first = kTimeMax, last = kTimeMin;
    for (const auto& c : *channels) {
      total += c.summary.record_count;
      first = std::min(first, c.summary.first_start_ns);
      last = std::max(last, c.summary.last_end_ns);
      CHECK(std::find(row.nslc_ids.begin(), row.nslc_ids.end(), c.source_id) != row.nslc_ids.end());
      const bool known_rate =
          std::any_of(row.sample_rates.begin(), row.sample_rates.end(),
                      [&](double r) { return std::abs(r - c.summary.sample_rate) <= 1e-6 * std::max(1.0, r); });
      CHECK(known_rate);
    }
    CHECK(total == row.records);
    // The manifest's times are libmseed's, rounded to the microsecond.
    CHECK(std::llabs(first - window.begin_ns) < 1000);
    CHECK(std::llabs(last - window.end_ns) < 1000);

    // Availability: segments, gaps and overlaps as libmseed counts them.
    std::smatch m;
    REQUIRE(std::regex_match(row.segments, m, std::regex(R"((\d+) \((\d+) gaps, (\d+) overlaps\))")));
    auto avail = (*store)->availability(ChannelSelection(), TimeWindow{});
    REQUIRE(avail.ok());
    size_t spans = 0, gaps = 0, overlaps = 0;
    for (const auto& a : *avail) {
      spans += a.spans.size();
      gaps += a.gap_count;
      overlaps += a.overlap_count;
    }
    CHECK(spans == std::stoul(m[1]));
    CHECK(gaps == std::stoul(m[2]));
    CHECK(overlaps == std::stoul(m[3]));
  }
}

TEST_CASE("every piece of a non-parsing corpus file that libmseed cannot read is rejected with a reason",
          "[corpus]") {
  const auto dir = test::corpus_dir_or_skip();
  for (const auto& row : test::read_manifest(dir)) {
    if (row.parses()) continue;
    INFO(row.file << " (" << row.verdict << ")");
    const auto in = validate_file(dir / row.file);
    size_t rejected = 0, valid = 0;
    for (size_t i = 0; i < in.pieces.size(); ++i) {
      INFO(piece_summary(in, i));
      const auto& v = in.verdicts[i];
      if (v.ok()) {
        ++valid;
        CHECK(may_hold_intact_records(row.file));
        CHECK(in.pieces[i].where.kind == PieceKind::kRecord);
      } else {
        ++rejected;
        CHECK(v.message.size() > 10);
        if (row.mseed_version == 3) CHECK(v.reason == RejectReason::kUnsupportedVersion);
      }
    }
    CHECK(rejected > 0);
    CHECK(valid <= row.records);
    if (row.mseed_version == 3) CHECK(rejected == row.records);

    // What is valid is stored; nothing else is.
    test::TempDir tmp;
    auto store = RecordStore::open(tmp.path(), StoreOptions{.memtable_mib = 8, .block_cache_mib = 8});
    REQUIRE(store.ok());
    CHECK(store_valid(**store, in).stored == valid);
    auto channels = (*store)->list_channels(ChannelSelection());
    REQUIRE(channels.ok());
    uint64_t stored = 0;
    for (const auto& c : *channels) stored += c.summary.record_count;
    CHECK(stored == valid);
  }
}

TEST_CASE("the corrupt corpus files are rejected for the right reasons", "[corpus]") {
  const auto dir = test::corpus_dir_or_skip();
  auto reasons = [&](const char* file) {
    std::vector<RejectReason> out;
    for (const auto& v : validate_file(dir / file).verdicts) out.push_back(v.reason);
    return out;
  };
  using R = RejectReason;
  CHECK(reasons("libmseed__corrupt-blockettes-wrongnext.mseed") == std::vector<R>{R::kBadBlockettes});
  CHECK(reasons("libmseed__testdata-invalid-blockette-offsets.mseed2") ==
        std::vector<R>{R::kBadBlockettes, R::kBadBlockettes, R::kBadBlockettes});
  const auto broken = reasons("obspy__brokenlastrecord.mseed");
  CHECK(broken == std::vector<R>{R::kNone, R::kNotMiniSeed});
  // Record 1 decodes but its last sample disagrees with Xn: libmseed 2 only warns.
  const auto loop = reasons("obspy__infinite-loop.mseed");
  REQUIRE(loop.size() >= 2);
  CHECK(loop[0] == R::kSteimIntegrity);
  CHECK(loop[1] == R::kDecodeFailed);
  const auto noise = reasons("obspy__various_noise_records.mseed");
  CHECK(std::count(noise.begin(), noise.end(), R::kNone) == 4);
  CHECK(std::count(noise.begin(), noise.end(), R::kNotMiniSeed) == static_cast<long>(noise.size()) - 4);
  const auto v3 = reasons("libmseed__testdata-3channel-signal.mseed3");
  CHECK(v3.size() == 107);
  CHECK(std::all_of(v3.begin(), v3.end(), [](R r) { return r == R::kUnsupportedVersion; }));
}

TEST_CASE("storing the whole corpus twice stores each record once and survives a reopen", "[corpus]") {
  const auto dir = test::corpus_dir_or_skip();
  test::TempDir tmp;
  std::vector<Ingested> files;
  std::set<std::vector<uint8_t>> distinct;  // some records appear in more than one file
  size_t valid = 0;
  for (const auto& row : test::read_manifest(dir)) {
    files.push_back(validate_file(dir / row.file));
    for (size_t i = 0; i < files.back().pieces.size(); ++i) {
      if (!files.back().verdicts[i].ok()) continue;
      ++valid;
      distinct.insert(files.back().pieces[i].bytes);
    }
  }
  {
    auto store = RecordStore::open(tmp.path(), StoreOptions{.memtable_mib = 8, .block_cache_mib = 8});
    REQUIRE(store.ok());
    size_t stored = 0;
    for (const auto& f : files) stored += store_valid(**store, f).stored;
    CHECK(stored == distinct.size());
  }
  auto store = RecordStore::open(tmp.path(), StoreOptions{.memtable_mib = 8, .block_cache_mib = 8});
  REQUIRE(store.ok());
  size_t dups = 0, stored = 0;
  for (const auto& f : files) {
    const auto s = store_valid(**store, f);
    dups += s.duplicates;
    stored += s.stored;
  }
  CHECK(stored == 0);
  CHECK(dups == valid);
  size_t read = 0;
  REQUIRE((*store)->read_records(ChannelSelection(), TimeWindow{}, [&](const StoredRecord&) {
    ++read;
    return true;
  }).ok());
  CHECK(read == distinct.size());
}
