// /metrics as render_metrics() writes it: a real RecordStore in a temporary
// directory, real IngestStats, SubscriptionHub and ApiMetrics, the page
// read back with a strict parser of the exposition format
// (exposition_parser.h), and the figures checked against what was done.
// Also PrometheusText's escaping and numbers, and ApiMetrics on its own.
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "api_metrics.h"
#include "exposition_parser.h"
#include "prometheus_text.h"
#include "server_metrics.h"
#include "storage/store_test_records.h"
#include "subscription_hub.h"
#include "support/temp_dir.h"

using namespace seisvault;
using namespace seisvault::server;
using seisvault::storage_test::kSecond;
using seisvault::storage_test::kT0;
using seisvault::storage_test::rec;
using seisvault::storage_test::Rec;
using seisvault::test::Exposition;
using seisvault::test::parse_exposition;
using Labels = std::map<std::string, std::string>;

namespace {

Exposition parse_ok(const std::string& page) {
  try {
    return parse_exposition(page);
  } catch (const std::exception& e) {
    FAIL(e.what());
  }
  return {};
}

std::unique_ptr<storage::RecordStore> open_store(const std::filesystem::path& dir) {
  auto o = storage_test::small_options();
  o.min_free_bytes = 0;
  auto s = storage::RecordStore::open(dir, o);
  REQUIRE(s.ok());
  return std::move(s.value());
}

std::vector<Rec> records_of(const std::string& id, int n) {
  std::vector<Rec> out;
  for (int i = 0; i < n; ++i) out.push_back(rec(id, kT0 + i * kSecond));
  return out;
}

// For INFO output of a label set.
std::string labels_text(const Labels& labels) {
  std::string out = "{";
  for (const auto& [k, val] : labels) out += k + "=\"" + val + "\",";
  return out + "}";
}

double v(const Exposition& e, const std::string& name, const Labels& labels = {}) {
  const auto x = e.value(name, labels);
  INFO(name << labels_text(labels));
  REQUIRE(x.has_value());
  return *x;
}

}  // namespace

TEST_CASE("the page of a server with nothing stored parses strictly and holds every family with HELP and TYPE",
          "[metrics]") {
  test::TempDir tmp;
  auto store = open_store(tmp.path() / "store");
  ingest::IngestStats stats;
  SubscriptionHub hub;
  ApiMetrics api;
  const auto page = render_metrics({&stats, store.get(), &hub, &api, kT0});
  const auto e = parse_ok(page);

  for (const char* name :
       {"seisvault_uptime_seconds", "seisvault_process_start_time_seconds", "seisvault_ingest_records_stored_total",
        "seisvault_ingest_stored_bytes_total", "seisvault_ingest_records_rejected_total",
        "seisvault_ingest_station_records_stored_total", "seisvault_ingest_station_stored_bytes_total",
        "seisvault_ingest_ack_latency_seconds", "seisvault_ingest_store_write_duration_seconds",
        "seisvault_ingest_wal_sync_duration_seconds", "seisvault_ingest_queue_batches",
        "seisvault_ingest_batches_in_flight", "seisvault_ingest_connections", "seisvault_store_state",
        "seisvault_store_sst_files_bytes", "seisvault_store_memtable_bytes", "seisvault_store_pending_compaction_bytes",
        "seisvault_store_running_compactions", "seisvault_store_write_stopped",
        "seisvault_store_write_stall_seconds_total", "seisvault_store_channels",
        "seisvault_channel_data_latency_seconds", "seisvault_channel_last_receive_time_seconds",
        "seisvault_subscribers", "seisvault_api_requests_total", "seisvault_api_request_duration_seconds",
        "seisvault_metrics_incomplete"}) {
    INFO(name);
    const auto* f = e.family(name);
    REQUIRE(f);
    CHECK(!f->help.empty());
    CHECK(!f->type.empty());
  }
  for (const auto& name : e.order) {
    INFO(name);
    CHECK(name.rfind("seisvault_", 0) == 0);
  }
  CHECK(e.family("seisvault_ingest_ack_latency_seconds")->type == "histogram");
  CHECK(e.family("seisvault_store_state")->type == "gauge");

  CHECK(v(e, "seisvault_store_state", {{"state", "ok"}}) == 1);
  CHECK(v(e, "seisvault_store_state", {{"state", "paused"}}) == 0);
  CHECK(v(e, "seisvault_store_state", {{"state", "failed"}}) == 0);
  CHECK(v(e, "seisvault_store_channels") == 0);
  CHECK(v(e, "seisvault_metrics_incomplete") == 0);
  CHECK(e.samples("seisvault_channel_data_latency_seconds").empty());
  // Every rejection reason is a series from the start (zeros included), "none" is not.
  CHECK(e.samples("seisvault_ingest_records_rejected_total").size() == kRejectReasonCount - 1);
  CHECK(v(e, "seisvault_ingest_records_rejected_total", {{"reason", "hash_mismatch"}}) == 0);
  CHECK(!e.value("seisvault_ingest_records_rejected_total", {{"reason", "none"}}));
  // An empty histogram: every bucket 0, +Inf and count 0.
  CHECK(v(e, "seisvault_ingest_ack_latency_seconds_bucket", {{"le", "+Inf"}}) == 0);
  CHECK(v(e, "seisvault_ingest_ack_latency_seconds_count") == 0);
  CHECK(e.samples("seisvault_ingest_ack_latency_seconds_bucket").size() == LatencyHistogram::kBucketCount + 1);
  CHECK(v(e, "seisvault_subscribers") == 0);
  CHECK(v(e, "seisvault_uptime_seconds") >= 0);
  CHECK(v(e, "seisvault_process_resident_memory_bytes") > 0);
  // No request yet: the API families are declared, without samples.
  CHECK(e.family("seisvault_api_requests_total")->samples.empty());
}

