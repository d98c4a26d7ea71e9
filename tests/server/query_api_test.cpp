// The query API end to end: data pushed through the real ingest socket of a
// real seisvaultd, then read back through its real gRPC service.
#include <catch2/catch.hpp>

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <cstring>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "seisvault/common/sha256.h"
#include "seisvault/common/station_access_list.h"
#include "seisvault/ingest/record_validator.h"
#include "seisvault/storage/record_store.h"
#include "seisvault/proto/waveform.grpc.pb.h"
#include "support/corpus.h"
#include "support/record_factory.h"
#include "support/server_data.h"
#include "support/server_process.h"
#include "support/temp_dir.h"
#include "support/test_station.h"

using namespace seisvault;
using namespace seisvault::test;
namespace wv = seisvault::waveform::v1;
namespace iv = seisvault::ingest::v1;

namespace {

// A server with one authorized station key that may write everything.
struct Fixture {
  TempDir tmp;
  CurveKeyPair keys = generate_curve_key_pair().value();
  std::unique_ptr<ServerProcess> server;
  std::unique_ptr<TestStation> station;
  std::unique_ptr<wv::Waveforms::Stub> api;
  uint64_t next_batch = 1;

  explicit Fixture(std::vector<std::string> extra = {}) {
    { ServerProcess probe(tmp.path()); REQUIRE(probe.stop() == 0); }
    auto list = StationAccessList::load(tmp.path() / "authorized_stations");
    list->upsert({keys.public_key, {"*.*"}, "query tests", "", /*allow_unsigned=*/true});
    REQUIRE(list->save(tmp.path() / "authorized_stations").ok());
    server = std::make_unique<ServerProcess>(tmp.path(), "tcp://127.0.0.1:*", extra);
    station = std::make_unique<TestStation>(server->endpoint(), server->public_key(), keys);
    api = wv::Waveforms::NewStub(grpc::CreateChannel(server->api(), grpc::InsecureChannelCredentials()));
  }

  // Pushes records; every one must be stored or already there.
  void push(const std::vector<std::vector<uint8_t>>& records) {
    for (size_t i = 0; i < records.size(); i += 500) {
      std::vector<std::vector<uint8_t>> part(records.begin() + i, records.begin() + std::min(records.size(), i + 500));
      auto ack = station->call(TestStation::make_batch(next_batch++, part));
      REQUIRE(ack);
      for (const auto& r : ack->results()) REQUIRE(r.status() != iv::REJECTED);
    }
  }
};

std::unique_ptr<grpc::ClientContext> context(std::chrono::seconds timeout = std::chrono::seconds(30)) {
  auto c = std::make_unique<grpc::ClientContext>();
  c->set_deadline(std::chrono::system_clock::now() + timeout);
  return c;
}

wv::Selection selection(std::initializer_list<std::string> patterns) {
  wv::Selection s;
  for (const auto& p : patterns) s.add_patterns(p);
  return s;
}

std::vector<wv::Record> get_records(Fixture& f, const wv::Selection& sel, std::optional<TimeNs> start,
                                    std::optional<TimeNs> end, grpc::Status* status = nullptr) {
  wv::GetRecordsRequest req;
  *req.mutable_selection() = sel;
  if (start) req.mutable_window()->set_start_ns(*start);
  if (end) req.mutable_window()->set_end_ns(*end);
  auto ctx = context();
  auto reader = f.api->GetRecords(ctx.get(), req);
  std::vector<wv::Record> out;
  wv::RecordBatch batch;
  while (reader->Read(&batch)) {
    for (auto& r : *batch.mutable_records()) out.push_back(std::move(r));
  }
  const auto st = reader->Finish();
  if (status) *status = st; else REQUIRE(st.ok());
  return out;
}

std::vector<wv::Segment> get_samples(Fixture& f, const wv::Selection& sel, std::optional<TimeNs> start,
                                     std::optional<TimeNs> end) {
  wv::GetSamplesRequest req;
  *req.mutable_selection() = sel;
  if (start) req.mutable_window()->set_start_ns(*start);
  if (end) req.mutable_window()->set_end_ns(*end);
  auto ctx = context();
  auto reader = f.api->GetSamples(ctx.get(), req);
  std::vector<wv::Segment> out;
  wv::Segment s;
  while (reader->Read(&s)) out.push_back(s);
  REQUIRE(reader->Finish().ok());
  return out;
}

const TimeNs kStart = *parse_iso8601("2024-03-01T00:00:00Z");

// 100 Hz Steim-2 records of XX.<station>.00.HHZ from kStart, contiguous.
std::vector<std::vector<uint8_t>> steady(const std::string& station, size_t samples, TimeNs start = kStart,
                                         const std::string& channel = "HHZ") {
  RecordSpec spec;
  spec.station = station;
  spec.channel = channel;
  spec.start_ns = start;
  return pack_records(spec, random_walk(samples, static_cast<uint32_t>(std::hash<std::string>{}(station + channel))));
}

}  // namespace

