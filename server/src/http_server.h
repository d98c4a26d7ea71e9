// HttpServer: seisvaultd's HTTP face on --http: the FDSN web services
// (dataselect, station, availability), /metrics (Prometheus), /healthz and
// /readyz.
//
// Built on Debian's cpp-httplib (0.11): a blocking server with a pool of
// worker threads, each request served start to end on one of them, and
// chunked content providers that write as the socket drains, so a response
// streams with one buffer of memory whatever its size. The FDSN services
// read through the QueryService, the same layer as the gRPC API, with the
// same token and limits. The token, when set, is required on every path but
// /healthz and /readyz (what a load balancer or systemd probes without
// secrets). TLS with a certificate and key; off loopback, plain text without
// a token is refused unless allow_insecure (see api_exposure.h).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "query_service.h"
#include "station_metadata.h"
#include "seisvault/common/status.h"

namespace seisvault::server {

struct HttpOptions {
  std::string address = "127.0.0.1:16602";  // host:port; port 0 picks a free one
  std::string tls_cert_file;                // PEM; with tls_key_file enables HTTPS
  std::string tls_key_file;
  bool allow_insecure = false;
  // Requests served at once (worker threads); more wait for a free worker.
  size_t threads = 8;
  // Largest POST body (bulk dataselect/station requests); larger: 413.
  size_t max_body_bytes = size_t{1} << 20;
  // Selection lines one POST may carry.
  size_t max_post_lines = 10000;
  // How long a read may wait on a client that sends nothing (a worker is
  // held meanwhile: --http-threads silent clients delay everyone else this
  // long), and a send on one that does not read, before the connection is
  // dropped.
  int read_timeout_s = 15;
  int write_timeout_s = 60;
};

// Where the non-FDSN endpoints get their answers; each may be empty.
struct HttpHooks {
  // The station metadata the station service answers from (null: none,
  // every station query is "no data"); must outlive the server.
  const StationMetadata* station_metadata = nullptr;
  // /metrics body (Prometheus text format 0.0.4).
  std::function<std::string()> metrics;
  // /readyz: OK, or why not ready.
  std::function<Status()> ready;
  // Called once per request after its response went out: the route
  // ("dataselect/query", "metrics", ... or "other"), the HTTP status and how
  // long it took.
  std::function<void(std::string_view route, int status, double seconds)> observe;
};

class HttpServer {
 public:
  // `query` must outlive the server. InvalidArgument for bad TLS files, a
  // bad address or an exposure check_api_exposure() refuses; IoError when
  // the address cannot be bound.
  static Result<std::unique_ptr<HttpServer>> start(const HttpOptions& options, const QueryService& query,
                                                   HttpHooks hooks);
  ~HttpServer();
  // "host:port" actually bound.
  const std::string& address() const;
  // Stops taking connections and waits for the workers.
  void stop();

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace seisvault::server
