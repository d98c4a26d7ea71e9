#include "server_metrics.h"

#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>

#include <spdlog/spdlog.h>

#include "seisvault/storage/channel_selection.h"
#include "prometheus_text.h"
#include "seisvault/common/reject_reason.h"

namespace seisvault::server {

namespace {

constexpr double kNanos = 1e9;

double seconds(TimeNs ns) { return static_cast<double>(ns) / kNanos; }

uint64_t load(const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); }

// ---- the process (/proc) ----------------------------------------------------

struct ProcessFigures {
  TimeNs start_ns = 0;
  double cpu_seconds = 0;
  uint64_t resident_bytes = 0;
  uint64_t open_fds = 0;
};

// From /proc/self/stat (fields after the command name, which may hold
// spaces and parentheses) and /proc/stat's boot time. nullopt without /proc.
std::optional<ProcessFigures> process_figures() {
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  // Field 3 (state) is the first after the command; utime is field 14,
  // stime 15, starttime 22, rss 24.
  std::istringstream fields(stat.substr(close + 1));
  std::string field;
  uint64_t utime = 0, stime = 0, start_ticks = 0, rss_pages = 0;
  for (int n = 3; fields >> field && n <= 24; ++n) {
    if (n == 14) utime = std::strtoull(field.c_str(), nullptr, 10);
    if (n == 15) stime = std::strtoull(field.c_str(), nullptr, 10);
    if (n == 22) start_ticks = std::strtoull(field.c_str(), nullptr, 10);
    if (n == 24) rss_pages = std::strtoull(field.c_str(), nullptr, 10);
  }
  uint64_t boot_time = 0;
  std::ifstream proc_stat("/proc/stat");
  for (std::string line; std::getline(proc_stat, line);) {
    if (line.rfind("btime ", 0) == 0) boot_time = std::strtoull(line.c_str() + 6, nullptr, 10);
  }
  const long ticks = sysconf(_SC_CLK_TCK);
  const long page = sysconf(_SC_PAGESIZE);
  if (boot_time == 0 || ticks <= 0 || page <= 0) return std::nullopt;
  ProcessFigures p;
  p.start_ns = static_cast<TimeNs>(boot_time) * kNanosPerSecond +
               static_cast<TimeNs>(start_ticks) * kNanosPerSecond / ticks;
  p.cpu_seconds = static_cast<double>(utime + stime) / static_cast<double>(ticks);
  p.resident_bytes = rss_pages * static_cast<uint64_t>(page);
  std::error_code ec;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end; it.increment(ec)) {
    ++p.open_fds;
  }
  return p;
}

// Uptime by the clock, whatever "now" the data latencies are given.
void render_process(PrometheusText& w) {
  const auto p = process_figures();
  const TimeNs now = now_ns();
  if (!p) return;
  w.family("seisvault_process_start_time_seconds", MetricType::kGauge,
           "When the server process started, in seconds since the epoch.");
  w.sample("seisvault_process_start_time_seconds", {}, seconds(p->start_ns));
  w.family("seisvault_uptime_seconds", MetricType::kGauge, "How long the server process has been running.");
  w.sample("seisvault_uptime_seconds", {}, seconds(std::max<TimeNs>(0, now - p->start_ns)));
  w.family("seisvault_process_cpu_seconds_total", MetricType::kCounter,
           "CPU time the server process has used (user and system).");
  w.sample("seisvault_process_cpu_seconds_total", {}, p->cpu_seconds);
  w.family("seisvault_process_resident_memory_bytes", MetricType::kGauge,
           "Resident memory of the server process.");
  w.sample("seisvault_process_resident_memory_bytes", {}, p->resident_bytes);
  w.family("seisvault_process_open_fds", MetricType::kGauge, "File descriptors the server process has open.");
  w.sample("seisvault_process_open_fds", {}, p->open_fds);
}

// ---- ingest -----------------------------------------------------------------

// One family of one sample without labels.
void single(PrometheusText& w, std::string_view name, MetricType type, std::string_view help, uint64_t value) {
  w.family(name, type, help);
  w.sample(name, {}, value);
}
void single(PrometheusText& w, std::string_view name, MetricType type, std::string_view help, double value) {
  w.family(name, type, help);
  w.sample(name, {}, value);
}

// "NET.STA" -> {"NET", "STA"} (station "" when there is no dot).
std::pair<std::string_view, std::string_view> split_station(std::string_view net_sta) {
  const auto dot = net_sta.find('.');
  if (dot == std::string_view::npos) return {net_sta, {}};
  return {net_sta.substr(0, dot), net_sta.substr(dot + 1)};
}