TEST_CASE("the corpus pushed through ingest reads back byte-identical, with manifest samples and availability",
          "[server][query][corpus]") {
  const auto dir = corpus_dir_or_skip();
  Fixture f;
  const auto rows = read_manifest(dir);
  // Push each parsing file's valid records (pieces the validator accepts).
  for (const auto& row : rows) {
    if (!row.parses()) continue;
    std::vector<std::vector<uint8_t>> records;
    for (const auto& p : split_file(read_file(dir / row.file))) {
      if (p.where.kind == PieceKind::kRecord) records.push_back(p.bytes);
    }
    f.push(records);
  }
  for (const auto& row : rows) {
    if (!row.parses()) continue;
    INFO(row.file);
    std::vector<std::vector<uint8_t>> file_records;
    for (const auto& p : split_file(read_file(dir / row.file))) {
      if (p.where.kind == PieceKind::kRecord) file_records.push_back(p.bytes);
    }
    // Several files share channels (relabelled XX.TEST data): select this
    // file's ids and window, then keep what belongs to the file.
    wv::Selection sel;
    for (const auto& id : row.nslc_ids) {
      std::string p = id;
      for (size_t k = 0; (k = p.find("..", k)) != std::string::npos;) p.replace(k, 2, ".--.");
      if (p.find('\\') != std::string::npos) p = "*." + id.substr(id.find('.') + 1, id.find('.', id.find('.') + 1) - id.find('.') - 1) + ".*.*";
      sel.add_patterns(p);
    }
    const TimeNs start = *parse_iso8601(row.start), end = *parse_iso8601(row.end);
    const auto got = get_records(f, sel, start, end);
    std::map<std::vector<uint8_t>, size_t> index;
    for (size_t i = 0; i < file_records.size(); ++i) index[file_records[i]] = i;
    std::vector<std::pair<size_t, std::vector<uint8_t>>> mine;
    for (const auto& r : got) {
      std::vector<uint8_t> bytes(r.mseed().begin(), r.mseed().end());
      CHECK(to_hex(sha256(bytes)) == to_hex({reinterpret_cast<const uint8_t*>(r.sha256().data()), r.sha256().size()}));
      if (auto it = index.find(bytes); it != index.end()) mine.emplace_back(it->second, std::move(bytes));
    }
    REQUIRE(mine.size() == row.records);  // every record of the file, once, byte-identical
    std::sort(mine.begin(), mine.end());
    std::vector<uint8_t> samples;
    int64_t count = 0;
    for (const auto& [_, bytes] : mine) count += append_decoded_samples(bytes, samples);
    CHECK(count == row.samples);
    CHECK(to_hex(sha256(samples)) == row.decoded_samples_sha256);
  }

  // Availability of a file that has its channels to itself.
  wv::GetAvailabilityRequest req;
  *req.mutable_selection() = selection({"BW.BGLD.--.EHE"});
  wv::GetAvailabilityResponse resp;
  auto ctx = context();
  REQUIRE(f.api->GetAvailability(ctx.get(), req, &resp).ok());
  REQUIRE(resp.channels_size() == 1);
  CHECK(resp.channels(0).spans_size() == 4);  // obspy__gaps.mseed: 4 segments, 3 gaps
  REQUIRE(resp.channels(0).gaps_size() == 3);
  for (const auto& g : resp.channels(0).gaps()) CHECK_FALSE(g.overlap());
  REQUIRE(f.server->stop() == 0);
}

TEST_CASE("GetSamples merges records into contiguous segments, trims to the window, and shows gaps",
          "[server][query]") {
  Fixture f;
  const auto walk = random_walk(30000, 7);
  RecordSpec spec;
  spec.station = "SEG";
  spec.start_ns = kStart;
  auto first = pack_records(spec, std::vector<int32_t>(walk.begin(), walk.begin() + 20000));
  spec.start_ns = kStart + 250 * kNanosPerSecond;  // 50 s gap after 200 s of data
  auto second = pack_records(spec, std::vector<int32_t>(walk.begin() + 20000, walk.end()));
  f.push(first);
  f.push(second);

  const auto all = get_samples(f, selection({"XX.SEG"}), {}, {});
  std::vector<wv::Segment> merged;
  for (const auto& s : all) {
    if (s.continues_previous() && !merged.empty()) {
      merged.back().mutable_int32_samples()->MergeFrom(s.int32_samples());
      merged.back().set_sample_count(merged.back().sample_count() + s.sample_count());
    } else {
      merged.push_back(s);
    }
  }
  REQUIRE(merged.size() == 2);
  CHECK(merged[0].start_ns() == kStart);
  CHECK(merged[0].sample_count() == 20000);
  CHECK(merged[0].sample_rate() == 100.0);
  CHECK(merged[0].sample_type() == wv::INT32);
  CHECK(std::equal(merged[0].int32_samples().begin(), merged[0].int32_samples().end(), walk.begin()));
  CHECK(merged[1].start_ns() == kStart + 250 * kNanosPerSecond);
  CHECK(merged[1].sample_count() == 10000);
  CHECK(std::equal(merged[1].int32_samples().begin(), merged[1].int32_samples().end(), walk.begin() + 20000));

  // A window starting and ending inside records: exactly the samples in it.
  const TimeNs ws = kStart + 12'345 * 10'000'000LL, we = kStart + 15'000 * 10'000'000LL - 1;
  const auto cut = get_samples(f, selection({"XX.SEG"}), ws, we);
  REQUIRE(cut.size() == 1);
  CHECK(cut[0].start_ns() == ws);
  CHECK(cut[0].sample_count() == 15000 - 12345);
  CHECK(cut[0].int32_samples(0) == walk[12345]);
  // Inclusive end exactly on a sample.
  const auto one = get_samples(f, selection({"XX.SEG"}), ws, ws);
  REQUIRE(one.size() == 1);
  CHECK(one[0].sample_count() == 1);
  // A window in the gap: nothing, and no error.
  CHECK(get_samples(f, selection({"XX.SEG"}), kStart + 210 * kNanosPerSecond, kStart + 240 * kNanosPerSecond).empty());
  REQUIRE(f.server->stop() == 0);
}