TEST_CASE("after records are stored, each channel has its data latency and last receive time, labelled by its codes",
          "[metrics]") {
  test::TempDir tmp;
  auto store = open_store(tmp.path() / "store");
  // 10 + 5 + 1 records of 100 samples at 100 Hz, one a second from kT0,
  // each received 30 s after its start.
  storage_test::write_ok(*store, records_of("XX.AAA.00.HHZ", 10));
  storage_test::write_ok(*store, records_of("XX.AAA..HHE", 5));  // blank location
  storage_test::write_ok(*store, records_of("YY.BBB.10.BHZ", 1));
  const TimeNs now = kT0 + 100 * kSecond;
  const auto e = parse_ok(render_metrics({.store = store.get(), .now_ns = now}));

  const auto last_end = [](int n) { return kT0 + (n - 1) * kSecond + 99 * storage_test::kPeriod100Hz; };
  const auto latency = [&](int n) { return static_cast<double>(now - last_end(n)) / 1e9; };
  const auto received = [](int n) { return static_cast<double>(kT0 + (n - 1) * kSecond + 30 * kSecond) / 1e9; };
  const Labels zz{{"network", "XX"}, {"station", "AAA"}, {"location", "00"}, {"channel", "HHZ"}};
  const Labels ze{{"network", "XX"}, {"station", "AAA"}, {"location", ""}, {"channel", "HHE"}};
  const Labels bz{{"network", "YY"}, {"station", "BBB"}, {"location", "10"}, {"channel", "BHZ"}};
  CHECK(v(e, "seisvault_channel_data_latency_seconds", zz) == Approx(latency(10)));
  CHECK(v(e, "seisvault_channel_data_latency_seconds", ze) == Approx(latency(5)));
  CHECK(v(e, "seisvault_channel_data_latency_seconds", bz) == Approx(latency(1)));
  CHECK(latency(10) == Approx(90.01));
  CHECK(v(e, "seisvault_channel_last_receive_time_seconds", zz) == Approx(received(10)).epsilon(1e-15));
  CHECK(v(e, "seisvault_channel_last_receive_time_seconds", ze) == Approx(received(5)).epsilon(1e-15));
  CHECK(v(e, "seisvault_channel_last_receive_time_seconds", bz) == Approx(received(1)).epsilon(1e-15));
  CHECK(e.samples("seisvault_channel_data_latency_seconds").size() == 3);
  CHECK(e.samples("seisvault_channel_last_receive_time_seconds").size() == 3);

  CHECK(v(e, "seisvault_store_channels") == 3);
  CHECK(v(e, "seisvault_store_records") == 16);
  CHECK(v(e, "seisvault_store_record_bytes") == 16 * 256);
  // RocksDB holds the writes in its memtables (nothing flushed yet).
  CHECK(v(e, "seisvault_store_memtable_bytes") > 0);
  CHECK(v(e, "seisvault_store_write_stopped") == 0);
  const auto h = store->health();
  if (h.free_bytes != 0) CHECK(v(e, "seisvault_store_free_bytes") == static_cast<double>(h.free_bytes));
  // No other sources: their families are left out.
  CHECK(!e.family("seisvault_ingest_records_stored_total"));
  CHECK(!e.family("seisvault_subscribers"));
  CHECK(!e.family("seisvault_api_requests_total"));

  SECTION("per_channel = false leaves the per-channel families out, the store's totals in") {
    const auto lean = parse_ok(render_metrics({.store = store.get(), .now_ns = now, .per_channel = false}));
    CHECK(!lean.family("seisvault_channel_data_latency_seconds"));
    CHECK(!lean.family("seisvault_channel_last_receive_time_seconds"));
    CHECK(v(lean, "seisvault_store_channels") == 3);
  }
}