void render_ingest(PrometheusText& w, const ingest::IngestStats& s) {
  constexpr auto C = MetricType::kCounter;
  constexpr auto G = MetricType::kGauge;
  single(w, "seisvault_ingest_batches_total", C,
         "Station batches acknowledged as processed (records stored, duplicate or rejected).",
         load(s.batches));
  single(w, "seisvault_ingest_records_received_total", C, "Records received in station batches.",
         load(s.records_received));
  single(w, "seisvault_ingest_received_bytes_total", C, "miniSEED bytes of the records received.",
         load(s.bytes_received));
  single(w, "seisvault_ingest_records_stored_total", C, "Records stored (new, not duplicates).",
         load(s.records_stored));
  single(w, "seisvault_ingest_stored_bytes_total", C, "miniSEED bytes of the records stored.", load(s.bytes_stored));
  single(w, "seisvault_ingest_records_duplicate_total", C,
         "Records received that were already stored, byte-identical (resends), and so kept once.",
         load(s.records_duplicate));

  w.family("seisvault_ingest_records_rejected_total", C,
           "Records rejected, by reason (the names of the protocol's RejectCode, in lower case).");
  for (int r = 1; r < kRejectReasonCount; ++r) {
    w.sample("seisvault_ingest_records_rejected_total",
             {{"reason", reject_reason_name(static_cast<RejectReason>(r))}}, load(s.rejected_by_reason[r]));
  }

  const auto stations = s.stored_by_station.snapshot();
  w.family("seisvault_ingest_station_records_stored_total", C,
           "Records stored (not duplicates) per station, since the server started.");
  for (const auto& e : stations) {
    const auto [net, sta] = split_station(e.station);
    w.sample("seisvault_ingest_station_records_stored_total", {{"network", net}, {"station", sta}}, e.records);
  }
  w.family("seisvault_ingest_station_stored_bytes_total", C,
           "miniSEED bytes of the records stored per station, since the server started.");
  for (const auto& e : stations) {
    const auto [net, sta] = split_station(e.station);
    w.sample("seisvault_ingest_station_stored_bytes_total", {{"network", net}, {"station", sta}}, e.bytes);
  }

  single(w, "seisvault_ingest_malformed_messages_total", C,
         "Station messages that were not a valid IngestBatch (wrong frames, unparseable, unknown protocol version).",
         load(s.malformed_messages));
  single(w, "seisvault_ingest_connections", G,
         "Station connections open now (connected stations; handshakes in progress included).",
         load(s.connections));
  single(w, "seisvault_ingest_auth_failures_total", C,
         "Station handshakes refused because the key is not in the authorized-stations list.",
         load(s.auth_failures));
  single(w, "seisvault_ingest_connections_refused_total", C,
         "Station connections closed at once: over --max-connections or --max-connections-per-key.",
         load(s.connections_refused));
  single(w, "seisvault_ingest_connections_revoked_total", C,
         "Station connections closed because their key was removed from the authorized-stations list.",
         load(s.connections_revoked));
  single(w, "seisvault_ingest_batches_busy_total", C,
         "Batches answered BUSY (the connection had too many batches in the pipeline or unread acks).",
         load(s.batches_busy));
  single(w, "seisvault_ingest_batches_bad_signature_total", C,
         "Batches answered BAD_SIGNATURE (unsigned, badly signed, or from a key with no signing key registered).",
         load(s.batches_bad_signature));
  single(w, "seisvault_ingest_batches_replayed_total", C,
         "Batches answered REPLAYED_BATCH (a signed batch under an id at or below the highest its key has stored).",
         load(s.batches_replayed));
  single(w, "seisvault_ingest_batches_oversized_total", C,
         "Batches answered OVERSIZED_BATCH (over the records or bytes limit).", load(s.batches_oversized));
  single(w, "seisvault_ingest_batches_deferred_total", C,
         "Batches answered STORE_UNAVAILABLE: nothing stored, the station resends them.",
         load(s.batches_deferred));
  single(w, "seisvault_ingest_store_errors_total", C, "Store writes or WAL fsyncs that failed.",
         load(s.store_errors));
  single(w, "seisvault_ingest_wal_syncs_total", C, "Rounds of the syncer (each with one WAL fsync under group commit).",
         load(s.syncs));
  single(w, "seisvault_ingest_store_writes_total", C, "RocksDB write batches written by the committer.",
         load(s.store_writes));
  single(w, "seisvault_ingest_store_blocks_total", C, "Record blocks (RocksDB entries) written.",
         load(s.store_blocks));
  single(w, "seisvault_ingest_acks_unsent", G,
         "Acks waiting for stations that do not read them (their sockets are full).", load(s.acks_unsent));
  single(w, "seisvault_ingest_batches_in_flight", G,
         "Batches read from stations and not yet acknowledged (the pipeline's cap is max_in_flight_batches).",
         load(s.batches_in_flight));
  w.family("seisvault_ingest_queue_batches", G,
           "Batches waiting between the pipeline's stages: validate (for a validation worker), commit (validated, "
           "for the store writer), sync (written, for the WAL fsync and the ack).");
  w.sample("seisvault_ingest_queue_batches", {{"queue", "validate"}}, load(s.validate_queue_batches));
  w.sample("seisvault_ingest_queue_batches", {{"queue", "commit"}}, load(s.commit_queue_batches));
  w.sample("seisvault_ingest_queue_batches", {{"queue", "sync"}}, load(s.sync_queue_batches));

  w.family("seisvault_ingest_ack_latency_seconds", MetricType::kHistogram,
           "Per batch, from reading it to handing its ack for sending: validation, queueing, store write, fsync.");
  w.histogram("seisvault_ingest_ack_latency_seconds", {}, s.ack_latency.snapshot());
  w.family("seisvault_ingest_store_write_duration_seconds", MetricType::kHistogram,
           "Duration of each store write (several batches; with the WAL fsync under the every-batch sync policy).");
  w.histogram("seisvault_ingest_store_write_duration_seconds", {}, s.store_write_duration.snapshot());
  w.family("seisvault_ingest_wal_sync_duration_seconds", MetricType::kHistogram,
           "Duration of each fsync of the write-ahead log (group commit).");
  w.histogram("seisvault_ingest_wal_sync_duration_seconds", {}, s.wal_sync_duration.snapshot());
}