TEST_CASE("GetRecords windows include overlapping records whole, in time order, and select by wildcards and lists",
          "[server][query]") {
  Fixture f;
  const auto anmo = steady("ANMO", 20000);
  const auto cola = steady("COLA", 20000);
  const auto anmo_n = steady("ANMO", 20000, kStart, "HHN");
  f.push(cola);
  f.push(anmo_n);
  f.push(anmo);

  auto all = get_records(f, selection({"XX.ANMO.00.HHZ"}), {}, {});
  REQUIRE(all.size() == anmo.size());
  for (size_t i = 0; i < all.size(); ++i) CHECK(all[i].mseed() == std::string(anmo[i].begin(), anmo[i].end()));

  // A window from inside record 3 to inside record 5 gives records 3..5 whole.
  const TimeNs inside3 = all[3].start_ns() + 1, inside5 = all[5].start_ns() + 1;
  auto part = get_records(f, selection({"XX.ANMO.00.HHZ"}), inside3, inside5);
  REQUIRE(part.size() == 3);
  CHECK(part[0].start_ns() == all[3].start_ns());
  // Exactly at boundaries: a window ending at a record's first sample includes it.
  part = get_records(f, selection({"XX.ANMO.00.HHZ"}), all[3].end_ns() + 1, all[4].start_ns());
  REQUIRE(part.size() == 1);
  CHECK(part[0].start_ns() == all[4].start_ns());
  // Outside all data: empty, not an error.
  CHECK(get_records(f, selection({"XX.ANMO"}), kStart - 3600 * kNanosPerSecond, kStart - 1).empty());
  CHECK(get_records(f, selection({"ZZ.*"}), {}, {}).empty());

  // Wildcards and lists.
  auto ids = [&](const wv::Selection& sel) {
    std::set<std::string> out;
    for (const auto& r : get_records(f, sel, {}, {})) out.insert(r.source_id());
    return out;
  };
  CHECK(ids(selection({"XX.ANMO.00.HH?"})) == std::set<std::string>{"XX.ANMO.00.HHN", "XX.ANMO.00.HHZ"});
  CHECK(ids(selection({"XX.ANMO,COLA.*.HHZ"})) == std::set<std::string>{"XX.ANMO.00.HHZ", "XX.COLA.00.HHZ"});
  CHECK(ids(selection({"XX.CO*", "*.*.*.HHN"})) == std::set<std::string>{"XX.COLA.00.HHZ", "XX.ANMO.00.HHN"});
  CHECK(ids(selection({"XX.A?MO.--.*"})).empty());

  // Channels in source-id order, records in time order within each.
  auto mixed = get_records(f, selection({"XX.*"}), {}, {});
  CHECK(mixed.size() == anmo.size() + cola.size() + anmo_n.size());
  CHECK(std::is_sorted(mixed.begin(), mixed.end(), [](const auto& a, const auto& b) {
    return std::make_pair(a.source_id(), a.start_ns()) < std::make_pair(b.source_id(), b.start_ns());
  }));

  wv::ListChannelsRequest lc;
  *lc.mutable_selection() = selection({"XX.ANMO"});
  wv::ListChannelsResponse channels;
  auto ctx = context();
  REQUIRE(f.api->ListChannels(ctx.get(), lc, &channels).ok());
  REQUIRE(channels.channels_size() == 2);
  CHECK(channels.channels(1).source_id() == "XX.ANMO.00.HHZ");
  CHECK(channels.channels(1).record_count() == anmo.size());
  CHECK(channels.channels(1).first_start_ns() == kStart);
  CHECK(channels.channels(1).last_end_ns() == kStart + 19999 * 10'000'000LL);
  CHECK(channels.channels(1).sample_rate() == 100.0);
  CHECK(channels.channels(1).last_receive_ns() > 0);
  REQUIRE(f.server->stop() == 0);
}