TEST_CASE("the store's engine figures agree with RecordStore::engine_stats", "[metrics]") {
  test::TempDir tmp;
  auto store = open_store(tmp.path() / "store");
  storage_test::write_ok(*store, records_of("XX.AAA.00.HHZ", 200), true);
  const auto es = store->engine_stats();
  CHECK(es.memtable_bytes > 0);
  CHECK(!es.write_stopped);
  CHECK(es.delayed_write_rate == 0);
  CHECK(es.write_stops == 0);
  const auto e = parse_ok(render_metrics({.store = store.get()}));
  // Figures that do not move while nothing is written.
  CHECK(v(e, "seisvault_store_sst_files_bytes") == static_cast<double>(es.sst_files_bytes));
  CHECK(v(e, "seisvault_store_live_sst_files_bytes") == static_cast<double>(es.live_sst_files_bytes));
  CHECK(v(e, "seisvault_store_write_stops_total") == static_cast<double>(es.write_stops));
  CHECK(v(e, "seisvault_store_write_slowdowns_total") == static_cast<double>(es.write_slowdowns));
  CHECK(v(e, "seisvault_store_delayed_write_rate_bytes_per_second") == 0);
  CHECK(v(e, "seisvault_store_segment_files") == static_cast<double>(es.segment_files));
  CHECK(v(e, "seisvault_store_segment_files_bytes") == static_cast<double>(es.segment_files_bytes));

  // Reopened, RocksDB replays its log into table files (flushes, counted
  // with the compactions): the sizes and the flush figures show them.
  store.reset();
  store = open_store(tmp.path() / "store");
  const auto reopened = store->engine_stats();
  // The table files hold the records' metadata (72 bytes each); their
  // bytes are in segment files.
  CHECK(reopened.sst_files_bytes > 200 * 72);
  CHECK(reopened.live_sst_files_bytes == reopened.sst_files_bytes);
  CHECK(reopened.compactions >= 1);
  CHECK(reopened.compaction_written_bytes > 200 * 72);
  size_t record_bytes = 0;
  for (const auto& r : records_of("XX.AAA.00.HHZ", 200)) record_bytes += r.bytes.size();
  CHECK(reopened.segment_files_bytes == record_bytes);
  CHECK(reopened.segment_files == 2);  // the one written, and the new one appends go to now
  const auto again = parse_ok(render_metrics({.store = store.get()}));
  CHECK(v(again, "seisvault_store_sst_files_bytes") == static_cast<double>(reopened.sst_files_bytes));
}

