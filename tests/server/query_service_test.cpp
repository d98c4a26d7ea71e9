// QueryService: the request checks and read paths both faces (gRPC and the
// FDSN web services) use, over a real RocksDB store in a temporary directory.
#include <catch2/catch.hpp>

#include "query_service.h"
#include "storage/store_test_records.h"
#include "support/temp_dir.h"

using namespace seisvault;
using namespace seisvault::storage_test;
using server::QueryOptions;
using server::QueryService;
using server::ReadPlan;
using server::RecordFilter;
using server::RecordQuery;

namespace {

struct Fixture {
  test::TempDir dir;
  std::unique_ptr<RecordStore> store;
  Fixture() {
    auto s = RecordStore::open(dir.path() / "store", small_options());
    REQUIRE(s.ok());
    store = std::move(*s);
  }
};

// A record of `seconds` seconds of 100 Hz data starting `at` seconds after kT0.
Rec rec_at(const std::string& id, int64_t at, int64_t seconds = 10, char quality = 'D', uint32_t salt = 0) {
  Rec r = rec(id, kT0 + at * kSecond, seconds * 100, 100.0, salt);
  r.bytes[6] = static_cast<uint8_t>(quality);
  rehash(r);
  return r;
}

ChannelSelection selection_of(std::string_view text) {
  auto s = ChannelSelection::parse(text);
  REQUIRE(s.ok());
  return *s;
}

TimeWindow win(int64_t from_s, int64_t to_s) { return {kT0 + from_s * kSecond, kT0 + to_s * kSecond}; }

struct Seen {
  std::string source_id;
  TimeNs start_ns;
  std::vector<uint8_t> bytes;
};

std::vector<Seen> read_all(const QueryService& q, const ReadPlan& plan, const RecordFilter& f = {}) {
  std::vector<Seen> out;
  auto st = q.read_plan(plan, f, [&](const StoredRecord& r) {
    out.push_back({std::string(r.source_id), r.start_ns, {r.bytes.begin(), r.bytes.end()}});
    return true;
  });
  REQUIRE(st.ok());
  return out;
}

}  // namespace

TEST_CASE("the query service checks the bearer token when one is configured, and nothing otherwise",
          "[server][query_service]") {
  Fixture f;
  QueryService open(QueryOptions{}, *f.store);
  CHECK(open.authorize(std::nullopt).ok());
  CHECK_FALSE(open.token_required());

  QueryOptions o;
  o.token = "s3cret";
  QueryService guarded(o, *f.store);
  CHECK(guarded.token_required());
  CHECK(guarded.authorize(std::nullopt).code() == StatusCode::kUnauthenticated);
  CHECK(guarded.authorize("Bearer guess").code() == StatusCode::kUnauthenticated);
  CHECK(guarded.authorize("s3cret").code() == StatusCode::kUnauthenticated);
  CHECK(guarded.authorize("Bearer s3cret").ok());
}

