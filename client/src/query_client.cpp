#include "seisvault/client/query_client.h"

#include <utility>

namespace seisvault::client {

namespace v1 = waveform::v1;

namespace {

void fill_selection(v1::Selection* out, const std::vector<std::string>& patterns) {
  for (const auto& p : patterns) out->add_patterns(p);
}

void fill_window(v1::TimeWindow* out, const QueryScope& scope) {
  if (scope.start_ns) out->set_start_ns(*scope.start_ns);
  if (scope.end_ns) out->set_end_ns(*scope.end_ns);
}

// Reads a server stream to its end, handing each message to `on_message`.
// When the callback declines one, the call is cancelled and that is not an
// error: the caller asked for it.
template <class Message>
grpc::Status drain(grpc::ClientContext& context, grpc::ClientReader<Message>& reader,
                   const std::function<bool(const Message&)>& on_message) {
  Message message;
  while (reader.Read(&message)) {
    if (!on_message(message)) {
      context.TryCancel();
      while (reader.Read(&message)) {
      }
      reader.Finish();
      return grpc::Status::OK;
    }
  }
  return reader.Finish();
}

std::shared_ptr<grpc::ChannelCredentials> credentials(const QueryClientOptions& options) {
  if (!options.tls) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = options.tls_ca_pem;
  return grpc::SslCredentials(ssl);
}

}  // namespace

std::string_view grpc_code_name(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::UNKNOWN: return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED: return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
    default: return "UNKNOWN";
  }
}

QueryClient::QueryClient(QueryClientOptions options) : options_(std::move(options)) {
  grpc::ChannelArguments args;
  // Records and segments come in messages of about 1 MiB; leave room for
  // any server configuration rather than gRPC's default 4 MiB limit.
  args.SetMaxReceiveMessageSize(64 * 1024 * 1024);
  stub_ = v1::Waveforms::NewStub(grpc::CreateCustomChannel(options_.target, credentials(options_), args));
}

std::unique_ptr<grpc::ClientContext> QueryClient::context(std::chrono::milliseconds timeout) const {
  auto c = std::make_unique<grpc::ClientContext>();
  if (!options_.token.empty()) c->AddMetadata("authorization", "Bearer " + options_.token);
  if (timeout.count() > 0) c->set_deadline(std::chrono::system_clock::now() + timeout);
  return c;
}

grpc::Status QueryClient::list_channels(const QueryScope& scope, std::vector<v1::Channel>* channels) const {
  v1::ListChannelsRequest request;
  fill_selection(request.mutable_selection(), scope.patterns);
  v1::ListChannelsResponse response;
  auto ctx = context(options_.unary_timeout);
  auto status = stub_->ListChannels(ctx.get(), request, &response);
  channels->clear();
  if (!status.ok()) return status;
  channels->reserve(static_cast<size_t>(response.channels_size()));
  for (auto& c : *response.mutable_channels()) channels->push_back(std::move(c));
  return status;
}

grpc::Status QueryClient::get_records(const QueryScope& scope,
                                      const std::function<bool(const v1::Record&)>& on_record) const {
  v1::GetRecordsRequest request;
  fill_selection(request.mutable_selection(), scope.patterns);
  fill_window(request.mutable_window(), scope);
  auto ctx = context(options_.stream_timeout);
  auto reader = stub_->GetRecords(ctx.get(), request);
  return drain<v1::RecordBatch>(*ctx, *reader, [&](const v1::RecordBatch& batch) {
    for (const auto& r : batch.records()) {
      if (!on_record(r)) return false;
    }
    return true;
  });
}

grpc::Status QueryClient::get_samples(const QueryScope& scope,
                                      const std::function<bool(const v1::Segment&)>& on_segment) const {
  v1::GetSamplesRequest request;
  fill_selection(request.mutable_selection(), scope.patterns);
  fill_window(request.mutable_window(), scope);
  auto ctx = context(options_.stream_timeout);
  auto reader = stub_->GetSamples(ctx.get(), request);
  return drain<v1::Segment>(*ctx, *reader, on_segment);
}

