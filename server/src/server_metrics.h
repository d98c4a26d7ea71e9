// render_metrics: the /metrics page, in the Prometheus text exposition
// format 0.0.4 (written by PrometheusText, our own: Debian 12 packages no
// prometheus-cpp). Serve it with kMetricsContentType.
//
// Every metric is named seisvault_..., with its unit in its name (_seconds,
// _bytes; counters end in _total), and has a HELP line. What it shows, by
// source (a null source leaves its families out):
//  - the process: start time, uptime, CPU time, resident memory, open file
//    descriptors (from /proc; left out where there is none);
//  - ingest (IngestStats): batches, records and bytes received, stored,
//    duplicate; rejected records per reason (every reason, zeros included);
//    records and bytes stored per station (network, station); connections
//    (connected stations) and what was refused; the batches in flight and
//    in each queue; histograms of ack latency, store write and WAL fsync
//    durations;
//  - the store (RecordStore): its state (ok/paused/failed: one series each,
//    1 for the current one), free bytes, RocksDB's sizes, memory,
//    compactions and write stalls (engine_stats()), channels, records and
//    bytes held; per channel (network, station, location, channel; a blank
//    location is ""): data latency (now minus the time of the last sample)
//    and the time the latest record was received;
//  - live subscribers (SubscriptionHub) and what the hub dropped;
//  - SeedLink connections, what they were sent, live clients that fell back
//    to the store;
//  - query API requests per face, method and status, and their durations
//    (ApiMetrics).
//
// Cardinality and cost: the per-channel families are 2 series per channel,
// about 100 bytes each, so a network of 80,000 channels makes a page of
// about 16 MB (a few hundred KB gzipped: serve it compressed when the
// scraper asks) and costs a read of every channel summary (list_channels)
// per scrape. Per station: 2 series per station that stored records since
// the server started. The rest is a few hundred series whatever the size of
// the network. MetricsSources::per_channel = false leaves the per-channel
// families out. The page is rendered into one string, reserved up front.
//
// Thread-safe as its sources are (each may be read while the server runs);
// a page is not one instant (each figure is current when read).
#pragma once

#include <string>
#include <string_view>

#include "api_metrics.h"
#include "seisvault/common/time.h"
#include "seisvault/ingest/ingest_stats.h"
#include "seisvault/storage/record_store.h"
#include "retention_runner.h"
#include "seedlink_server.h"
#include "subscription_hub.h"

namespace seisvault::server {

inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

struct MetricsSources {
  const ingest::IngestStats* ingest = nullptr;   // may be null (no ingest socket)
  const storage::RecordStore* store = nullptr;   // health, engine_stats, channels (list_channels)
  const SubscriptionHub* hub = nullptr;          // subscribers
  const ApiMetrics* api = nullptr;
  TimeNs now_ns = 0;                             // "now" of the data latencies; 0: the clock's now
  bool per_channel = true;                       // the per-channel families (2 series per channel)
  const SeedLinkServer* seedlink = nullptr;      // SeedLink clients (may be null: face off)
  const RetentionRunner* retention = nullptr;    // retention passes (may be null)
};

// The whole page. A source that fails to answer (the channel list, on a
// read error) leaves its families without samples and sets
// seisvault_metrics_incomplete to 1; the error is logged.
std::string render_metrics(const MetricsSources& sources);

}  // namespace seisvault::server