TEST_CASE("ingest counters, per-station totals, queue gauges and histograms appear with their values", "[metrics]") {
  ingest::IngestStats s;
  s.batches = 7;
  s.records_received = 120;
  s.bytes_received = 120 * 512;
  s.records_stored = 100;
  s.bytes_stored = 100 * 512;
  s.records_duplicate = 15;
  s.records_rejected = 5;
  s.rejected_by_reason[static_cast<size_t>(RejectReason::kHashMismatch)] = 3;
  s.rejected_by_reason[static_cast<size_t>(RejectReason::kSteimIntegrity)] = 2;
  s.connections = 4;
  s.batches_in_flight = 6;
  s.validate_queue_batches = 1;
  s.commit_queue_batches = 2;
  s.sync_queue_batches = 3;
  s.ack_latency.observe(0.002);
  s.ack_latency.observe(0.003);
  s.ack_latency.observe(20.0);
  s.store_write_duration.observe(0.0001);
  s.wal_sync_duration.observe(0.0003);
  s.wal_sync_duration.observe(0.0007);
  const std::vector<ingest::StationTotals::Delta> first{{"XX.AAA", 60, 60 * 512}, {"YY.BBB", 30, 30 * 512}};
  const std::vector<ingest::StationTotals::Delta> second{{"XX.AAA", 10, 10 * 512}};
  s.stored_by_station.add(first);
  s.stored_by_station.add(second);

  const auto e = parse_ok(render_metrics({.ingest = &s}));
  CHECK(v(e, "seisvault_ingest_batches_total") == 7);
  CHECK(v(e, "seisvault_ingest_records_received_total") == 120);
  CHECK(v(e, "seisvault_ingest_records_stored_total") == 100);
  CHECK(v(e, "seisvault_ingest_stored_bytes_total") == 100 * 512);
  CHECK(v(e, "seisvault_ingest_records_duplicate_total") == 15);
  CHECK(v(e, "seisvault_ingest_records_rejected_total", {{"reason", "hash_mismatch"}}) == 3);
  CHECK(v(e, "seisvault_ingest_records_rejected_total", {{"reason", "steim_integrity"}}) == 2);
  CHECK(v(e, "seisvault_ingest_records_rejected_total", {{"reason", "not_miniseed"}}) == 0);
  CHECK(v(e, "seisvault_ingest_connections") == 4);
  CHECK(v(e, "seisvault_ingest_batches_in_flight") == 6);
  CHECK(v(e, "seisvault_ingest_queue_batches", {{"queue", "validate"}}) == 1);
  CHECK(v(e, "seisvault_ingest_queue_batches", {{"queue", "commit"}}) == 2);
  CHECK(v(e, "seisvault_ingest_queue_batches", {{"queue", "sync"}}) == 3);
  CHECK(v(e, "seisvault_ingest_station_records_stored_total", {{"network", "XX"}, {"station", "AAA"}}) == 70);
  CHECK(v(e, "seisvault_ingest_station_stored_bytes_total", {{"network", "XX"}, {"station", "AAA"}}) == 70 * 512);
  CHECK(v(e, "seisvault_ingest_station_records_stored_total", {{"network", "YY"}, {"station", "BBB"}}) == 30);
  CHECK(e.samples("seisvault_ingest_station_records_stored_total").size() == 2);

  // 2 ms and 3 ms: le 0.0025 holds one, le 0.005 both; 20 s only in +Inf.
  CHECK(v(e, "seisvault_ingest_ack_latency_seconds_bucket", {{"le", "0.001"}}) == 0);
  CHECK(v(e, "seisvault_ingest_ack_latency_seconds_bucket", {{"le", "0.0025"}}) == 1);
  CHECK(v(e, "seisvault_ingest_ack_latency_seconds_bucket", {{"le", "0.005"}}) == 2);
  CHECK(v(e, "seisvault_ingest_ack_latency_seconds_bucket", {{"le", "10"}}) == 2);
  CHECK(v(e, "seisvault_ingest_ack_latency_seconds_bucket", {{"le", "+Inf"}}) == 3);
  CHECK(v(e, "seisvault_ingest_ack_latency_seconds_count") == 3);
  CHECK(v(e, "seisvault_ingest_ack_latency_seconds_sum") == Approx(20.005));
  CHECK(v(e, "seisvault_ingest_store_write_duration_seconds_bucket", {{"le", "0.0005"}}) == 1);
  CHECK(v(e, "seisvault_ingest_wal_sync_duration_seconds_bucket", {{"le", "0.0005"}}) == 1);
  CHECK(v(e, "seisvault_ingest_wal_sync_duration_seconds_bucket", {{"le", "0.001"}}) == 2);
  CHECK(v(e, "seisvault_ingest_wal_sync_duration_seconds_count") == 2);
}