// ---- the store --------------------------------------------------------------

void render_store_health(PrometheusText& w, const storage::RecordStore& store) {
  const auto h = store.health();
  w.family("seisvault_store_state", MetricType::kGauge,
           "The store's state: 1 for the current one. ok: writes are taken; paused: refused until the cause clears "
           "(low disk space, a write error); failed: a WAL fsync failed, restart needed.");
  for (const auto state : {storage::StoreState::kOk, storage::StoreState::kPaused, storage::StoreState::kFailed}) {
    w.sample("seisvault_store_state", {{"state", storage::store_state_name(state)}},
             uint64_t{h.state == state ? 1u : 0u});
  }
  if (h.since_ns != 0) {
    w.family("seisvault_store_state_change_time_seconds", MetricType::kGauge,
             "When the store's state last changed, in seconds since the epoch.");
    w.sample("seisvault_store_state_change_time_seconds", {}, seconds(h.since_ns));
  }
  if (h.free_bytes != 0) {
    single(w, "seisvault_store_free_bytes", MetricType::kGauge,
           "Free space on the store's file system, as last checked.", h.free_bytes);
  }
}

void render_store_engine(PrometheusText& w, const storage::RecordStore& store) {
  constexpr auto C = MetricType::kCounter;
  constexpr auto G = MetricType::kGauge;
  const auto e = store.engine_stats();
  single(w, "seisvault_store_sst_files_bytes", G,
         "RocksDB table files, all of them (including replaced files still in use).", e.sst_files_bytes);
  single(w, "seisvault_store_live_sst_files_bytes", G, "RocksDB table files of the current version.",
         e.live_sst_files_bytes);
  single(w, "seisvault_store_blob_files_bytes", G, "RocksDB blob files (0 without BlobDB).", e.blob_files_bytes);
  single(w, "seisvault_store_segment_files", G, "Segment files (the records' bytes).", e.segment_files);
  single(w, "seisvault_store_segment_files_bytes", G, "Bytes in segment files (the records' bytes).",
         e.segment_files_bytes);
  single(w, "seisvault_store_live_data_estimate_bytes", G,
         "RocksDB's estimate of the live data (the size once compaction dropped what is obsolete).",
         e.live_data_estimate_bytes);
  single(w, "seisvault_store_memtable_bytes", G, "Memory held by RocksDB's memtables.", e.memtable_bytes);
  single(w, "seisvault_store_pending_compaction_bytes", G,
         "Bytes RocksDB's compaction has yet to rewrite; growing without end means compaction cannot keep up.",
         e.pending_compaction_bytes);
  single(w, "seisvault_store_running_compactions", G, "RocksDB compactions running now.", e.running_compactions);
  single(w, "seisvault_store_running_flushes", G, "RocksDB memtable flushes running now.", e.running_flushes);
  single(w, "seisvault_store_compaction_pending", G, "1 when RocksDB has a compaction to do.",
         uint64_t{e.compaction_pending ? 1u : 0u});
  single(w, "seisvault_store_write_stopped", G, "1 when RocksDB stops writes now (a write stall).",
         uint64_t{e.write_stopped ? 1u : 0u});
  single(w, "seisvault_store_delayed_write_rate_bytes_per_second", G,
         "The rate, in bytes per second, RocksDB slows writes to now (0 when it does not).", e.delayed_write_rate);
  w.family("seisvault_store_write_stall_seconds_total", C,
           "Time writers spent stalled by RocksDB since the store was opened.");
  w.sample("seisvault_store_write_stall_seconds_total", {}, static_cast<double>(e.write_stall_micros) / 1e6);
  single(w, "seisvault_store_write_slowdowns_total", C,
         "Times RocksDB slowed writes down since the store was opened.", e.write_slowdowns);
  single(w, "seisvault_store_write_stops_total", C, "Times RocksDB stopped writes since the store was opened.",
         e.write_stops);
  single(w, "seisvault_store_compactions_total", C,
         "RocksDB flushes and compactions run since the store was opened.", e.compactions);
  w.family("seisvault_store_compaction_seconds_total", C,
           "Time RocksDB's flushes and compactions took since the store was opened.");
  w.sample("seisvault_store_compaction_seconds_total", {}, e.compaction_seconds);
  single(w, "seisvault_store_compaction_written_bytes_total", C,
         "Bytes RocksDB's flushes and compactions wrote since the store was opened.", e.compaction_written_bytes);
}

