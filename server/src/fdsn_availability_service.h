// AvailabilityService: fdsnws-availability 1.0 (/fdsnws/availability/1/...).
//
// extent (one row per channel, quality and sample rate: earliest, latest,
// number of spans) and query (the continuous spans), GET and POST, from the
// store's blocks through the QueryService (records are not decoded), with
// the same gap tolerance as GetAvailability (half a sample period). The
// answer's formats (text, geocsv, json, request) and its merging, ordering
// and limit are fdsn_availability.h's. Thread-safe.
#pragma once

#include <httplib.h>

#include "fdsn_http.h"
#include "query_service.h"

namespace seisvault::server {

inline constexpr FdsnService kAvailabilityService{"availability", "1.0.0"};

class AvailabilityService {
 public:
  AvailabilityService(const QueryService& query, bool tls, size_t max_post_lines);

  void query(const httplib::Request& req, httplib::Response& res) const;
  void extent(const httplib::Request& req, httplib::Response& res) const;
  void version(const httplib::Request& req, httplib::Response& res) const;
  void wadl(const httplib::Request& req, httplib::Response& res) const;

 private:
  void answer(const httplib::Request& req, httplib::Response& res, bool extent) const;

  const QueryService& query_;
  bool tls_;
  size_t max_post_lines_;
};

}  // namespace seisvault::server