grpc::Status QueryClient::get_availability(const QueryScope& scope, std::optional<TimeNs> tolerance_ns,
                                           v1::GetAvailabilityResponse* response) const {
  v1::GetAvailabilityRequest request;
  fill_selection(request.mutable_selection(), scope.patterns);
  fill_window(request.mutable_window(), scope);
  if (tolerance_ns) request.set_tolerance_ns(*tolerance_ns);
  auto ctx = context(options_.unary_timeout);
  return stub_->GetAvailability(ctx.get(), request, response);
}

grpc::Status QueryClient::subscribe(const std::vector<std::string>& patterns, std::optional<TimeNs> since_ns,
                                    const std::function<bool(const v1::SubscribeEvent&)>& on_event,
                                    std::stop_token stop) const {
  v1::SubscribeRequest request;
  fill_selection(request.mutable_selection(), patterns);
  if (since_ns) request.set_since_ns(*since_ns);
  auto ctx = context(std::chrono::milliseconds(0));
  // TryCancel is thread-safe; called before the call starts, it cancels the
  // call as soon as it starts.
  std::stop_callback cancel(stop, [&ctx] { ctx->TryCancel(); });
  auto reader = stub_->Subscribe(ctx.get(), request);
  auto status = drain<v1::SubscribeEvent>(*ctx, *reader, on_event);
  if (stop.stop_requested() && status.error_code() == grpc::StatusCode::CANCELLED) return grpc::Status::OK;
  return status;
}

grpc::Status QueryClient::get_stats(v1::Stats* stats) const {
  auto ctx = context(options_.unary_timeout);
  return stub_->GetStats(ctx.get(), v1::GetStatsRequest(), stats);
}

grpc::Status QueryClient::put_inventory(const std::string& name, const std::string& stationxml,
                                        v1::InventoryDocumentInfo* info) const {
  v1::PutInventoryRequest request;
  request.set_name(name);
  request.set_stationxml(stationxml);
  auto ctx = context(options_.unary_timeout);
  return stub_->PutInventory(ctx.get(), request, info);
}

grpc::Status QueryClient::list_inventory(v1::ListInventoryResponse* response) const {
  auto ctx = context(options_.unary_timeout);
  return stub_->ListInventory(ctx.get(), v1::ListInventoryRequest(), response);
}

grpc::Status QueryClient::backup(const std::string& destination, v1::BackupResponse* response) const {
  v1::BackupRequest request;
  request.set_destination(destination);
  // Linking and copying a large store's files takes a while: no short deadline.
  auto ctx = context(std::chrono::hours(1));
  return stub_->Backup(ctx.get(), request, response);
}

grpc::Status QueryClient::remove_inventory(const std::string& name) const {
  v1::RemoveInventoryRequest request;
  request.set_name(name);
  v1::RemoveInventoryResponse response;
  auto ctx = context(options_.unary_timeout);
  return stub_->RemoveInventory(ctx.get(), request, &response);
}

grpc::Status QueryClient::verify(const QueryScope& scope,
                                 const std::function<bool(const v1::VerifyReport&)>& on_report) const {
  v1::VerifyRequest request;
  fill_selection(request.mutable_selection(), scope.patterns);
  fill_window(request.mutable_window(), scope);
  auto ctx = context(options_.stream_timeout);
  auto reader = stub_->Verify(ctx.get(), request);
  return drain<v1::VerifyReport>(*ctx, *reader, on_report);
}

grpc::Status QueryClient::get_ledger(uint64_t first, uint64_t last,
                                     const std::function<bool(const v1::LedgerEntries&)>& on_entries,
                                     bool key_events_only) const {
  v1::GetLedgerRequest request;
  request.set_first(first);
  request.set_last(last);
  request.set_key_events_only(key_events_only);
  auto ctx = context(options_.stream_timeout);
  auto reader = stub_->GetLedger(ctx.get(), request);
  return drain<v1::LedgerEntries>(*ctx, *reader, on_entries);
}

grpc::Status QueryClient::get_checkpoints(const std::function<bool(const v1::Checkpoint&)>& on_checkpoint) const {
  v1::GetCheckpointsRequest request;
  auto ctx = context(options_.stream_timeout);
  auto reader = stub_->GetCheckpoints(ctx.get(), request);
  return drain<v1::Checkpoint>(*ctx, *reader, on_checkpoint);
}

}  // namespace seisvault::client