TEST_CASE("subscribers are counted while they are subscribed", "[metrics]") {
  SubscriptionHub hub;
  auto sub = hub.subscribe({}, 16);
  CHECK(v(parse_ok(render_metrics({.hub = &hub})), "seisvault_subscribers") == 1);
  hub.unsubscribe(sub);
  CHECK(v(parse_ok(render_metrics({.hub = &hub})), "seisvault_subscribers") == 0);
}

TEST_CASE("API requests are counted per face, method and status, with a duration histogram per face and method",
          "[metrics][api_metrics]") {
  ApiMetrics api;
  api.observe("grpc", "GetRecords", 0, 0.003);
  api.observe("grpc", "GetRecords", 0, 0.004);
  api.observe("grpc", "GetRecords", 5, 0.0001);
  api.observe("http", "dataselect/query", 200, 0.5);
  api.observe("http", "dataselect/query", 204, 0.02);
  api.observe("http", "dataselect/query", 200, -1.0);  // a clock that went back counts as 0
  const auto e = parse_ok(render_metrics({.api = &api}));
  CHECK(v(e, "seisvault_api_requests_total", {{"face", "grpc"}, {"method", "GetRecords"}, {"status", "0"}}) == 2);
  CHECK(v(e, "seisvault_api_requests_total", {{"face", "grpc"}, {"method", "GetRecords"}, {"status", "5"}}) == 1);
  CHECK(v(e, "seisvault_api_requests_total", {{"face", "http"}, {"method", "dataselect/query"}, {"status", "200"}}) ==
        2);
  CHECK(v(e, "seisvault_api_requests_total", {{"face", "http"}, {"method", "dataselect/query"}, {"status", "204"}}) ==
        1);
  CHECK(e.samples("seisvault_api_requests_total").size() == 4);
  const Labels grpc{{"face", "grpc"}, {"method", "GetRecords"}};
  auto with_le = [](Labels l, std::string le) {
    l["le"] = std::move(le);
    return l;
  };
  CHECK(v(e, "seisvault_api_request_duration_seconds_count", grpc) == 3);
  CHECK(v(e, "seisvault_api_request_duration_seconds_bucket", with_le(grpc, "0.0005")) == 1);
  CHECK(v(e, "seisvault_api_request_duration_seconds_bucket", with_le(grpc, "0.005")) == 3);
  CHECK(v(e, "seisvault_api_request_duration_seconds_sum", grpc) == Approx(0.0071));
  const Labels http{{"face", "http"}, {"method", "dataselect/query"}};
  CHECK(v(e, "seisvault_api_request_duration_seconds_count", http) == 3);
  CHECK(v(e, "seisvault_api_request_duration_seconds_bucket", with_le(http, "0.0005")) == 1);
  CHECK(v(e, "seisvault_api_request_duration_seconds_sum", http) == Approx(0.52));
}