TEST_CASE("bad arguments get INVALID_ARGUMENT with a message that says what to fix", "[server][query]") {
  Fixture f({"--max-window-days", "2"});
  f.push(steady("BAD", 2000));
  grpc::Status st;
  get_records(f, selection({"XX.*"}), kStart + 10, kStart, &st);
  CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(st.error_message(), Catch::Contains("before it starts"));
  get_records(f, selection({"XX.*.*.*.*"}), {}, {}, &st);
  CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(st.error_message(), Catch::Contains("NET.STA.LOC.CHA"));
  get_records(f, selection({"XX.B$D"}), {}, {}, &st);
  CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  get_records(f, selection({"XX.*"}), kStart, kStart + 3 * 86400 * kNanosPerSecond, &st);
  CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(st.error_message(), Catch::Contains("limit"));
  // Open bounds are measured against the data, which is short: fine.
  get_records(f, selection({"XX.*"}), {}, {}, &st);
  CHECK(st.ok());
  wv::GetAvailabilityRequest av;
  av.set_tolerance_ns(-5);
  wv::GetAvailabilityResponse out;
  auto ctx = context();
  CHECK(f.api->GetAvailability(ctx.get(), av, &out).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  REQUIRE(f.server->stop() == 0);
}

TEST_CASE("a subscriber connected before a push receives every record of it; since gives the backlog first",
          "[server][query][subscribe]") {
  Fixture f;
  const auto early = steady("SUB", 20000);
  f.push(early);
  const auto live = steady("SUB", 40000, kStart + 200 * kNanosPerSecond);

  // Catch2 is not thread-safe: the subscriber threads only collect (and count
  // what is wrong); the main thread asserts after joining them.
  std::atomic<int> unexpected{0};
  auto run_subscriber = [&](std::optional<TimeNs> since, size_t expect, std::vector<std::string>& got) {
    wv::SubscribeRequest req;
    *req.mutable_selection() = selection({"XX.SUB"});
    if (since) req.set_since_ns(*since);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    auto reader = f.api->Subscribe(&ctx, req);
    wv::SubscribeEvent ev;
    while (got.size() < expect && reader->Read(&ev)) {
      if (!ev.has_record()) {
        ++unexpected;
        break;
      }
      got.push_back(ev.record().mseed());
    }
    ctx.TryCancel();
    reader->Finish();
  };
  std::vector<std::string> live_only, with_backlog;
  std::thread a([&] { run_subscriber({}, live.size(), live_only); });
  std::thread b([&] { run_subscriber(kStart, early.size() + live.size(), with_backlog); });
  // Give both subscriptions time to register before pushing.
  REQUIRE(eventually([&] { return f.server->log().find("query API listening") != std::string::npos; },
                     std::chrono::seconds(5)));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  f.push(live);
  a.join();
  b.join();
  CHECK(unexpected == 0);
  REQUIRE(live_only.size() == live.size());
  for (size_t i = 0; i < live.size(); ++i) CHECK(live_only[i] == std::string(live[i].begin(), live[i].end()));
  REQUIRE(with_backlog.size() == early.size() + live.size());
  for (size_t i = 0; i < early.size(); ++i) CHECK(with_backlog[i] == std::string(early[i].begin(), early[i].end()));
  std::set<std::string> unique(with_backlog.begin(), with_backlog.end());
  CHECK(unique.size() == with_backlog.size());
  REQUIRE(f.server->stop() == 0);
}

TEST_CASE("when a token is configured, queries without it are refused", "[server][query]") {
  TempDir token_dir;
  const auto token_file = token_dir.path() / "token";
  std::ofstream(token_file) << "s3cret-token\n";
  Fixture f({"--api-token-file", token_file.string()});
  wv::GetStatsRequest req;
  wv::Stats stats;
  auto ctx = context();
  auto st = f.api->GetStats(ctx.get(), req, &stats);
  CHECK(st.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  CHECK_THAT(st.error_message(), Catch::Contains("token"));
  ctx = context();
  ctx->AddMetadata("authorization", "Bearer wrong");
  CHECK(f.api->GetStats(ctx.get(), req, &stats).error_code() == grpc::StatusCode::UNAUTHENTICATED);
  // Near misses: a prefix, a longer value, another scheme's spelling.
  for (const char* wrong : {"Bearer s3cret", "Bearer s3cret-token-and-more", "bearer s3cret-token", "s3cret-token"}) {
    INFO(wrong);
    ctx = context();
    ctx->AddMetadata("authorization", wrong);
    CHECK(f.api->GetStats(ctx.get(), req, &stats).error_code() == grpc::StatusCode::UNAUTHENTICATED);
  }
  ctx = context();
  ctx->AddMetadata("authorization", "Bearer s3cret-token");
  CHECK(f.api->GetStats(ctx.get(), req, &stats).ok());
  REQUIRE(f.server->stop() == 0);
}

TEST_CASE("GetStats counts what was ingested and rejected; Verify finds every stored record intact",
          "[server][query]") {
  Fixture f;
  const auto records = steady("STAT", 30000);
  f.push(records);
  auto bad = TestStation::make_batch(999, {std::vector<uint8_t>(512, 'x')});
  auto ack = f.station->call(bad);
  REQUIRE(ack);
  CHECK(ack->results(0).reason() == iv::NOT_MINISEED);

  wv::Stats stats;
  auto ctx = context();
  REQUIRE(f.api->GetStats(ctx.get(), {}, &stats).ok());
  CHECK(stats.records_stored() == records.size());
  CHECK(stats.records_ingested() == records.size());
  CHECK(stats.records_rejected() == 1);
  CHECK(stats.channels() == 1);
  REQUIRE(stats.rejections_size() == 1);
  CHECK(stats.rejections(0).reason() == "not_miniseed");
  CHECK(stats.connected_stations() >= 1);

  wv::VerifyRequest vreq;
  *vreq.mutable_selection() = selection({"XX.STAT"});
  ctx = context();
  auto reader = f.api->Verify(ctx.get(), vreq);
  wv::VerifyReport report;
  uint64_t problems = 0, checked = 0;
  while (reader->Read(&report)) {
    if (report.has_problem()) ++problems;
    if (report.has_summary()) checked = report.summary().records_checked();
  }
  REQUIRE(reader->Finish().ok());
  CHECK(problems == 0);
  CHECK(checked == records.size());
  REQUIRE(f.server->stop() == 0);
}

// Records that went into the store without ingest's checks (stored by an
// older server, or damaged on disk afterwards), put there behind the server's
// back: Verify must find each one.
// What Verify reports for `pattern`: each problem by start time, and the
// summary's counts.
struct VerifyAnswer {
  std::map<TimeNs, std::string> problems;
  uint64_t checked = 0;
  uint64_t problem_count = 0;
};

VerifyAnswer verify_answer(const ServerProcess& server, const std::string& pattern) {
  auto api = wv::Waveforms::NewStub(grpc::CreateChannel(server.api(), grpc::InsecureChannelCredentials()));
  wv::VerifyRequest vreq;
  *vreq.mutable_selection() = selection({pattern});
  auto ctx = context();
  auto reader = api->Verify(ctx.get(), vreq);
  wv::VerifyReport report;
  VerifyAnswer out;
  while (reader->Read(&report)) {
    if (report.has_problem()) out.problems[report.problem().start_ns()] = report.problem().problem();
    if (report.has_summary()) {
      out.checked = report.summary().records_checked();
      out.problem_count = report.summary().problems();
    }
  }
  REQUIRE(reader->Finish().ok());
  return out;
}

// Writes `in` to the store as ingest would: one unsigned batch in the
// ledger whose hashes are `ledger_hashes` (32 bytes per record, in order;
// by default the records' own), each record at its position, except record
// `outside`, which is written with no batch (as if behind ingest's back).
void write_as_batch(storage::RecordStore& store, std::vector<storage::NewRecord>& in, TimeNs now,
                    std::string ledger_hashes = {}, size_t outside = SIZE_MAX) {
  const bool own = ledger_hashes.empty();
  for (size_t i = 0; i < in.size(); ++i) {
    in[i].ledger_batch = i == outside ? storage::kNoLedgerBatch : 0;
    in[i].batch_position = static_cast<uint32_t>(i);
    if (own) ledger_hashes.append(reinterpret_cast<const char*>(in[i].sha256.data()), 32);
  }
  storage::LedgerBatch batch;
  batch.key_id = "test-sender";
  batch.protocol_version = 1;
  batch.batch_id = 1;
  batch.receive_ns = now;
  batch.hashes = {reinterpret_cast<const uint8_t*>(ledger_hashes.data()), ledger_hashes.size()};
  std::vector<storage::WriteOutcome> outcomes(in.size());
  REQUIRE(store.write(in, outcomes, true, nullptr, {}, {&batch, 1}).ok());
}

TEST_CASE("Verify reports stored records that are damaged, fail today's validation, or disagree with the index",
          "[server][query][verify]") {
  TempDir tmp;
  { ServerProcess probe(tmp.path()); REQUIRE(probe.stop() == 0); }
  const auto good = steady("VFY", 4000);
  REQUIRE(good.size() >= 4);
  ingest::RecordValidator validator;
  const TimeNs now = now_ns();
  std::vector<ingest::ValidatedRecord> fields;
  for (const auto& r : good) {
    auto v = validator.validate(r, now);
    REQUIRE(v.ok());
    fields.push_back(v.record);
  }
  // Three damaged copies of records 1-3, stored under their own metadata:
  // a blockette 1000 exponent of 41 (libmseed read it as 512: an older
  // server stored such records), a flipped data byte (whose SHA-256 no
  // longer matches the one recorded), and a header naming another station.
  std::vector<std::vector<uint8_t>> bytes = good;
  const size_t b1000 = (bytes[1][48] << 8 | bytes[1][49]) == 1000 ? 48 : 56;
  bytes[1][b1000 + 6] = 41;
  bytes[2][300] ^= 0x01;
  std::memcpy(bytes[3].data() + 8, "OTHER", 5);
  {
    const storage::StoreOptions o = test::small_store_options();
    auto store = storage::RecordStore::open(tmp.path() / "store", o);
    REQUIRE(store.ok());
    std::vector<storage::NewRecord> in;
    for (size_t i = 0; i < bytes.size(); ++i) {
      storage::NewRecord n;
      n.source_id = fields[i].source_id();
      n.start_ns = fields[i].start_ns;
      n.end_ns = fields[i].end_ns;
      n.sample_rate = fields[i].sample_rate;
      n.sample_count = fields[i].sample_count;
      n.bytes = bytes[i];
      // What a station would have sent: the hash of the bytes, except for
      // record 2, whose bytes changed after its hash was recorded.
      n.sha256 = sha256(i == 2 ? good[i] : bytes[i]);
      n.receive_ns = now;
      in.push_back(n);
    }
    // As ingest writes them: one (unsigned) batch in the ledger, holding
    // the hashes as sent.
    write_as_batch(**store, in, now);
  }
  ServerProcess server(tmp.path());
  const auto answer = verify_answer(server, "XX.VFY");
  CHECK(answer.checked == good.size());
  CHECK(answer.problem_count == 3);
  auto problems = answer.problems;
  REQUIRE(problems.size() == 3);
  CHECK_THAT(problems[fields[1].start_ns], Catch::Contains("no longer a valid record") &&
                                               Catch::Contains("bad_blockettes"));
  CHECK_THAT(problems[fields[2].start_ns], Catch::Contains("SHA-256"));
  CHECK_THAT(problems[fields[3].start_ns], Catch::Contains("OTHER"));
  REQUIRE(server.stop() == 0);
}

TEST_CASE("Verify reports records that are not in the ledger as their batch stored them", "[server][query][verify]") {
  TempDir tmp;
  { ServerProcess probe(tmp.path()); REQUIRE(probe.stop() == 0); }
  const auto good = steady("LDG", 4000);
  REQUIRE(good.size() >= 3);
  ingest::RecordValidator validator;
  const TimeNs now = now_ns();
  {
    auto store = storage::RecordStore::open(tmp.path() / "store", test::small_store_options());
    REQUIRE(store.ok());
    std::vector<storage::NewRecord> in;
    std::string hashes;
    for (size_t i = 0; i < 3; ++i) {
      auto v = validator.validate(good[i], now);
      REQUIRE(v.ok());
      storage::NewRecord n;
      n.source_id = v.record.source_id();
      n.start_ns = v.record.start_ns;
      n.end_ns = v.record.end_ns;
      n.sample_rate = v.record.sample_rate;
      n.sample_count = v.record.sample_count;
      n.bytes = good[i];
      n.sha256 = sha256(good[i]);
      n.receive_ns = now;
      // Record 1's hash in the ledger is another one.
      auto h = n.sha256;
      if (i == 1) h[0] ^= 1;
      hashes.append(reinterpret_cast<const char*>(h.data()), 32);
      in.push_back(n);
    }
    write_as_batch(**store, in, now, hashes, /*outside=*/0);  // record 0 added behind ingest's back
  }
  ServerProcess server(tmp.path());
  const auto answer = verify_answer(server, "XX.LDG");
  std::vector<std::string> problems;
  for (const auto& [start, problem] : answer.problems) problems.push_back(problem);
  REQUIRE(problems.size() == 2);
  CHECK_THAT(problems[0], Catch::Contains("points to no ledger entry"));
  CHECK_THAT(problems[1], Catch::Contains("ledger entry 1 position 1") && Catch::Contains("not what the station sent"));
  REQUIRE(server.stop() == 0);
}

TEST_CASE("a batched subscriber receives every live record once, several per message", "[server][query][subscribe]") {
  Fixture f;
  const auto live = steady("BAT", 60000);
  std::vector<std::string> got;
  size_t messages = 0;
  size_t wrong = 0;  // events that are not batches, records committed before they arrived
  // Catch2 is not thread-safe: the thread collects, the main thread asserts.
  std::thread sub([&] {
    wv::SubscribeRequest req;
    *req.mutable_selection() = selection({"XX.BAT"});
    req.set_batched(true);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    auto reader = f.api->Subscribe(&ctx, req);
    wv::SubscribeEvent ev;
    while (got.size() < live.size() && reader->Read(&ev)) {
      if (!ev.has_records()) {
        ++wrong;
        break;
      }
      ++messages;
      for (const auto& r : ev.records().records()) {
        wrong += r.commit_ns() < r.receive_ns();
        got.push_back(r.mseed());
      }
    }
    ctx.TryCancel();
    reader->Finish();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  f.push(live);
  sub.join();
  CHECK(wrong == 0);
  REQUIRE(got.size() == live.size());
  for (size_t i = 0; i < live.size(); ++i) CHECK(got[i] == std::string(live[i].begin(), live[i].end()));
  CHECK(messages < live.size());
  REQUIRE(f.server->stop() == 0);
}

// ---------------------------------------------------------------------------
// Hardening (issue 11): queries cannot slow ingest, limits, token, exposure.
// ---------------------------------------------------------------------------

namespace {

// 9,999 patterns of stations that never send, plus `last`: 10,000 in all.
wv::Selection ten_thousand_patterns(const std::string& last) {
  wv::Selection s;
  for (int i = 0; i < 9999; ++i) s.add_patterns("XX.Q" + std::to_string(10000 + i) + ".00.HH?");
  s.add_patterns(last);
  return s;
}

uint64_t subscribers(Fixture& f) {
  wv::Stats stats;
  auto ctx = context();
  return f.api->GetStats(ctx.get(), {}, &stats).ok() ? stats.subscribers() : 0;
}

// The status a Subscribe call ends with when it is refused at once.
grpc::Status subscribe_status(Fixture& f, const wv::SubscribeRequest& req) {
  auto ctx = context(std::chrono::seconds(10));
  auto reader = f.api->Subscribe(ctx.get(), req);
  wv::SubscribeEvent ev;
  while (reader->Read(&ev)) {
  }
  return reader->Finish();
}

}  // namespace

TEST_CASE("a subscriber holding 10,000 patterns receives its records while every push of a station completes",
          "[server][query][subscribe][hardening]") {
  Fixture f;
  const auto live = steady("LIVE", 30000);
  const auto other = steady("OTHER", 30000);
  std::vector<std::string> got;
  uint64_t skipped = 0;
  bool foreign = false;
  std::thread sub([&] {
    wv::SubscribeRequest req;
    *req.mutable_selection() = ten_thousand_patterns("XX.LIVE");
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
    auto reader = f.api->Subscribe(&ctx, req);
    wv::SubscribeEvent ev;
    while (got.size() + skipped < live.size() && reader->Read(&ev)) {
      if (ev.has_skipped()) skipped += ev.skipped().records();
      if (!ev.has_record()) continue;
      if (ev.record().source_id() != "XX.LIVE.00.HHZ") foreign = true;
      got.push_back(ev.record().mseed());
    }
    ctx.TryCancel();
    reader->Finish();
  });
  REQUIRE(eventually([&] { return subscribers(f) == 1; }, std::chrono::seconds(20)));
  // Both stations' channels interleaved, batch by batch: every batch is
  // acknowledged with every record stored (Fixture::push checks).
  for (size_t i = 0; i < live.size(); i += 50) {
    const auto end = std::min(live.size(), i + 50);
    f.push({live.begin() + i, live.begin() + end});
    f.push({other.begin() + std::min(i, other.size()), other.begin() + std::min(end, other.size())});
  }
  sub.join();
  CHECK_FALSE(foreign);
  CHECK(skipped == 0);
  REQUIRE(got.size() == live.size());
  for (size_t i = 0; i < live.size(); ++i) CHECK(got[i] == std::string(live[i].begin(), live[i].end()));
  REQUIRE(f.server->stop() == 0);
}

TEST_CASE("a selection of more than 10,000 patterns or 1 MiB is refused by every call that takes one",
          "[server][query][hardening]") {
  Fixture f;
  f.push(steady("LIM", 2000));
  auto too_many = ten_thousand_patterns("XX.LIM");
  too_many.add_patterns("XX.ONE.MORE");
  // Two patterns whose comma lists make more than 1 MiB.
  wv::Selection too_big;
  for (int p = 0; p < 2; ++p) {
    std::string pattern = "XX.";
    for (int i = 0; i < 60000; ++i) pattern += (i ? "," : "") + std::string("S") + std::to_string(1000000 + i);
    too_big.add_patterns(pattern + ".00.HHZ");
  }
  for (const auto* sel : {&too_many, &too_big}) {
    const std::string limit = sel == &too_many ? "limit of 10000" : "limit of 1048576 bytes";
    grpc::Status st;
    get_records(f, *sel, {}, {}, &st);
    CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK_THAT(st.error_message(), Catch::Contains(limit));

    wv::ListChannelsRequest lc;
    *lc.mutable_selection() = *sel;
    wv::ListChannelsResponse channels;
    auto ctx = context();
    st = f.api->ListChannels(ctx.get(), lc, &channels);
    CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK_THAT(st.error_message(), Catch::Contains(limit));

    wv::GetAvailabilityRequest av;
    *av.mutable_selection() = *sel;
    wv::GetAvailabilityResponse avail;
    ctx = context();
    st = f.api->GetAvailability(ctx.get(), av, &avail);
    CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);

    wv::SubscribeRequest req;
    *req.mutable_selection() = *sel;
    st = subscribe_status(f, req);
    CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK_THAT(st.error_message(), Catch::Contains(limit));
  }
  // 10,000 patterns are within the limit.
  CHECK(get_records(f, ten_thousand_patterns("XX.LIM"), {}, {}).size() == steady("LIM", 2000).size());
  REQUIRE(f.server->stop() == 0);
}

TEST_CASE("availability windows and a Subscribe backlog longer than --max-window-days are refused, shorter ones served",
          "[server][query][subscribe][hardening]") {
  Fixture f({"--max-window-days", "2"});
  const TimeNs day = 86400 * kNanosPerSecond;
  const auto first = steady("WIN", 1000);
  const auto later = steady("WIN", 1000, kStart + 3 * day);  // the data spans three days
  f.push(first);
  f.push(later);

  auto availability = [&](std::optional<TimeNs> start, std::optional<TimeNs> end, wv::GetAvailabilityResponse* out) {
    wv::GetAvailabilityRequest req;
    *req.mutable_selection() = selection({"XX.WIN"});
    if (start) req.mutable_window()->set_start_ns(*start);
    if (end) req.mutable_window()->set_end_ns(*end);
    auto ctx = context();
    return f.api->GetAvailability(ctx.get(), req, out);
  };
  wv::GetAvailabilityResponse out;
  auto st = availability(kStart, kStart + 3 * day, &out);
  CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(st.error_message(), Catch::Contains("limit of 2.0 days"));
  // Open bounds count from the data, which spans three days.
  st = availability({}, {}, &out);
  CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  out.Clear();
  REQUIRE(availability(kStart + 2 * day, {}, &out).ok());
  REQUIRE(out.channels_size() == 1);
  CHECK(out.channels(0).spans_size() == 1);

  wv::SubscribeRequest req;
  *req.mutable_selection() = selection({"XX.WIN"});
  req.set_since_ns(kStart);
  st = subscribe_status(f, req);
  CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(st.error_message(), Catch::Contains("since_ns"));
  CHECK_THAT(st.error_message(), Catch::Contains("limit of 2.0 days"));

  // A later since: the backlog (the second run) arrives.
  req.set_since_ns(kStart + 2 * day);
  std::vector<std::string> got;
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    auto reader = f.api->Subscribe(&ctx, req);
    wv::SubscribeEvent ev;
    while (got.size() < later.size() && reader->Read(&ev)) {
      if (ev.has_record()) got.push_back(ev.record().mseed());
    }
    ctx.TryCancel();
    reader->Finish();
  }
  REQUIRE(got.size() == later.size());
  CHECK(got.front() == std::string(later.front().begin(), later.front().end()));
  REQUIRE(f.server->stop() == 0);
}

TEST_CASE("seisvaultd refuses a non-loopback API without TLS or a token, naming --api-allow-insecure, and serves it "
          "with that flag or a token",
          "[server][query][hardening]") {
  TempDir tmp;
  {
    ChildProcess refused({built_program("server/seisvaultd").string(), "--data-dir", tmp.path().string(), "--ingest",
                          "tcp://127.0.0.1:*", "--api", "0.0.0.0:0"},
                         tmp.path() / "refused.log");
    const auto code = refused.wait(std::chrono::seconds(30));
    REQUIRE(code);
    CHECK(*code != 0);
    const auto log = read_text(tmp.path() / "refused.log");
    CHECK_THAT(log, Catch::Contains("--api-allow-insecure"));
    CHECK_THAT(log, Catch::Contains("0.0.0.0:0"));
    CHECK_FALSE(std::filesystem::exists(tmp.path() / "api.endpoint"));
  }
  auto serves = [](ServerProcess& server, const std::string& token) {
    const std::string port = server.api().substr(server.api().rfind(':') + 1);
    auto api = wv::Waveforms::NewStub(grpc::CreateChannel("127.0.0.1:" + port, grpc::InsecureChannelCredentials()));
    auto ctx = context();
    if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
    wv::Stats stats;
    return api->GetStats(ctx.get(), {}, &stats).ok();
  };
  {
    ServerProcess server(tmp.path() / "flag", "tcp://127.0.0.1:*", {"--api", "0.0.0.0:0", "--api-allow-insecure"});
    CHECK(serves(server, ""));
    CHECK_THAT(server.log(), Catch::Contains("neither TLS nor a token"));
    REQUIRE(server.stop() == 0);
  }
  {
    const auto token_file = tmp.path() / "token";
    std::ofstream(token_file) << "exposed-but-guarded\n";
    ServerProcess server(tmp.path() / "token-dir", "tcp://127.0.0.1:*",
                         {"--api", "0.0.0.0:0", "--api-token-file", token_file.string()});
    CHECK(serves(server, "exposed-but-guarded"));
    CHECK_FALSE(serves(server, "guess"));
    REQUIRE(server.stop() == 0);
  }
}
