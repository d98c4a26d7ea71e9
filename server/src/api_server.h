// ApiServer: the gRPC query service (proto/waveform.proto) on --api.
//
// Read access can require TLS (certificate and key files) and a bearer
// token ("authorization: Bearer TOKEN" metadata); the default listens on
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
#include "subscription_hub.h"

namespace seisvault::server {

struct ApiOptions {
  std::string address = "127.0.0.1:16601";  // host:port; port 0 picks a free one
  std::string tls_cert_file;                // PEM; with tls_key_file enables TLS
  std::string tls_key_file;
  std::string token;                        // when set, every call must carry it
  // Serve a non-loopback address without TLS or a token (a trusted network).
  bool allow_insecure = false;
  // Windows longer than this are refused (INVALID_ARGUMENT): those of
  // GetRecords, GetSamples, Verify and GetAvailability, and Subscribe's
  // backlog [since_ns, end of the data). Open bounds count from the selected
  // data's extent. GetAvailability has no larger limit of its own: the store
  // reads every block of the window for it, as for GetRecords. 0: no limit.
  int64_t max_window_s = 366 * 86400;
  // A Selection (of any call) with more patterns, or more bytes of patterns,
  // is refused (INVALID_ARGUMENT). Room for a subscriber that lists 10,000
  // channels one by one; a selection is matched against every channel, so
  // its size is CPU the server spends per request.
  size_t max_selection_patterns = 10000;
  size_t max_selection_bytes = size_t{1} << 20;
  // Records a subscriber may have queued before further ones are skipped.
  size_t subscriber_queue = 100000;
};

class ApiServer {
 public:
  // `stats` and `access` may be null (no ingest running); store, hub, stats
  // and access must outlive it. InvalidArgument for bad TLS files or an
  // exposure check_api_exposure() refuses; IoError when the address cannot
  // be bound.
  static Result<std::unique_ptr<ApiServer>> start(const ApiOptions& options, const storage::RecordStore& store,
                                                  const ingest::IngestStats* stats, SubscriptionHub& hub,
                                                  const ingest::AccessControl* access = nullptr);
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