TEST_CASE("selections are held to the size limits, and FDSN code lists become one selection",
          "[server][query_service]") {
  Fixture f;
  QueryOptions o;
  o.max_selection_patterns = 2;
  o.max_selection_bytes = 40;
  QueryService q(o, *f.store);
  const std::vector<std::string> three{"IU.*", "CH.*", "BW.*"};
  auto too_many = q.selection(three);
  CHECK(too_many.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(too_many.status().message(), Catch::Contains("limit of 2"));
  const std::vector<std::string> long_one{std::string(41, 'A')};
  CHECK_THAT(q.selection(long_one).status().message(), Catch::Contains("limit of 40 bytes"));

  auto codes = q.selection("IU,CH", "ANMO,BALST", "--,00", "LH?");
  REQUIRE(codes.ok());
  CHECK(codes->matches("IU.ANMO..LHZ"));
  CHECK(codes->matches("CH.BALST.00.LHE"));
  CHECK_FALSE(codes->matches("IU.ANMO.10.LHZ"));
  CHECK_FALSE(codes->matches("IU.ANMO..BHZ"));
  CHECK(q.selection("IU", "AN.MO", "*", "*").status().code() == StatusCode::kInvalidArgument);
  CHECK(q.selection("IU", "ANMO", "*", "B;Z").status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("windows that end before they start, or span more than the limit once open bounds meet the data, are "
          "refused",
          "[server][query_service]") {
  Fixture f;
  write_ok(*f.store, {rec_at("XX.A..HHZ", 0), rec_at("XX.A..HHZ", 5 * 86400)});
  QueryOptions o;
  o.max_window_s = 2 * 86400;
  QueryService q(o, *f.store);
  CHECK(QueryService::window(kT0 + kSecond, kT0).status().code() == StatusCode::kInvalidArgument);
  CHECK(QueryService::window(std::nullopt, std::nullopt).ok());
  // Open on both ends: the data spans five days.
  auto open = q.check_window(selection_of("XX.A"), TimeWindow{});
  CHECK(open.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(open.message(), Catch::Contains("limit of 2.0 days"));
  CHECK(q.check_window(selection_of("XX.A"), win(0, 86400)).ok());
  // An open end after the last record: only a day of data is selected.
  CHECK(q.check_window(selection_of("XX.A"), TimeWindow{kT0 + 4 * 86400 * kSecond, kTimeMax}).ok());
  CHECK(q.check_window(selection_of("YY.*"), TimeWindow{}).ok());  // nothing selected
}

TEST_CASE("a bulk plan takes each channel once, in source-id order, with the union of its lines' windows",
          "[server][query_service]") {
  Fixture f;
  std::vector<Rec> recs;
  for (int i = 0; i < 10; ++i) {
    recs.push_back(rec_at("XX.B..HHZ", i * 10));
    recs.push_back(rec_at("XX.A..HHZ", i * 10));
  }
  write_ok(*f.store, recs);
  QueryService q(QueryOptions{}, *f.store);
  // B first in the request, and A in two overlapping lines plus a separate one.
  const std::vector<RecordQuery> lines{{selection_of("XX.B"), win(0, 15)},
                                       {selection_of("XX.A"), win(20, 35)},
                                       {selection_of("XX.A"), win(30, 45)},
                                       {selection_of("XX.A"), win(80, 85)},
                                       {selection_of("YY.*"), win(0, 100)}};
  auto plan = q.plan(lines, {});
  REQUIRE(plan.ok());
  REQUIRE(plan->channels.size() == 2);
  CHECK(plan->channels[0].source_id == "XX.A..HHZ");
  CHECK(plan->channels[1].source_id == "XX.B..HHZ");
  REQUIRE(plan->channels[0].windows.size() == 2);
  CHECK(plan->channels[0].windows[0].begin_ns == win(20, 45).begin_ns);
  CHECK(plan->channels[0].windows[0].end_ns == win(20, 45).end_ns);

  const auto seen = read_all(q, *plan);
  // A: records starting 20, 30, 40 (overlapping [20,45]) and 80 ([80,85]);
  // the record at 10 ends at 19.99 s and is not in. B: 0 and 10.
  std::vector<std::pair<std::string, int64_t>> got;
  for (const auto& s : seen) got.emplace_back(s.source_id, (s.start_ns - kT0) / kSecond);
  const std::vector<std::pair<std::string, int64_t>> want{{"XX.A..HHZ", 20}, {"XX.A..HHZ", 30}, {"XX.A..HHZ", 40},
                                                          {"XX.A..HHZ", 80}, {"XX.B..HHZ", 0},  {"XX.B..HHZ", 10}};
  CHECK(got == want);
  // Byte-identical to what was written.
  for (const auto& s : seen) {
    const auto it = std::find_if(recs.begin(), recs.end(), [&](const Rec& r) {
      return r.source_id == s.source_id && r.start_ns == s.start_ns;
    });
    REQUIRE(it != recs.end());
    CHECK(it->bytes == s.bytes);
  }

  auto nothing = q.plan(std::vector<RecordQuery>{{selection_of("YY.*"), TimeWindow{}}}, {});
  REQUIRE(nothing.ok());
  CHECK(nothing->empty());
}

TEST_CASE("a record overlapping two windows of its channel is read once", "[server][query_service]") {
  Fixture f;
  write_ok(*f.store, {rec_at("XX.A..HHZ", 0, 100), rec_at("XX.A..HHZ", 100, 10)});
  QueryService q(QueryOptions{}, *f.store);
  // Two windows inside the long first record, apart from each other.
  const std::vector<RecordQuery> lines{{selection_of("XX.A"), win(10, 20)}, {selection_of("XX.A"), win(50, 60)},
                                       {selection_of("XX.A"), win(95, 105)}};
  auto plan = q.plan(lines, {});
  REQUIRE(plan.ok());
  REQUIRE(plan->channels.size() == 1);
  CHECK(plan->channels[0].windows.size() == 3);
  const auto seen = read_all(q, *plan);
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].start_ns == kT0);
  CHECK(seen[1].start_ns == kT0 + 100 * kSecond);
}

TEST_CASE("measure counts a plan's records and refuses more than the per-request limits, naming them",
          "[server][query_service]") {
  Fixture f;
  std::vector<Rec> recs;
  for (int i = 0; i < 20; ++i) recs.push_back(rec_at("XX.A..HHZ", i * 10));
  write_ok(*f.store, recs);
  const std::vector<RecordQuery> all{{selection_of("XX.A"), TimeWindow{}}};
  const std::vector<RecordQuery> half{{selection_of("XX.A"), win(0, 95)}};  // records 0..90 s: 10 of them

  QueryOptions o;
  o.max_request_records = 0;
  o.max_request_bytes = 0;
  QueryService unlimited(o, *f.store);
  auto plan = unlimited.plan(all, {});
  REQUIRE(plan.ok());
  auto size = unlimited.measure(*plan, {});
  REQUIRE(size.ok());
  CHECK(size->records == 1);  // without limits it stops at the first record

  // The channel holds 20 records: under a limit of 20 nothing needs counting.
  o.max_request_records = 20;
  size = QueryService(o, *f.store).measure(*plan, {});
  REQUIRE(size.ok());
  CHECK(size->records == 1);

  // A limit the channel passes: the window's records are counted exactly.
  o.max_request_records = 15;
  QueryService counting(o, *f.store);
  auto half_plan = counting.plan(half, {});
  REQUIRE(half_plan.ok());
  size = counting.measure(*half_plan, {});
  REQUIRE(size.ok());
  CHECK(size->records == 10);
  CHECK(size->bytes == 10 * recs[0].bytes.size());

  o.max_request_records = 19;
  auto over = QueryService(o, *f.store).measure(*plan, {});
  CHECK(over.status().code() == StatusCode::kResourceExhausted);
  CHECK_THAT(over.status().message(), Catch::Contains("19 records"));

  o.max_request_records = 0;
  o.max_request_bytes = 1000;
  over = QueryService(o, *f.store).measure(*plan, {});
  CHECK(over.status().code() == StatusCode::kResourceExhausted);
  CHECK_THAT(over.status().message(), Catch::Contains("1000 bytes"));
}

TEST_CASE("the quality filter keeps records whose header carries that quality indicator",
          "[server][query_service]") {
  Fixture f;
  write_ok(*f.store, {rec_at("XX.A..HHZ", 0, 10, 'D'), rec_at("XX.A..HHZ", 10, 10, 'R'),
                      rec_at("XX.A..HHZ", 20, 10, 'M'), rec_at("XX.A..HHZ", 30, 10, 'D')});
  QueryService q(QueryOptions{}, *f.store);
  auto plan = q.plan(std::vector<RecordQuery>{{selection_of("XX.A"), TimeWindow{}}}, {});
  REQUIRE(plan.ok());
  RecordFilter d;
  d.quality = 'D';
  const auto seen = read_all(q, *plan, d);
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].start_ns == kT0);
  CHECK(seen[1].start_ns == kT0 + 30 * kSecond);
  CHECK(read_all(q, *plan).size() == 4);
  RecordFilter qq;
  qq.quality = 'Q';
  auto none = q.measure(*plan, qq);
  REQUIRE(none.ok());
  CHECK(none->records == 0);
}