// "NET.STA.LOC.CHA" -> its four codes. An id of another shape goes whole
// into network, the rest blank.
std::array<std::string_view, 4> source_id_labels(std::string_view id) {
  return storage::split_source_id(id).value_or(std::array<std::string_view, 4>{id, {}, {}, {}});
}

// Returns false when the channel list could not be read.
bool render_channels(PrometheusText& w, std::string& page, const storage::RecordStore& store, TimeNs now,
                     bool per_channel) {
  auto channels = store.list_channels({});
  if (!channels.ok()) spdlog::warn("/metrics: cannot list the channels: {}", channels.status().message());
  const std::vector<storage::ChannelInfo> none;
  const auto& list = channels.ok() ? *channels : none;
  uint64_t records = 0, bytes = 0;
  for (const auto& c : list) {
    records += c.summary.record_count;
    bytes += c.summary.byte_count;
  }
  single(w, "seisvault_store_channels", MetricType::kGauge, "Channels with records in the store.", list.size());
  single(w, "seisvault_store_records", MetricType::kGauge, "Records held by the store.", records);
  single(w, "seisvault_store_record_bytes", MetricType::kGauge, "miniSEED bytes of the records held by the store.",
         bytes);
  if (!per_channel) return channels.ok();

  // Both families in one pass each; about 100 bytes per series.
  size_t ids = 0;
  for (const auto& c : list) ids += c.source_id.size();
  page.reserve(page.size() + 2 * (list.size() * 110 + ids) + 1024);
  w.family("seisvault_channel_data_latency_seconds", MetricType::kGauge,
           "Per channel: now minus the time of the last sample stored (how far behind real time its data is).");
  for (const auto& c : list) {
    const auto id = source_id_labels(c.source_id);
    w.sample("seisvault_channel_data_latency_seconds",
             {{"network", id[0]}, {"station", id[1]}, {"location", id[2]}, {"channel", id[3]}},
             seconds(now - c.summary.last_end_ns));
  }
  w.family("seisvault_channel_last_receive_time_seconds", MetricType::kGauge,
           "Per channel: when its latest record was received, in seconds since the epoch.");
  for (const auto& c : list) {
    if (c.summary.last_receive_ns == kTimeMin) continue;  // not kept by a store that old
    const auto id = source_id_labels(c.source_id);
    w.sample("seisvault_channel_last_receive_time_seconds",
             {{"network", id[0]}, {"station", id[1]}, {"location", id[2]}, {"channel", id[3]}},
             seconds(c.summary.last_receive_ns));
  }
  return channels.ok();
}