TEST_CASE("past ApiMetrics::kMaxSeries methods, new ones are counted as \"other\"", "[metrics][api_metrics]") {
  ApiMetrics api;
  for (size_t i = 0; i < ApiMetrics::kMaxSeries + 10; ++i) api.observe("http", fmt::format("route{}", i), 404, 0.001);
  const auto snap = api.snapshot();
  CHECK(snap.size() == ApiMetrics::kMaxSeries + 1);
  const auto e = parse_ok(render_metrics({.api = &api}));
  CHECK(v(e, "seisvault_api_requests_total", {{"face", "http"}, {"method", "other"}, {"status", "404"}}) == 10);
  CHECK(v(e, "seisvault_api_requests_total", {{"face", "http"}, {"method", "route0"}, {"status", "404"}}) == 1);
}

TEST_CASE("label values with a backslash, a quote or a newline are escaped and read back unchanged",
          "[metrics][prometheus_text]") {
  ApiMetrics api;
  const std::string odd = "a\\b\"c\nd";
  api.observe("http", odd, 400, 0.001);
  const auto page = render_metrics({.api = &api});
  CHECK_THAT(page, Catch::Contains("method=\"a\\\\b\\\"c\\nd\""));
  const auto e = parse_ok(page);
  CHECK(v(e, "seisvault_api_requests_total", {{"face", "http"}, {"method", odd}, {"status", "400"}}) == 1);
}

TEST_CASE("numbers are written so that Prometheus reads them back: integers exactly, doubles round-trip, NaN and Inf",
          "[metrics][prometheus_text]") {
  std::string page;
  PrometheusText w(page);
  w.family("x_gauge", MetricType::kGauge, "a gauge\nwith a newline and a \\ in its help");
  const std::vector<double> doubles = {0.0,     0.0005, 1e-7,   1.5e300, -2.25, 1.0 / 3.0, 12345.0,
                                       1e21,    4.9e-324, std::numeric_limits<double>::quiet_NaN(),
                                       INFINITY, -INFINITY};
  for (size_t i = 0; i < doubles.size(); ++i) w.sample("x_gauge", {{"i", std::to_string(i)}}, doubles[i]);
  w.family("x_total", MetricType::kCounter, "a counter");
  w.sample("x_total", {{"k", "max"}}, std::numeric_limits<uint64_t>::max());
  w.sample("x_total", {{"k", "small"}}, uint64_t{42});
  w.sample("x_total", {{"k", "neg"}}, int64_t{-7});
  CHECK_THAT(page, Catch::Contains("# HELP x_gauge a gauge\\nwith a newline and a \\\\ in its help\n"));
  CHECK_THAT(page, Catch::Contains("x_total{k=\"max\"} 18446744073709551615\n"));
  CHECK_THAT(page, Catch::Contains("x_gauge{i=\"9\"} NaN\n"));
  CHECK_THAT(page, Catch::Contains("x_gauge{i=\"10\"} +Inf\n"));
  CHECK_THAT(page, Catch::Contains("x_gauge{i=\"11\"} -Inf\n"));
  CHECK_THAT(page, Catch::Contains("x_gauge{i=\"1\"} 0.0005\n"));
  const auto e = parse_ok(page);
  for (size_t i = 0; i < doubles.size(); ++i) {
    INFO(i);
    const double got = v(e, "x_gauge", {{"i", std::to_string(i)}});
    if (std::isnan(doubles[i])) {
      CHECK(std::isnan(got));
    } else {
      CHECK(got == doubles[i]);  // exactly: the shortest form reads back the same
    }
  }
  CHECK(v(e, "x_total", {{"k", "small"}}) == 42);
  CHECK(v(e, "x_total", {{"k", "neg"}}) == -7);
}

