#include "fdsn_http.h"

#include <fmt/format.h>

namespace seisvault::server {

int http_status_of(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kResourceExhausted: return 413;
    case StatusCode::kUnavailable: return 503;
    default: return 500;
  }
}

std::string request_origin(const httplib::Request& req, bool tls) {
  std::string host = req.get_header_value("Host");
  if (host.empty() || host.find_first_of(" /\\\"<>") != std::string::npos) host = "localhost";
  return fmt::format("{}://{}", tls ? "https" : "http", host);
}

std::string service_base_url(const httplib::Request& req, bool tls, const FdsnService& service) {
  return fmt::format("{}/fdsnws/{}/1/", request_origin(req, tls), service.name);
}

void send_fdsn_error(const FdsnService& service, const httplib::Request& req, bool tls, httplib::Response& res,
                     int status, std::string_view detail) {
  res.status = status;
  std::string url = request_origin(req, tls) + (req.target.empty() ? req.path : req.target);
  if (url.size() > 2048) url = url.substr(0, 2048) + "...";
  res.set_content(fdsn_error_document(status, detail, url, service_base_url(req, tls, service), service.version),
                  "text/plain; charset=utf-8");
}

void send_fdsn_error(const FdsnService& service, const httplib::Request& req, bool tls, httplib::Response& res,
                     const Status& status) {
  send_fdsn_error(service, req, tls, res, http_status_of(status), status.message());
  if (status.code() == StatusCode::kUnauthenticated) res.set_header("WWW-Authenticate", "Bearer");
}

void send_no_data(const FdsnService& service, const httplib::Request& req, bool tls, httplib::Response& res,
                  int nodata, std::string_view what) {
  if (nodata == 404) {
    send_fdsn_error(service, req, tls, res, 404, what);
    return;
  }
  res.status = 204;
}

Result<FdsnRequest> read_fdsn_request(const httplib::Request& req, std::span<const FdsnParameter> accepted,
                                      size_t max_lines) {
  if (req.method == "POST") {
    // Clients post the body as text/plain or, like Python's urllib (ObsPy),
    // as application/x-www-form-urlencoded, which the HTTP library also
    // reads as parameters: only the body counts.
    if (req.target.find('?') != std::string::npos) {
      return Status::invalid_argument("a POST request takes its parameters in the body, not in the URL");
    }
    return FdsnRequest::from_post(req.body, accepted, max_lines);
  }
  std::multimap<std::string, std::string> q(req.params.begin(), req.params.end());
  return FdsnRequest::from_query(q, accepted);
}

Result<int> nodata_status(const FdsnRequest& request) {
  const auto v = request.text("nodata");
  if (!v || *v == "204") return 204;
  if (*v == "404") return 404;
  return Status::invalid_argument(fmt::format("nodata '{}' is not 204 or 404", v->substr(0, 20)));
}

Result<std::vector<RecordQuery>> record_queries(const QueryService& query, const FdsnRequest& request) {
  std::vector<RecordQuery> lines;
  if (request.is_post()) {
    for (const auto& l : request.lines()) {
      auto sel = query.selection(l.network, l.station, l.location, l.channel);
      if (!sel.ok()) return sel.status();
      auto w = QueryService::window(l.start, l.end);
      if (!w.ok()) return w.status();
      lines.push_back({std::move(*sel), *w});
    }
    return lines;
  }
  const auto code = [&](std::string_view name) { return request.text(name).value_or("*"); };
  auto sel = query.selection(code("network"), code("station"), code("location"), code("channel"));
  if (!sel.ok()) return sel.status();
  auto start = request.time("starttime");
  if (!start.ok()) return start.status();
  auto end = request.time("endtime");
  if (!end.ok()) return end.status();
  auto w = QueryService::window(*start, *end);
  if (!w.ok()) return w.status();
  lines.push_back({std::move(*sel), *w});
  return lines;
}

}  // namespace seisvault::server