void render_hub(PrometheusText& w, const SubscriptionHub& hub) {
  single(w, "seisvault_subscribers", MetricType::kGauge, "Live subscribers (Subscribe RPCs) now.",
         hub.subscriber_count());
  const auto c = hub.counters();
  single(w, "seisvault_subscription_groups_dropped_total", MetricType::kCounter,
         "Groups of new records the subscription hub dropped because it fell behind.", c.groups_dropped);
  single(w, "seisvault_subscription_records_dropped_total", MetricType::kCounter,
         "Records in the groups the subscription hub dropped.", c.records_dropped);
}

void render_seedlink(PrometheusText& w, const SeedLinkServer& seedlink) {
  const auto c = seedlink.counters();
  single(w, "seisvault_seedlink_connections", MetricType::kGauge, "SeedLink connections open now.",
         c.connections_open);
  single(w, "seisvault_seedlink_feeding", MetricType::kGauge, "SeedLink connections being fed now.", c.feeding);
  single(w, "seisvault_seedlink_connections_accepted_total", MetricType::kCounter, "SeedLink connections accepted.",
         c.connections_accepted);
  single(w, "seisvault_seedlink_connections_refused_total", MetricType::kCounter,
         "SeedLink connections refused (allow-list or connection limits).", c.connections_refused);
  single(w, "seisvault_seedlink_sent_bytes_total", MetricType::kCounter, "Bytes written to SeedLink clients.",
         c.bytes_sent);
  single(w, "seisvault_seedlink_live_fallbacks_total", MetricType::kCounter,
         "Times a live SeedLink client fell behind and continued from the store.", c.live_fallbacks);
  single(w, "seisvault_seedlink_backfill_records_total", MetricType::kCounter,
         "Records SeedLink clients were sent from the store (resumes, time starts, slow clients).",
         c.backfill_records);
  single(w, "seisvault_seedlink_groups_dropped_total", MetricType::kCounter,
         "Groups of new records the SeedLink feed could not take (its clients then read them from the store).",
         c.groups_dropped);
}

}  // namespace

void render_retention(PrometheusText& w, const RetentionRunner& retention) {
  constexpr auto C = MetricType::kCounter;
  constexpr auto G = MetricType::kGauge;
  const auto f = retention.figures();
  single(w, "seisvault_retention_passes_total", C, "Retention passes run since start.", f.passes);
  single(w, "seisvault_retention_failed_passes_total", C, "Retention passes that failed (see the log).",
         f.failed_passes);
  single(w, "seisvault_retention_records_removed_total", C, "Records retention removed since start.", f.records);
  single(w, "seisvault_retention_bytes_removed_total", C, "Bytes of records retention removed since start.", f.bytes);
  single(w, "seisvault_retention_segment_files_removed_total", C, "Segment files retention deleted since start.",
         f.segment_files);
  single(w, "seisvault_retention_segment_bytes_freed_total", C, "Bytes of the segment files retention deleted.",
         f.segment_bytes);
  single(w, "seisvault_retention_last_pass_seconds", G, "How long the last retention pass took.",
         f.last_pass_seconds);
  single(w, "seisvault_retention_last_longest_hold_seconds", G,
         "The longest time writes waited for the last retention pass.", f.last_longest_hold_ms / 1000);
}

std::string render_metrics(const MetricsSources& s) {
  const TimeNs now = s.now_ns != 0 ? s.now_ns : now_ns();
  std::string page;
  page.reserve(size_t{64} << 10);
  PrometheusText w(page);
  bool complete = true;
  render_process(w);
  if (s.ingest) render_ingest(w, *s.ingest);
  if (s.store) {
    render_store_health(w, *s.store);
    render_store_engine(w, *s.store);
    complete = render_channels(w, page, *s.store, now, s.per_channel) && complete;
  }
  if (s.hub) render_hub(w, *s.hub);
  if (s.seedlink) render_seedlink(w, *s.seedlink);
  if (s.retention) render_retention(w, *s.retention);
  if (s.api) s.api->render(w);
  single(w, "seisvault_metrics_incomplete", MetricType::kGauge,
         "1 when a source of this page could not be read (see the server's log); its families lack samples.",
         uint64_t{complete ? 0u : 1u});
  return page;
}

}  // namespace seisvault::server
