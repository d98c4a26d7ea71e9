#include "api_metrics.h"

#include <fmt/format.h>

namespace seisvault::server {

void ApiMetrics::observe(std::string_view face, std::string_view method, int status, double seconds) {
  Entry* entry = nullptr;
  {
    std::lock_guard lock(mutex_);
    auto it = series_.find(KeyView{face, method});
    if (it == series_.end()) {
      if (series_.size() >= kMaxSeries) method = "other";
      it = series_.find(KeyView{face, method});
      if (it == series_.end()) {
        it = series_.emplace(Key{std::string(face), std::string(method)}, std::make_unique<Entry>()).first;
      }
    }
    entry = it->second.get();
    ++entry->by_status[status];
  }
  // Entries live as long as this object: the histogram needs no lock.
  entry->duration.observe(seconds);
}

std::vector<ApiMetrics::Series> ApiMetrics::snapshot() const {
  std::vector<Series> out;
  std::lock_guard lock(mutex_);
  out.reserve(series_.size());
  for (const auto& [key, entry] : series_) {
    Series s{key.face, key.method, {entry->by_status.begin(), entry->by_status.end()}, entry->duration.snapshot()};
    out.push_back(std::move(s));
  }
  return out;
}

void ApiMetrics::render(PrometheusText& out) const {
  const auto series = snapshot();
  constexpr std::string_view kRequests = "seisvault_api_requests_total";
  constexpr std::string_view kDuration = "seisvault_api_request_duration_seconds";
  out.family(kRequests, MetricType::kCounter,
             "Query API requests served, by face (grpc, http), method (RPC or route) and status (HTTP status, or "
             "gRPC code number: 0 is OK).");
  std::string status;
  for (const auto& s : series) {
    for (const auto& [code, count] : s.requests) {
      status.clear();
      fmt::format_to(std::back_inserter(status), "{}", code);
      out.sample(kRequests, {{"face", s.face}, {"method", s.method}, {"status", status}}, count);
    }
  }
  out.family(kDuration, MetricType::kHistogram,
             "How long query API requests took, by face and method (a streaming RPC: the whole stream).");
  for (const auto& s : series) out.histogram(kDuration, {{"face", s.face}, {"method", s.method}}, s.duration);
}

}  // namespace seisvault::server