TEST_CASE("minimumlength keeps continuous spans at least that long, longestonly the longest span",
          "[server][query_service]") {
  Fixture f;
  // Span 1: 0-30 s (3 records), gap, span 2: 100-150 s (5 records), gap,
  // span 3: 200-210 s (1 record).
  std::vector<Rec> recs;
  for (int i = 0; i < 3; ++i) recs.push_back(rec_at("XX.A..HHZ", i * 10));
  for (int i = 0; i < 5; ++i) recs.push_back(rec_at("XX.A..HHZ", 100 + i * 10));
  recs.push_back(rec_at("XX.A..HHZ", 200));
  write_ok(*f.store, recs);
  QueryService q(QueryOptions{}, *f.store);
  const std::vector<RecordQuery> all{{selection_of("XX.A"), TimeWindow{}}};

  RecordFilter min25;
  min25.minimum_length_ns = 25 * kSecond;
  auto plan = q.plan(all, min25);
  REQUIRE(plan.ok());
  auto seen = read_all(q, *plan, min25);
  CHECK(seen.size() == 8);  // spans 1 and 2
  for (const auto& s : seen) CHECK(s.start_ns < kT0 + 200 * kSecond);

  RecordFilter longest;
  longest.longest_only = true;
  plan = q.plan(all, longest);
  REQUIRE(plan.ok());
  seen = read_all(q, *plan, longest);
  REQUIRE(seen.size() == 5);
  CHECK(seen.front().start_ns == kT0 + 100 * kSecond);

  // Inside a window, spans count only their part in it.
  RecordFilter min25_window = min25;
  plan = q.plan(std::vector<RecordQuery>{{selection_of("XX.A"), win(130, 300)}}, min25_window);
  REQUIRE(plan.ok());
  CHECK(plan->empty());  // span 2 has 20 s in the window, span 3 10 s
}

