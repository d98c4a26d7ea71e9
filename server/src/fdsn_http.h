// FdsnHttp: what every FDSN service shares on the HTTP side: reading a
// request's parameters (query string or POST body), answering errors in the
// FDSN error document, and "no data" as the client asked (204 or 404).
//
// Status codes (FDSN web service conventions): 400 a bad request, 401 a
// missing or wrong token, 404 "no data" when asked with nodata=404, 413 a
// request over the server's limits, 414 an over-long URI, 500 a failure of
// the server, 503 the store unavailable. Stateless functions: thread-safe.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <httplib.h>

#include "fdsn_request.h"
#include "query_service.h"
#include "seisvault/common/status.h"

namespace seisvault::server {

// One FDSN service: its name in paths ("dataselect"), version, and where its
// documentation is.
struct FdsnService {
  std::string_view name;
  std::string_view version;  // "1.1.0"
};

// The HTTP status for a Status from the query layer.
int http_status_of(const Status& status);

// "http://host:port" of this request (https when served over TLS).
std::string request_origin(const httplib::Request& req, bool tls);
// The service's base URL: origin + "/fdsnws/<name>/1/".
std::string service_base_url(const httplib::Request& req, bool tls, const FdsnService& service);

// Answers `status` with the FDSN error document (text/plain).
void send_fdsn_error(const FdsnService& service, const httplib::Request& req, bool tls, httplib::Response& res,
                     int status, std::string_view detail);
void send_fdsn_error(const FdsnService& service, const httplib::Request& req, bool tls, httplib::Response& res,
                     const Status& status);
// Answers "no data": 204 without a body, or 404 with the error document.
void send_no_data(const FdsnService& service, const httplib::Request& req, bool tls, httplib::Response& res,
                  int nodata, std::string_view what);

// The request's parameters: the query string of a GET, the body of a POST
// (see FdsnRequest::from_post).
Result<FdsnRequest> read_fdsn_request(const httplib::Request& req, std::span<const FdsnParameter> accepted,
                                      size_t max_lines);

// nodata=204|404 (default 204); InvalidArgument otherwise.
Result<int> nodata_status(const FdsnRequest& request);

// The selection lines of a dataselect or availability request: the POST
// lines, or the GET parameters network..channel ("*" when absent),
// starttime and endtime, each checked by `query` (selection size, start
// before end).
Result<std::vector<RecordQuery>> record_queries(const QueryService& query, const FdsnRequest& request);

}  // namespace seisvault::server
