// ApiServer: the gRPC query service (proto/waveform.proto) on --api.
//
// Read access can require TLS (certificate and key files) and a bearer
// token ("authorization: Bearer TOKEN" metadata, checked by the
// QueryService, which also holds the request limits: the window of
// GetRecords, GetSamples, Verify, GetAvailability and Subscribe's backlog,
// and the selection size of every call); the default listens on
// loopback only, in plain text, without a token. Off loopback, plain text
// without a token is refused unless allow_insecure (see api_exposure.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "seisvault/common/status.h"
#include "seisvault/ingest/access_control.h"
#include "seisvault/ingest/ingest_stats.h"
#include "seisvault/storage/record_store.h"
#include "api_metrics.h"
#include "query_service.h"
#include "station_metadata.h"
#include "subscription_hub.h"

namespace seisvault::server {

struct ApiOptions {
  std::string address = "127.0.0.1:16601";  // host:port; port 0 picks a free one
  std::string tls_cert_file;                // PEM; with tls_key_file enables TLS
  std::string tls_key_file;
  // Serve a non-loopback address without TLS or a token (a trusted network).
  bool allow_insecure = false;
  // Records a subscriber may have queued before further ones are skipped.
  size_t subscriber_queue = 100000;
};

class ApiServer {
 public:
  // `stats` and `access` may be null (no ingest running); query, hub, stats
  // and access must outlive it. InvalidArgument for bad TLS files or an
  // exposure check_api_exposure() refuses; IoError when the address cannot
  // be bound.
  // `metrics` (may be null) counts every call; `station_metadata` (may be
  // null: the inventory calls then answer UNIMPLEMENTED) is what
  // PutInventory/ListInventory/RemoveInventory change.
  static Result<std::unique_ptr<ApiServer>> start(const ApiOptions& options, const QueryService& query,
                                                  const ingest::IngestStats* stats, SubscriptionHub& hub,
                                                  const ingest::AccessControl* access = nullptr,
                                                  ApiMetrics* metrics = nullptr,
                                                  StationMetadata* station_metadata = nullptr);
  ~ApiServer();
  // "host:port" actually bound.
  const std::string& address() const;
  // Ends open streams and stops serving.
  void stop();

 private:
  struct Impl;
  explicit ApiServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace seisvault::server
