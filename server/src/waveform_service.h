// WaveformService: the handlers of proto/waveform.proto, reading through the
// QueryService (which holds the request checks and read paths shared with
// the HTTP face) and the live feed of the SubscriptionHub.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>

#include <grpcpp/grpcpp.h>

#include "api_metrics.h"
#include "api_server.h"
#include "query_service.h"
#include "station_metadata.h"
#include "seisvault/proto/waveform.grpc.pb.h"

namespace seisvault::server {

class WaveformService final : public waveform::v1::Waveforms::Service {
 public:
  // `stats` and `access` may be null (no ingest running).
  // `query`, `hub`, `stats`, `access` and `metrics` must outlive the
  // service; `stats`, `access` and `metrics` may be null. Every call is
  // counted in `metrics` (face "grpc", its gRPC status code, its duration).
  WaveformService(const ApiOptions& options, const QueryService& query, const ingest::IngestStats* stats,
                  SubscriptionHub& hub, const ingest::AccessControl* access = nullptr, ApiMetrics* metrics = nullptr,
                  StationMetadata* station_metadata = nullptr);

  grpc::Status ListChannels(grpc::ServerContext*, const waveform::v1::ListChannelsRequest*,
                            waveform::v1::ListChannelsResponse*) override;
  grpc::Status GetRecords(grpc::ServerContext*, const waveform::v1::GetRecordsRequest*,
                          grpc::ServerWriter<waveform::v1::RecordBatch>*) override;
  grpc::Status GetSamples(grpc::ServerContext*, const waveform::v1::GetSamplesRequest*,
                          grpc::ServerWriter<waveform::v1::Segment>*) override;
  grpc::Status GetAvailability(grpc::ServerContext*, const waveform::v1::GetAvailabilityRequest*,
                               waveform::v1::GetAvailabilityResponse*) override;
  grpc::Status Subscribe(grpc::ServerContext*, const waveform::v1::SubscribeRequest*,
                         grpc::ServerWriter<waveform::v1::SubscribeEvent>*) override;
  grpc::Status GetStats(grpc::ServerContext*, const waveform::v1::GetStatsRequest*, waveform::v1::Stats*) override;
  grpc::Status Verify(grpc::ServerContext*, const waveform::v1::VerifyRequest*,
                      grpc::ServerWriter<waveform::v1::VerifyReport>*) override;
  grpc::Status PutInventory(grpc::ServerContext*, const waveform::v1::PutInventoryRequest*,
                            waveform::v1::InventoryDocumentInfo*) override;
  grpc::Status ListInventory(grpc::ServerContext*, const waveform::v1::ListInventoryRequest*,
                             waveform::v1::ListInventoryResponse*) override;
  grpc::Status RemoveInventory(grpc::ServerContext*, const waveform::v1::RemoveInventoryRequest*,
                               waveform::v1::RemoveInventoryResponse*) override;
  grpc::Status Backup(grpc::ServerContext*, const waveform::v1::BackupRequest*, waveform::v1::BackupResponse*) override;
  grpc::Status GetLedger(grpc::ServerContext*, const waveform::v1::GetLedgerRequest*,
                         grpc::ServerWriter<waveform::v1::LedgerEntries>*) override;
  grpc::Status GetCheckpoints(grpc::ServerContext*, const waveform::v1::GetCheckpointsRequest*,
                              grpc::ServerWriter<waveform::v1::Checkpoint>*) override;

  // Takes a sample of the ingest counters (called once a second) for the
  // rate in GetStats.
  void sample_rates();
  // Makes open streams (Subscribe) end.
  void shut_down() { shutting_down_ = true; }

 private:
  // The handlers, each run through observed() by the override of its name.
  grpc::Status list_channels(grpc::ServerContext*, const waveform::v1::ListChannelsRequest*,
                             waveform::v1::ListChannelsResponse*);
  grpc::Status get_records(grpc::ServerContext*, const waveform::v1::GetRecordsRequest*,
                           grpc::ServerWriter<waveform::v1::RecordBatch>*);
  grpc::Status get_samples(grpc::ServerContext*, const waveform::v1::GetSamplesRequest*,
                           grpc::ServerWriter<waveform::v1::Segment>*);
  grpc::Status get_availability(grpc::ServerContext*, const waveform::v1::GetAvailabilityRequest*,
                                waveform::v1::GetAvailabilityResponse*);
  grpc::Status subscribe(grpc::ServerContext*, const waveform::v1::SubscribeRequest*,
                         grpc::ServerWriter<waveform::v1::SubscribeEvent>*);
  grpc::Status get_stats(grpc::ServerContext*, const waveform::v1::GetStatsRequest*, waveform::v1::Stats*);
  grpc::Status verify(grpc::ServerContext*, const waveform::v1::VerifyRequest*,
                      grpc::ServerWriter<waveform::v1::VerifyReport>*);
  grpc::Status put_inventory(grpc::ServerContext*, const waveform::v1::PutInventoryRequest*,
                             waveform::v1::InventoryDocumentInfo*);
  grpc::Status list_inventory(grpc::ServerContext*, const waveform::v1::ListInventoryRequest*,
                              waveform::v1::ListInventoryResponse*);
  grpc::Status remove_inventory(grpc::ServerContext*, const waveform::v1::RemoveInventoryRequest*,
                                waveform::v1::RemoveInventoryResponse*);
  grpc::Status backup(grpc::ServerContext*, const waveform::v1::BackupRequest*, waveform::v1::BackupResponse*);
  grpc::Status get_ledger(grpc::ServerContext*, const waveform::v1::GetLedgerRequest*,
                          grpc::ServerWriter<waveform::v1::LedgerEntries>*);
  grpc::Status get_checkpoints(grpc::ServerContext*, const waveform::v1::GetCheckpointsRequest*,
                               grpc::ServerWriter<waveform::v1::Checkpoint>*);
  // The checks of a metadata change: token, and a token or a loopback API.
  grpc::Status authorize_change(grpc::ServerContext* context) const;
  // Runs `call` and counts it in the API metrics.
  template <class Call>
  grpc::Status observed(std::string_view method, Call&& call);

  grpc::Status authorize(grpc::ServerContext* context) const;
  // The common start of the windowed calls: token, selection (and its size
  // against the limits), window (and its length against the limit).
  grpc::Status prepare(grpc::ServerContext* context, const waveform::v1::Selection& selection,
                       const waveform::v1::TimeWindow& window, storage::ChannelSelection& sel,
                       storage::TimeWindow& out) const;

  ApiOptions options_;
  const QueryService& query_;
  const ingest::IngestStats* stats_;
  const ingest::AccessControl* access_;
  SubscriptionHub& hub_;
  ApiMetrics* metrics_;
  StationMetadata* station_metadata_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::atomic<bool> shutting_down_{false};

  struct RateSample {
    std::chrono::steady_clock::time_point at;
    uint64_t records;
    uint64_t bytes;
  };
  mutable std::mutex rate_mutex_;
  std::deque<RateSample> rate_samples_;
};

}  // namespace seisvault::server
