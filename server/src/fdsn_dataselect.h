// DataselectService: fdsnws-dataselect 1.1 (/fdsnws/dataselect/1/...).
//
// query (GET and POST) returns the selected miniSEED records byte-identical
// to what stations sent, channel by channel in source-id order and by start
// time within a channel, as application/vnd.fdsn.mseed, streamed with
// chunked transfer encoding (memory stays at one buffer per request whatever
// its size). Before anything is sent the request is planned and measured
// through the QueryService: no record is "no data" (204, or 404 with
// nodata=404), never a 200 with an empty body; more than the per-request
// record or byte limit is a 413 naming the limit. Parameters: network/net,
// station/sta, location/loc ("--" blank), channel/cha (wildcards ? *, comma
// lists), starttime/start, endtime/end, quality (D, R, Q, M, or B: any),
// minimumlength (seconds of continuous data), longestonly, format
// (miniseed), nodata (204, 404). Thread-safe.
#pragma once

#include <atomic>

#include <httplib.h>

#include "fdsn_http.h"
#include "query_service.h"

namespace seisvault::server {

inline constexpr FdsnService kDataselectService{"dataselect", "1.1.0"};

class DataselectService {
 public:
  // `query` must outlive the service. `tls`: served over TLS (for URLs in
  // documents). `max_post_lines`: selection lines of a POST at most.
  DataselectService(const QueryService& query, bool tls, size_t max_post_lines);

  void query(const httplib::Request& req, httplib::Response& res) const;
  void version(const httplib::Request& req, httplib::Response& res) const;
  void wadl(const httplib::Request& req, httplib::Response& res) const;
  // Makes responses being streamed end (cut short) at their next record:
  // the server is stopping.
  void shut_down() { shutting_down_.store(true, std::memory_order_relaxed); }

 private:
  const QueryService& query_;
  bool tls_;
  size_t max_post_lines_;
  std::atomic<bool> shutting_down_{false};
};

}  // namespace seisvault::server
