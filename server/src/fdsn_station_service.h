// StationService: fdsnws-station 1.1 (/fdsnws/station/1/...), answered
// from the StationXML the operator loaded (`seisvault inventory load`,
// through the API or into a stopped server's store), as StationMetadata
// holds it now. SeisVault never invents
// metadata: without a loaded document every query is "no data".
// matchtimeseries and includeavailability use the store's channel catalog
// (through the QueryService). GET and POST. Thread-safe.
#pragma once

#include <memory>

#include <httplib.h>

#include "fdsn_http.h"
#include "query_service.h"
#include "station_metadata.h"

namespace seisvault::server {

inline constexpr FdsnService kStationService{"station", "1.1.0"};

class StationService {
 public:
  // `metadata` may be null (nothing is ever loaded); `query` and `metadata`
  // must outlive the service.
  StationService(const QueryService& query, const StationMetadata* metadata, bool tls, size_t max_post_lines);

  void query(const httplib::Request& req, httplib::Response& res) const;
  void version(const httplib::Request& req, httplib::Response& res) const;
  void wadl(const httplib::Request& req, httplib::Response& res) const;

 private:
  const QueryService& query_;
  const StationMetadata* metadata_;
  bool tls_;
  size_t max_post_lines_;
};

}  // namespace seisvault::server