TEST_CASE("availability by quality splits a channel's spans by quality and sample rate", "[server][query_service]") {
  Fixture f;
  Rec fast = rec("XX.A..HHZ", kT0 + 100 * kSecond, 1000, 200.0, 7);
  fast.bytes[6] = 'D';
  rehash(fast);
  write_ok(*f.store, {rec_at("XX.A..HHZ", 0, 10, 'D'), rec_at("XX.A..HHZ", 10, 10, 'D'),
                      rec_at("XX.A..HHZ", 20, 10, 'R'), fast, rec_at("XX.B..HHZ", 0, 10, 'M')});
  QueryService q(QueryOptions{}, *f.store);
  auto a = q.availability_by_quality({selection_of("XX.*"), TimeWindow{}}, std::nullopt, std::nullopt);
  REQUIRE(a.ok());
  REQUIRE(a->size() == 4);
  CHECK((*a)[0].source_id == "XX.A..HHZ");
  CHECK((*a)[0].quality == 'D');
  CHECK((*a)[0].sample_rate == 100.0);
  REQUIRE((*a)[0].spans.size() == 1);  // 0-20 s, contiguous
  CHECK((*a)[0].spans[0].start_ns == kT0);
  CHECK((*a)[1].quality == 'D');
  CHECK((*a)[1].sample_rate == 200.0);
  CHECK((*a)[2].quality == 'R');
  CHECK((*a)[3].source_id == "XX.B..HHZ");
  CHECK((*a)[3].quality == 'M');
  CHECK((*a)[3].updated_ns > 0);

  auto only_r = q.availability_by_quality({selection_of("XX.*"), TimeWindow{}}, std::nullopt, 'R');
  REQUIRE(only_r.ok());
  REQUIRE(only_r->size() == 1);
  CHECK((*only_r)[0].quality == 'R');
}

TEST_CASE("availability by quality refuses more spans than the limit, naming it", "[server][query_service]") {
  Fixture f;
  // Three spans: records 0-10 s, 20-30 s, 40-50 s.
  write_ok(*f.store, {rec_at("XX.A..HHZ", 0), rec_at("XX.A..HHZ", 20), rec_at("XX.A..HHZ", 40)});
  QueryOptions o;
  o.max_availability_spans = 3;
  auto fits = QueryService(o, *f.store).availability_by_quality({selection_of("XX.*"), TimeWindow{}}, std::nullopt,
                                                                 std::nullopt);
  REQUIRE(fits.ok());
  REQUIRE(fits->size() == 1);
  CHECK((*fits)[0].spans.size() == 3);
  o.max_availability_spans = 2;
  auto over = QueryService(o, *f.store).availability_by_quality({selection_of("XX.*"), TimeWindow{}}, std::nullopt,
                                                                 std::nullopt);
  CHECK(over.status().code() == StatusCode::kResourceExhausted);
  CHECK_THAT(over.status().message(), Catch::Contains("limit of 2"));
}
