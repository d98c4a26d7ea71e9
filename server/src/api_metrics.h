// ApiMetrics: requests served by the query faces (gRPC and HTTP), counted
// per face, method and status, with their duration, for /metrics:
//
//   seisvault_api_requests_total{face,method,status}
//   seisvault_api_request_duration_seconds{face,method}  (histogram)
//
// observe() is called once per request (per RPC, per HTTP request; a
// streaming RPC when it ends, its duration being the whole stream's).
// Thread-safe: a mutex around a small map, held for a lookup and an
// addition (the histogram itself is lock-free).
//
// Cardinality: `method` must come from a fixed set (the RPC name, the
// route: "GetRecords", "dataselect/query"), never from the request (a raw
// path). As a guard, after kMaxSeries distinct (face, method) pairs any new
// pair is counted under method "other"; statuses per pair are few (HTTP
// codes, gRPC code numbers).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "prometheus_text.h"
#include "seisvault/common/latency_histogram.h"

namespace seisvault::server {

class ApiMetrics {
 public:
  static constexpr size_t kMaxSeries = 256;

  // face: "grpc" or "http"; method: e.g. "GetRecords", "dataselect/query";
  // status: the HTTP status or the gRPC code number (0 is OK); seconds: how
  // long the request took (negative counts as 0).
  void observe(std::string_view face, std::string_view method, int status, double seconds);

  // The two families above, HELP and TYPE included (with no samples before
  // the first request), series sorted by face, method and status.
  void render(PrometheusText& out) const;

  struct Series {
    std::string face;
    std::string method;
    std::vector<std::pair<int, uint64_t>> requests;  // (status, count), by status
    LatencyHistogram::Snapshot duration;
  };
  // What render() shows, sorted by face and method.
  std::vector<Series> snapshot() const;

 private:
  struct Key {
    std::string face;
    std::string method;
  };
  struct KeyView {
    std::string_view face;
    std::string_view method;
  };
  // Orders Key and KeyView alike, so that a lookup makes no string.
  struct KeyLess {
    using is_transparent = void;
    static KeyView view(const Key& k) { return {k.face, k.method}; }
    static KeyView view(const KeyView& k) { return k; }
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
      const KeyView x = view(a), y = view(b);
      return x.face != y.face ? x.face < y.face : x.method < y.method;
    }
  };
  struct Entry {
    std::map<int, uint64_t> by_status;  // guarded by mutex_
    LatencyHistogram duration;
  };

  mutable std::mutex mutex_;
  std::map<Key, std::unique_ptr<Entry>, KeyLess> series_;  // guarded by mutex_; entries never removed
};

}  // namespace seisvault::server
