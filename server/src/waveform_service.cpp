#include "waveform_service.h"

#include <filesystem>
#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "seisvault/ingest/record_validator.h"
#include "seisvault/storage/store_verifier.h"
#include "api_exposure.h"
#include "segment_builder.h"

namespace seisvault::server {

namespace v1 = waveform::v1;
using storage::ChannelSelection;
using storage::TimeWindow;

namespace {

constexpr size_t kRecordBatchBytes = 1 << 20;      // per GetRecords message
constexpr size_t kMaxSegmentSamples = 256 * 1024;  // per GetSamples message (1 MiB of int32)

grpc::Status invalid(std::string message) { return {grpc::StatusCode::INVALID_ARGUMENT, std::move(message)}; }

grpc::Status from_status(const Status& s) {
  if (s.ok()) return grpc::Status::OK;
  switch (s.code()) {
    case StatusCode::kInvalidArgument: return invalid(s.message());
    case StatusCode::kUnauthenticated: return {grpc::StatusCode::UNAUTHENTICATED, s.message()};
    case StatusCode::kResourceExhausted: return {grpc::StatusCode::RESOURCE_EXHAUSTED, s.message()};
    case StatusCode::kNotFound: return {grpc::StatusCode::NOT_FOUND, s.message()};
    case StatusCode::kUnavailable: return {grpc::StatusCode::UNAVAILABLE, s.message()};
    case StatusCode::kCancelled: return {grpc::StatusCode::CANCELLED, s.message()};
    case StatusCode::kCorruption: return {grpc::StatusCode::DATA_LOSS, s.message()};
    default: return {grpc::StatusCode::INTERNAL, s.message()};
  }
}

Result<ChannelSelection> parse_selection(const QueryService& q, const v1::Selection& sel) {
  const std::vector<std::string> patterns(sel.patterns().begin(), sel.patterns().end());
  return q.selection(patterns);
}

Result<TimeWindow> parse_window(const v1::TimeWindow& w) {
  return QueryService::window(w.has_start_ns() ? std::optional<TimeNs>(w.start_ns()) : std::nullopt,
                              w.has_end_ns() ? std::optional<TimeNs>(w.end_ns()) : std::nullopt);
}

void fill_record(v1::Record& out, const storage::StoredRecord& r) {
  out.set_source_id(std::string(r.source_id));
  out.set_start_ns(r.start_ns);
  out.set_end_ns(r.end_ns);
  out.set_receive_ns(r.receive_ns);
  out.set_sha256(r.sha256, 32);
  out.set_mseed(r.bytes.data(), r.bytes.size());
  out.set_ledger_entry(r.ledger_entry);
  out.set_batch_position(r.batch_position);
}

}  // namespace

WaveformService::WaveformService(const ApiOptions& options, const QueryService& query,
                                 const ingest::IngestStats* stats, SubscriptionHub& hub,
                                 const ingest::AccessControl* access, ApiMetrics* metrics,
                                 StationMetadata* station_metadata)
    : options_(options),
      query_(query),
      stats_(stats),
      access_(access),
      hub_(hub),
      metrics_(metrics),
      station_metadata_(station_metadata) {}

template <class Call>
grpc::Status WaveformService::observed(std::string_view method, Call&& call) {
  const auto started = std::chrono::steady_clock::now();
  grpc::Status status = call();
  if (metrics_) {
    metrics_->observe("grpc", method, static_cast<int>(status.error_code()),
                      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
  return status;
}

grpc::Status WaveformService::authorize(grpc::ServerContext* context) const {
  const auto& md = context->client_metadata();
  const auto it = md.find("authorization");
  std::optional<std::string_view> header;
  if (it != md.end()) header = std::string_view(it->second.data(), it->second.size());
  return from_status(query_.authorize(header));
}

grpc::Status WaveformService::prepare(grpc::ServerContext* context, const v1::Selection& selection,
                                      const v1::TimeWindow& w, ChannelSelection& sel, TimeWindow& window) const {
  if (auto a = authorize(context); !a.ok()) return a;
  auto parsed = parse_selection(query_, selection);
  if (!parsed.ok()) return invalid(parsed.status().message());
  auto win = parse_window(w);
  if (!win.ok()) return invalid(win.status().message());
  sel = std::move(parsed.value());
  window = *win;
  return from_status(query_.check_window(sel, window));
}

grpc::Status WaveformService::list_channels(grpc::ServerContext* context, const v1::ListChannelsRequest* request,
                                           v1::ListChannelsResponse* response) {
  if (auto a = authorize(context); !a.ok()) return a;
  auto sel = parse_selection(query_, request->selection());
  if (!sel.ok()) return invalid(sel.status().message());
  auto channels = query_.list_channels(*sel);
  if (!channels.ok()) return from_status(channels.status());
  response->mutable_channels()->Reserve(static_cast<int>(channels->size()));
  for (const auto& c : *channels) {
    auto* out = response->add_channels();
    out->set_source_id(c.source_id);
    out->set_first_start_ns(c.summary.first_start_ns);
    out->set_last_end_ns(c.summary.last_end_ns);
    out->set_sample_rate(c.summary.sample_rate);
    out->set_record_count(c.summary.record_count);
    out->set_byte_count(c.summary.byte_count);
    out->set_last_receive_ns(c.summary.last_receive_ns);
  }
  return grpc::Status::OK;
}

grpc::Status WaveformService::get_records(grpc::ServerContext* context, const v1::GetRecordsRequest* request,
                                         grpc::ServerWriter<v1::RecordBatch>* writer) {
  ChannelSelection sel;
  TimeWindow window;
  if (auto st = prepare(context, request->selection(), request->window(), sel, window); !st.ok()) return st;

  v1::RecordBatch batch;
  size_t bytes = 0;
  bool gone = false;
  auto st = query_.read_records({sel, window}, [&](const storage::StoredRecord& r) {
    fill_record(*batch.add_records(), r);
    bytes += r.bytes.size() + 64;
    if (bytes >= kRecordBatchBytes) {
      if (context->IsCancelled() || !writer->Write(batch)) {
        gone = true;
        return false;
      }
      batch.Clear();
      bytes = 0;
    }
    return true;
  });
  if (gone) return {grpc::StatusCode::CANCELLED, "the client went away"};
  if (!st.ok()) return from_status(st);
  if (batch.records_size() > 0) writer->Write(batch);
  return grpc::Status::OK;
}

grpc::Status WaveformService::get_samples(grpc::ServerContext* context, const v1::GetSamplesRequest* request,
                                         grpc::ServerWriter<v1::Segment>* writer) {
  ChannelSelection sel;
  TimeWindow window;
  if (auto st = prepare(context, request->selection(), request->window(), sel, window); !st.ok()) return st;

  SegmentBuilder builder(window, kMaxSegmentSamples,
                         [&](v1::Segment& s) { return !context->IsCancelled() && writer->Write(s); });
  Status problem;
  auto st = query_.read_records({sel, window}, [&](const storage::StoredRecord& r) {
    problem = builder.add(r.source_id, r.bytes);
    return problem.ok();
  });
  if (!st.ok()) return from_status(st);
  if (!problem.ok()) return from_status(problem);
  if (!builder.finish()) return {grpc::StatusCode::CANCELLED, "the client went away"};
  return grpc::Status::OK;
}

grpc::Status WaveformService::get_availability(grpc::ServerContext* context,
                                              const v1::GetAvailabilityRequest* request,
                                              v1::GetAvailabilityResponse* response) {
  ChannelSelection sel;
  TimeWindow window;
  if (auto st = prepare(context, request->selection(), request->window(), sel, window); !st.ok()) return st;
  std::optional<TimeNs> tolerance;
  if (request->has_tolerance_ns()) {
    if (request->tolerance_ns() < 0) return invalid("tolerance_ns must not be negative");
    tolerance = request->tolerance_ns();
  }
  auto avail = query_.availability({sel, window}, tolerance);
  if (!avail.ok()) return from_status(avail.status());
  for (const auto& a : *avail) {
    auto* c = response->add_channels();
    c->set_source_id(a.source_id);
    for (size_t i = 0; i < a.spans.size(); ++i) {
      auto* s = c->add_spans();
      s->set_start_ns(a.spans[i].start_ns);
      s->set_end_ns(a.spans[i].end_ns);
      s->set_sample_rate(a.spans[i].sample_rate);
      if (i > 0) {
        auto* g = c->add_gaps();
        g->set_start_ns(a.spans[i - 1].end_ns);
        g->set_end_ns(a.spans[i].start_ns);
        g->set_overlap(a.spans[i].start_ns <= a.spans[i - 1].end_ns);
      }
    }
  }
  return grpc::Status::OK;
}

grpc::Status WaveformService::subscribe(grpc::ServerContext* context, const v1::SubscribeRequest* request,
                                        grpc::ServerWriter<v1::SubscribeEvent>* writer) {
  if (auto a = authorize(context); !a.ok()) return a;
  auto sel = parse_selection(query_, request->selection());
  if (!sel.ok()) return invalid(sel.status().message());
  if (request->has_since_ns()) {
    // The backlog is a window with an open end: held to the same limit.
    const auto what = fmt::format("the backlog from since_ns ({})", format_iso8601(request->since_ns()));
    if (auto st = query_.check_window(*sel, TimeWindow{request->since_ns(), kTimeMax}, what, "give a later since_ns");
        !st.ok()) {
      return from_status(st);
    }
  }
  // Register first, so nothing committed from now on is missed; records that
  // also land in the backlog are sent once (by SHA-256).
  auto sub = hub_.subscribe(*sel, options_.subscriber_queue);
  struct Unsubscribe {
    SubscriptionHub& hub;
    std::shared_ptr<Subscription>& s;
    ~Unsubscribe() { hub.unsubscribe(s); }
  } unsubscribe{hub_, sub};
  const TimeNs registered = now_ns();

  std::set<std::string> recent_backlog;  // SHA-256 of backlog records that may also come live
  v1::SubscribeEvent event;
  if (request->has_since_ns()) {
    bool gone = false;
    auto st = query_.read_records({*sel, TimeWindow{request->since_ns(), kTimeMax}}, [&](const storage::StoredRecord& r) {
      if (r.start_ns < request->since_ns()) return true;  // overlaps the start: not "from since"
      if (r.receive_ns >= registered - 60 * kNanosPerSecond) {
        recent_backlog.emplace(reinterpret_cast<const char*>(r.sha256), 32);
      }
      fill_record(*event.mutable_record(), r);
      if (context->IsCancelled() || !writer->Write(event)) {
        gone = true;
        return false;
      }
      return true;
    });
    if (gone) return grpc::Status::OK;
    if (!st.ok()) return from_status(st);
  }

  std::vector<std::shared_ptr<const LiveRecord>> live;
  while (!context->IsCancelled() && !shutting_down_.load()) {
    live.clear();
    const uint64_t skipped = sub->pop(live, std::chrono::milliseconds(200));
    if (skipped > 0) {
      event.mutable_skipped()->set_records(skipped);
      if (!writer->Write(event)) return grpc::Status::OK;
    }
    v1::RecordBatch* batch = request->batched() ? event.mutable_records() : nullptr;
    if (batch) batch->Clear();
    size_t batch_bytes = 0;
    for (const auto& r : live) {
      if (!recent_backlog.empty() &&
          recent_backlog.count(std::string(reinterpret_cast<const char*>(r->sha256.data()), 32))) {
        continue;
      }
      auto* rec = batch ? batch->add_records() : event.mutable_record();
      rec->set_source_id(r->source_id);
      rec->set_start_ns(r->start_ns);
      rec->set_end_ns(r->end_ns);
      rec->set_receive_ns(r->receive_ns);
      rec->set_sha256(r->sha256.data(), r->sha256.size());
      rec->set_mseed(r->bytes);
      rec->set_commit_ns(r->published_ns);
      if (batch) {
        batch_bytes += r->bytes.size() + 128;
        if (batch_bytes < kRecordBatchBytes) continue;
        batch_bytes = 0;
      }
      if (!writer->Write(event)) return grpc::Status::OK;
      if (batch) batch->Clear();
    }
    if (batch && batch->records_size() > 0 && !writer->Write(event)) return grpc::Status::OK;
  }
  return grpc::Status::OK;
}

void WaveformService::sample_rates() {
  if (!stats_) return;
  std::lock_guard lock(rate_mutex_);
  rate_samples_.push_back({std::chrono::steady_clock::now(), stats_->records_stored.load(), stats_->bytes_stored.load()});
  while (rate_samples_.size() > 11) rate_samples_.pop_front();
}

grpc::Status WaveformService::get_stats(grpc::ServerContext* context, const v1::GetStatsRequest*,
                                       v1::Stats* response) {
  if (auto a = authorize(context); !a.ok()) return a;
  auto channels = query_.list_channels(ChannelSelection());
  if (!channels.ok()) return from_status(channels.status());
  uint64_t records = 0, bytes = 0;
  for (const auto& c : *channels) {
    records += c.summary.record_count;
    bytes += c.summary.byte_count;
  }
  response->set_records_stored(records);
  response->set_bytes_stored(bytes);
  response->set_channels(channels->size());
  response->set_uptime_seconds(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count());
  response->set_subscribers(hub_.subscriber_count());
  if (access_) {
    for (const auto& p : access_->problems()) response->add_access_list_problems(p);
  }
  const auto health = query_.store().health();
  response->set_store_state(std::string(storage::store_state_name(health.state)));
  response->set_store_message(health.message);
  response->set_store_state_since_ns(health.since_ns);
  response->set_store_free_bytes(health.free_bytes);
  if (stats_) {
    response->set_records_ingested(stats_->records_stored.load());
    response->set_records_duplicate(stats_->records_duplicate.load());
    response->set_records_rejected(stats_->records_rejected.load());
    response->set_connected_stations(stats_->connections.load());
    response->set_connections_refused(stats_->connections_refused.load());
    response->set_batches_busy(stats_->batches_busy.load());
    response->set_batches_deferred(stats_->batches_deferred.load());
    response->set_acks_unsent(stats_->acks_unsent.load());
    for (int r = 1; r < kRejectReasonCount; ++r) {
      const uint64_t n = stats_->rejected_by_reason[r].load();
      if (n == 0) continue;
      auto* rc = response->add_rejections();
      rc->set_reason(std::string(reject_reason_name(static_cast<RejectReason>(r))));
      rc->set_count(n);
    }
    std::lock_guard lock(rate_mutex_);
    if (rate_samples_.size() >= 2) {
      const auto& a = rate_samples_.front();
      const auto& b = rate_samples_.back();
      const double dt = std::chrono::duration<double>(b.at - a.at).count();
      if (dt > 0) {
        response->set_ingest_records_per_second(static_cast<double>(b.records - a.records) / dt);
        response->set_ingest_bytes_per_second(static_cast<double>(b.bytes - a.bytes) / dt);
      }
    }
  }
  return grpc::Status::OK;
}

grpc::Status WaveformService::verify(grpc::ServerContext* context, const v1::VerifyRequest* request,
                                     grpc::ServerWriter<v1::VerifyReport>* writer) {
  ChannelSelection sel;
  TimeWindow window;
  if (auto st = prepare(context, request->selection(), request->window(), sel, window); !st.ok()) return st;

  // The records were valid on arrival; re-validation must not fail them for
  // being "in the future" relative to an old clock, so the margin is open.
  ingest::RecordValidator validator(ingest::ValidatorOptions{.future_margin_ns = kTimeMax / 4});
  uint64_t checked = 0, problems = 0;
  bool gone = false;
  v1::VerifyReport report;
  // Each record against its ledger entry (docs/provenance.md), as
  // `seisvault verify` checks it.
  const uint64_t ledger_since = query_.store().ledger_since_sequence();
  storage::LedgerEntryCache entries(query_.store());
  auto st = query_.read_records({sel, window}, [&](const storage::StoredRecord& r) {
    ++checked;
    std::string problem;
    const auto digest = sha256(r.bytes);
    if (std::memcmp(digest.data(), r.sha256, 32) != 0) {
      problem = fmt::format("SHA-256 of the stored bytes is {}, but {} was recorded on arrival", to_hex(digest),
                            to_hex({r.sha256, 32}));
    } else if (auto v = validator.validate(r.bytes, now_ns()); !v.ok()) {
      problem = fmt::format("no longer a valid record ({}): {}", reject_reason_name(v.reason), v.message);
    } else if (v.record.source_id() != r.source_id || v.record.start_ns != r.start_ns) {
      problem = fmt::format("the record's header says {} at {}, the index says {} at {}", v.record.source_id(),
                            format_iso8601(v.record.start_ns), r.source_id, format_iso8601(r.start_ns));
    } else if (auto findings = storage::check_record_ledger(r, digest, ledger_since, entries); !findings.empty()) {
      problem = std::move(findings.front().what);
    }
    if (!problem.empty()) {
      ++problems;
      auto* p = report.mutable_problem();
      p->set_source_id(std::string(r.source_id));
      p->set_start_ns(r.start_ns);
      p->set_problem(problem);
      if (!writer->Write(report)) {
        gone = true;
        return false;
      }
    }
    if ((checked & 1023) == 0 && context->IsCancelled()) {
      gone = true;
      return false;
    }
    return true;
  });
  if (gone) return {grpc::StatusCode::CANCELLED, "the client went away"};
  if (!st.ok()) return from_status(st);
  auto* summary = report.mutable_summary();
  summary->set_records_checked(checked);
  summary->set_problems(problems);
  writer->Write(report);
  return grpc::Status::OK;
}

grpc::Status WaveformService::authorize_change(grpc::ServerContext* context) const {
  if (auto a = authorize(context); !a.ok()) return a;
  if (!station_metadata_) return {grpc::StatusCode::UNIMPLEMENTED, "this server keeps no station metadata"};
  if (!query_.token_required() && !is_loopback_api_address(options_.address)) {
    return {grpc::StatusCode::PERMISSION_DENIED,
            "changing station metadata through the API needs a token (seisvaultd --api-token-file) or an API "
            "on loopback: --api-allow-insecure opens reading to the network, not writing"};
  }
  return grpc::Status::OK;
}

namespace {

void fill_document(v1::InventoryDocumentInfo& out, const StationMetadata::DocumentInfo& d) {
  out.set_name(d.name);
  out.set_loaded_ns(d.loaded_ns);
  out.set_bytes(d.bytes);
  out.set_networks(static_cast<uint32_t>(d.networks));
  out.set_stations(static_cast<uint32_t>(d.stations));
  out.set_channels(static_cast<uint32_t>(d.channels));
  out.set_replaced(d.replaced);
}

}  // namespace

grpc::Status WaveformService::put_inventory(grpc::ServerContext* context, const v1::PutInventoryRequest* request,
                                            v1::InventoryDocumentInfo* response) {
  if (auto a = authorize_change(context); !a.ok()) return a;
  if (request->stationxml().size() > kMaxApiInventoryBytes) {
    return invalid(fmt::format("the document has {} bytes, more than the {} MiB the API takes: load it with "
                               "seisvault inventory load --data-dir while the server is stopped",
                               request->stationxml().size(), kMaxApiInventoryBytes >> 20));
  }
  auto info = station_metadata_->put(request->name(), request->stationxml());
  if (!info.ok()) return from_status(info.status());
  fill_document(*response, *info);
  return grpc::Status::OK;
}

grpc::Status WaveformService::list_inventory(grpc::ServerContext* context, const v1::ListInventoryRequest*,
                                             v1::ListInventoryResponse* response) {
  if (auto a = authorize(context); !a.ok()) return a;
  if (!station_metadata_) return grpc::Status::OK;
  auto docs = station_metadata_->list();
  if (!docs.ok()) return from_status(docs.status());
  for (const auto& d : *docs) fill_document(*response->add_documents(), d);
  return grpc::Status::OK;
}

grpc::Status WaveformService::remove_inventory(grpc::ServerContext* context, const v1::RemoveInventoryRequest* request,
                                               v1::RemoveInventoryResponse*) {
  if (auto a = authorize_change(context); !a.ok()) return a;
  return from_status(station_metadata_->remove(request->name()));
}

grpc::Status WaveformService::ListChannels(grpc::ServerContext* context, const v1::ListChannelsRequest* request, v1::ListChannelsResponse* response) {
  return observed("ListChannels", [&] { return list_channels(context, request, response); });
}

grpc::Status WaveformService::GetRecords(grpc::ServerContext* context, const v1::GetRecordsRequest* request, grpc::ServerWriter<v1::RecordBatch>* writer) {
  return observed("GetRecords", [&] { return get_records(context, request, writer); });
}

grpc::Status WaveformService::GetSamples(grpc::ServerContext* context, const v1::GetSamplesRequest* request, grpc::ServerWriter<v1::Segment>* writer) {
  return observed("GetSamples", [&] { return get_samples(context, request, writer); });
}

grpc::Status WaveformService::GetAvailability(grpc::ServerContext* context, const v1::GetAvailabilityRequest* request, v1::GetAvailabilityResponse* response) {
  return observed("GetAvailability", [&] { return get_availability(context, request, response); });
}

grpc::Status WaveformService::Subscribe(grpc::ServerContext* context, const v1::SubscribeRequest* request, grpc::ServerWriter<v1::SubscribeEvent>* writer) {
  return observed("Subscribe", [&] { return subscribe(context, request, writer); });
}

grpc::Status WaveformService::GetStats(grpc::ServerContext* context, const v1::GetStatsRequest* request, v1::Stats* response) {
  return observed("GetStats", [&] { return get_stats(context, request, response); });
}

grpc::Status WaveformService::Verify(grpc::ServerContext* context, const v1::VerifyRequest* request, grpc::ServerWriter<v1::VerifyReport>* writer) {
  return observed("Verify", [&] { return verify(context, request, writer); });
}

namespace {

// Whether a gRPC peer ("ipv4:127.0.0.1:5000", "ipv6:[::1]:5000",
// "unix:...") is on this machine: the loopback rule of listening addresses,
// once gRPC's "ipv4:"/"ipv6:" prefix is off.
bool is_local_peer(std::string_view peer) {
  for (std::string_view family : {"ipv4:", "ipv6:"}) {
    if (peer.starts_with(family)) return is_loopback_api_address(peer.substr(family.size()));
  }
  return is_loopback_api_address(peer);
}

}  // namespace

grpc::Status WaveformService::backup(grpc::ServerContext* context, const v1::BackupRequest* request,
                                     v1::BackupResponse* response) {
  if (auto a = authorize(context); !a.ok()) return a;
  if (!query_.token_required() && !is_loopback_api_address(options_.address)) {
    return {grpc::StatusCode::PERMISSION_DENIED,
            "a backup through the API needs a token (seisvaultd --api-token-file) or an API on loopback"};
  }
  if (!is_local_peer(context->peer())) {
    return {grpc::StatusCode::PERMISSION_DENIED,
            fmt::format("a backup is written on the server's machine: ask from that machine (loopback or a unix: "
                        "socket), not from {}",
                        context->peer())};
  }
  const std::filesystem::path dest(request->destination());
  if (dest.empty() || !dest.is_absolute()) {
    return invalid(fmt::format("the backup destination must be an absolute path on the server's machine, not '{}'",
                               request->destination()));
  }
  const auto started = std::chrono::steady_clock::now();
  auto stats = query_.store().backup(dest);
  if (!stats.ok()) return from_status(stats.status());
  response->set_destination(dest.string());
  response->set_segment_files(stats->segment_files);
  response->set_segment_bytes(stats->segment_bytes);
  response->set_linked_segment_files(stats->linked_segment_files);
  response->set_seconds(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  spdlog::info("backup written to {} ({} segment files, {} MiB, {} linked)", dest.string(), stats->segment_files,
               stats->segment_bytes >> 20, stats->linked_segment_files);
  return grpc::Status::OK;
}

grpc::Status WaveformService::Backup(grpc::ServerContext* context, const v1::BackupRequest* request,
                                     v1::BackupResponse* response) {
  return observed("Backup", [&] { return backup(context, request, response); });
}

grpc::Status WaveformService::get_ledger(grpc::ServerContext* context, const v1::GetLedgerRequest* request,
                                         grpc::ServerWriter<v1::LedgerEntries>* writer) {
  if (auto a = authorize(context); !a.ok()) return a;
  const uint64_t head = query_.store().ledger_head().count;
  const uint64_t first = std::max<uint64_t>(1, request->first());
  const uint64_t last = request->last() == 0 ? head : request->last();
  if (last < first && request->last() != 0) {
    return invalid(fmt::format("the ledger range {}..{} ends before it starts", first, last));
  }
  constexpr size_t kMessageBytes = 1 << 20;
  v1::LedgerEntries out;
  out.set_head_count(head);
  size_t bytes = 0;
  bool cancelled = false, sent = false;
  auto st = query_.store().read_ledger(first, [&](uint64_t number, std::string_view entry) {
    if (number > last) return false;
    // The kind is the entry's second byte (ledger_entry.h).
    if (request->key_events_only() && (entry.size() < 2 || static_cast<uint8_t>(entry[1]) != kLedgerKindKeyEvent)) {
      return !context->IsCancelled();
    }
    auto* e = out.add_entries();
    e->set_number(number);
    e->set_entry(entry.data(), entry.size());
    bytes += entry.size();
    if (bytes >= kMessageBytes) {
      if (context->IsCancelled() || !writer->Write(out)) {
        cancelled = true;
        return false;
      }
      out.clear_entries();
      bytes = 0;
      sent = true;
    }
    return true;
  });
  if (!st.ok()) return from_status(st);
  if (cancelled) return {grpc::StatusCode::CANCELLED, "the client went away"};
  if (out.entries_size() > 0 || !sent) writer->Write(out);  // at least one message: the head count
  return grpc::Status::OK;
}

grpc::Status WaveformService::GetLedger(grpc::ServerContext* context, const v1::GetLedgerRequest* request,
                                        grpc::ServerWriter<v1::LedgerEntries>* writer) {
  return observed("GetLedger", [&] { return get_ledger(context, request, writer); });
}

grpc::Status WaveformService::get_checkpoints(grpc::ServerContext* context, const v1::GetCheckpointsRequest* request,
                                              grpc::ServerWriter<v1::Checkpoint>* writer) {
  if (auto a = authorize(context); !a.ok()) return a;
  bool cancelled = false;
  auto st = query_.store().read_checkpoints([&](uint64_t count, std::string_view bytes) {
    if (count < request->min_count()) return true;
    v1::Checkpoint c;
    c.set_count(count);
    c.set_checkpoint(bytes.data(), bytes.size());
    if (context->IsCancelled() || !writer->Write(c)) {
      cancelled = true;
      return false;
    }
    return true;
  });
  if (!st.ok()) return from_status(st);
  if (cancelled) return {grpc::StatusCode::CANCELLED, "the client went away"};
  return grpc::Status::OK;
}

grpc::Status WaveformService::GetCheckpoints(grpc::ServerContext* context, const v1::GetCheckpointsRequest* request,
                                             grpc::ServerWriter<v1::Checkpoint>* writer) {
  return observed("GetCheckpoints", [&] { return get_checkpoints(context, request, writer); });
}

grpc::Status WaveformService::PutInventory(grpc::ServerContext* context, const v1::PutInventoryRequest* request,
                                           v1::InventoryDocumentInfo* response) {
  return observed("PutInventory", [&] { return put_inventory(context, request, response); });
}

grpc::Status WaveformService::ListInventory(grpc::ServerContext* context, const v1::ListInventoryRequest* request,
                                            v1::ListInventoryResponse* response) {
  return observed("ListInventory", [&] { return list_inventory(context, request, response); });
}

grpc::Status WaveformService::RemoveInventory(grpc::ServerContext* context, const v1::RemoveInventoryRequest* request,
                                              v1::RemoveInventoryResponse* response) {
  return observed("RemoveInventory", [&] { return remove_inventory(context, request, response); });
}

}  // namespace seisvault::server