TEST_CASE("a histogram is written as cumulative buckets ending in +Inf, then _sum and _count, le after the labels",
          "[metrics][prometheus_text]") {
  LatencyHistogram h;
  h.observe(0.0004);
  h.observe(0.7);
  std::string page;
  PrometheusText w(page);
  w.family("x_seconds", MetricType::kHistogram, "a histogram");
  w.histogram("x_seconds", {{"face", "grpc"}}, h.snapshot());
  CHECK_THAT(page, Catch::StartsWith("# HELP x_seconds a histogram\n# TYPE x_seconds histogram\n"
                                     "x_seconds_bucket{face=\"grpc\",le=\"0.0005\"} 1\n"));
  CHECK_THAT(page, Catch::Contains("x_seconds_bucket{face=\"grpc\",le=\"0.5\"} 1\n"
                                   "x_seconds_bucket{face=\"grpc\",le=\"1\"} 2\n"));
  CHECK_THAT(page, Catch::EndsWith("x_seconds_bucket{face=\"grpc\",le=\"+Inf\"} 2\n"
                                   "x_seconds_sum{face=\"grpc\"} 0.7004\n"
                                   "x_seconds_count{face=\"grpc\"} 2\n"));
  parse_ok(page);
}

TEST_CASE("the strict parser refuses what the format does not allow", "[metrics][prometheus_text]") {
  const auto refused = [](const std::string& page) {
    INFO(page);
    CHECK_THROWS(parse_exposition(page));
  };
  refused("x 1\n");                                                                  // no TYPE
  refused("# TYPE x gauge\nx 1\n");                                                  // no HELP
  refused("# HELP x h\n# TYPE x gauge\nx 1");                                        // no final newline
  refused("# HELP x h\n# TYPE x gauge\nx{a=\"1\"} 1\nx{a=\"1\"} 2\n");               // one series twice
  refused("# HELP x h\n# TYPE x gauge\nx{a=\"\\t\"} 1\n");                           // unknown escape
  refused("# HELP x h\n# TYPE x gauge\nx one\n");                                    // not a number
  refused("# HELP x h\n# TYPE x counter\nx 1\n");                                    // counter without _total
  refused("# HELP x h\n# TYPE x gauge\n# HELP y h\n# TYPE y gauge\ny 1\nx 1\n");     // x's sample after y
  refused("# HELP x h\n# TYPE x gauge\nx 1\n# HELP y h\n# TYPE y gauge\ny 1\n# HELP x h\n");  // x resumed
  refused("# HELP h h\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n");
  refused("# HELP h h\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n");
  refused("# HELP h h\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n");  // no +Inf
  CHECK_NOTHROW(
      parse_exposition("# HELP h h\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\n"
                       "h_count 2\n"));
}

TEST_CASE("a store of 20,000 channels renders two series per channel in one page that parses", "[metrics][slow]") {
  test::TempDir tmp;
  auto o = storage_test::small_options();
  o.min_free_bytes = 0;
  o.max_new_channels_per_sender_per_hour = 100'000;
  auto opened = storage::RecordStore::open(tmp.path() / "store", o);
  REQUIRE(opened.ok());
  auto& store = *opened.value();
  constexpr int kStations = 100, kChannelsEach = 200;
  std::vector<Rec> recs;
  recs.reserve(kStations * kChannelsEach);
  for (int s = 0; s < kStations; ++s) {
    for (int c = 0; c < kChannelsEach; ++c) {
      recs.push_back(rec(fmt::format("XX.S{:03d}.{:02d}.HHZ", s, c), kT0 + c * kSecond, 100, 100.0, 0, 64));
    }
  }
  storage_test::write_ok(store, recs);
  const auto start = std::chrono::steady_clock::now();
  const auto page = render_metrics({.store = &store, .now_ns = kT0 + 3600 * kSecond});
  const auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  WARN(fmt::format("{} channels: a page of {:.1f} MB in {:.3f} s", recs.size(), page.size() / 1e6, took));
  const auto e = parse_ok(page);
  CHECK(e.samples("seisvault_channel_data_latency_seconds").size() == recs.size());
  CHECK(e.samples("seisvault_channel_last_receive_time_seconds").size() == recs.size());
  CHECK(v(e, "seisvault_store_channels") == recs.size());
  CHECK(v(e, "seisvault_channel_data_latency_seconds",
          {{"network", "XX"}, {"station", "S042"}, {"location", "07"}, {"channel", "HHZ"}}) ==
        Approx((3600 - 7 - 0.99)));
}
