#include "http_server.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <chrono>
#include <thread>

#include <fmt/format.h>
#include <httplib.h>
#include <spdlog/spdlog.h>

#include "api_exposure.h"
#include "host_port.h"
#include "fdsn_availability_service.h"
#include "fdsn_dataselect.h"
#include "fdsn_station_service.h"

namespace seisvault::server {

namespace {

// The route a path belongs to, for metrics: a fixed, small set of labels.
std::string_view route_of(const std::string& path) {
  static constexpr std::string_view kRoutes[] = {
      "/fdsnws/dataselect/1/query",   "/fdsnws/dataselect/1/version",   "/fdsnws/dataselect/1/application.wadl",
      "/fdsnws/station/1/query",      "/fdsnws/station/1/version",      "/fdsnws/station/1/application.wadl",
      "/fdsnws/availability/1/query", "/fdsnws/availability/1/extent",  "/fdsnws/availability/1/version",
      "/fdsnws/availability/1/application.wadl", "/metrics", "/healthz", "/readyz"};
  for (const auto r : kRoutes) {
    if (path == r) return r.substr(r.rfind("/fdsnws/", 0) == 0 ? 8 : 1);
  }
  return "other";
}

thread_local std::chrono::steady_clock::time_point request_started;

}  // namespace

struct HttpServer::Impl {
  std::unique_ptr<httplib::Server> server;
  std::unique_ptr<DataselectService> dataselect;
  std::unique_ptr<AvailabilityService> availability;
  std::unique_ptr<StationService> station;
  // The GET routes of the services, by path, for requests the library could
  // not route itself (see the error handler).
  std::map<std::string, std::function<void(const httplib::Request&, httplib::Response&)>> get_routes;
  HttpHooks hooks;
  std::string address;
  std::thread thread;
  bool stopped = false;
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() { stop(); }
const std::string& HttpServer::address() const { return impl_->address; }

Result<std::unique_ptr<HttpServer>> HttpServer::start(const HttpOptions& options, const QueryService& query,
                                                      HttpHooks hooks) {
  const bool tls = !options.tls_cert_file.empty() || !options.tls_key_file.empty();
  if (tls && (options.tls_cert_file.empty() || options.tls_key_file.empty())) {
    return Status::invalid_argument("HTTPS needs both --http-tls-cert and --http-tls-key");
  }
  auto hp = split_host_port(options.address, "HTTP");
  if (!hp.ok()) return hp.status();
  if (auto s = check_api_exposure(options.address, tls, query.token_required(), options.allow_insecure, "http");
      !s.ok()) {
    return s;
  }
  auto impl = std::make_unique<Impl>();
  impl->hooks = std::move(hooks);
  if (tls) {
    auto ssl = std::make_unique<httplib::SSLServer>(options.tls_cert_file.c_str(), options.tls_key_file.c_str());
    if (!ssl->is_valid()) {
      return Status::invalid_argument(fmt::format("cannot use the TLS certificate {} and key {} for HTTPS",
                                                  options.tls_cert_file, options.tls_key_file));
    }
    impl->server = std::move(ssl);
  } else {
    impl->server = std::make_unique<httplib::Server>();
  }
  httplib::Server& svr = *impl->server;
  const size_t threads = std::max<size_t>(1, options.threads);
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };  // the library owns it
  svr.set_payload_max_length(options.max_body_bytes);
  svr.set_read_timeout(options.read_timeout_s, 0);
  svr.set_write_timeout(options.write_timeout_s, 0);
  svr.set_tcp_nodelay(true);

  Impl* m = impl.get();
  const QueryService* q = &query;
  // Token first, for everything but the probes.
  svr.set_pre_routing_handler([q, tls](const httplib::Request& req, httplib::Response& res) {
    request_started = std::chrono::steady_clock::now();
    if (req.path == "/healthz" || req.path == "/readyz") return httplib::Server::HandlerResponse::Unhandled;
    std::optional<std::string_view> header;
    std::string value;
    if (req.has_header("Authorization")) {
      value = req.get_header_value("Authorization");
      header = value;
    }
    if (auto s = q->authorize(header); !s.ok()) {
      send_fdsn_error(kDataselectService, req, tls, res, s);
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  svr.set_logger([m](const httplib::Request& req, const httplib::Response& res) {
    if (!m->hooks.observe) return;
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - request_started).count();
    m->hooks.observe(route_of(req.path), res.status, seconds);
  });
  svr.set_error_handler([m, tls, q](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty() || res.has_header("Content-Type")) return;
    if (res.status == 400 && req.method == "GET" &&
        std::count(req.target.begin(), req.target.end(), '?') > 1) {
      // cpp-httplib 0.11 refuses a request line whose query holds a second
      // '?', as `cha=BH?` does when typed into curl or a browser. The
      // target is known here, the headers are not (the library stopped
      // before them): without a token to check, serve the query routes
      // from the target as it is; with one, say how to send it.
      const auto route = m->get_routes.find(req.path);
      if (!q->token_required() && route != m->get_routes.end()) {
        httplib::Request fixed;
        fixed.method = req.method;
        fixed.path = req.path;
        fixed.target = req.target;
        httplib::detail::parse_query_text(req.target.substr(req.target.find('?') + 1), fixed.params);
        res.status = 200;
        route->second(fixed, res);
        return;
      }
      send_fdsn_error(kDataselectService, req, tls, res, 400,
                      "The query string holds a '?' as it is: send the wildcard '?' as %3F (URL-encoded), "
                      "as FDSN clients do.");
      return;
    }
    if (res.status == 404) {
      res.set_content(fmt::format("Error 404: Not Found\n\nNo such resource: {}\n", req.path.substr(0, 200)),
                      "text/plain");
    } else if (res.status == 413) {
      res.set_content("Error 413: Payload Too Large\n\nThe request body is larger than this server accepts.\n",
                      "text/plain");
    } else if (res.status == 400) {
      res.set_content("Error 400: Bad Request\n\nThe HTTP request could not be read.\n", "text/plain");
    } else if (res.status == 414) {
      res.set_content("Error 414: URI Too Long\n\nThe request's URI is longer than 8192 bytes: use POST.\n",
                      "text/plain");
    }
  });
  svr.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    spdlog::error("HTTP {} {}: {}", req.method, req.path, what);
    res.status = 500;
    res.set_content(fmt::format("Error 500: Internal Server Error\n\n{}\n", what), "text/plain");
  });

  impl->dataselect = std::make_unique<DataselectService>(query, tls, options.max_post_lines);
  const DataselectService* ds = impl->dataselect.get();
  const auto get_route = [&svr, m](const std::string& path, httplib::Server::Handler handler) {
    m->get_routes.emplace(path, handler);
    svr.Get(path, std::move(handler));
  };
  get_route("/fdsnws/dataselect/1/query", [ds](const auto& req, auto& res) { ds->query(req, res); });
  svr.Post("/fdsnws/dataselect/1/query", [ds](const httplib::Request& req, httplib::Response& res) { ds->query(req, res); });
  svr.Get("/fdsnws/dataselect/1/version", [ds](const auto& req, auto& res) { ds->version(req, res); });
  svr.Get("/fdsnws/dataselect/1/application.wadl", [ds](const auto& req, auto& res) { ds->wadl(req, res); });

  impl->availability = std::make_unique<AvailabilityService>(query, tls, options.max_post_lines);
  const AvailabilityService* av = impl->availability.get();
  get_route("/fdsnws/availability/1/query", [av](const auto& req, auto& res) { av->query(req, res); });
  svr.Post("/fdsnws/availability/1/query",
           [av](const httplib::Request& req, httplib::Response& res) { av->query(req, res); });
  get_route("/fdsnws/availability/1/extent", [av](const auto& req, auto& res) { av->extent(req, res); });
  svr.Post("/fdsnws/availability/1/extent",
           [av](const httplib::Request& req, httplib::Response& res) { av->extent(req, res); });
  svr.Get("/fdsnws/availability/1/version", [av](const auto& req, auto& res) { av->version(req, res); });
  svr.Get("/fdsnws/availability/1/application.wadl", [av](const auto& req, auto& res) { av->wadl(req, res); });

  impl->station = std::make_unique<StationService>(query, m->hooks.station_metadata, tls, options.max_post_lines);
  const StationService* sv = impl->station.get();
  get_route("/fdsnws/station/1/query", [sv](const auto& req, auto& res) { sv->query(req, res); });
  svr.Post("/fdsnws/station/1/query", [sv](const httplib::Request& req, httplib::Response& res) { sv->query(req, res); });
  svr.Get("/fdsnws/station/1/version", [sv](const auto& req, auto& res) { sv->version(req, res); });
  svr.Get("/fdsnws/station/1/application.wadl", [sv](const auto& req, auto& res) { sv->wadl(req, res); });

  svr.Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });
  svr.Get("/readyz", [m](const httplib::Request&, httplib::Response& res) {
    const Status s = m->hooks.ready ? m->hooks.ready() : Status();
    if (s.ok()) {
      res.set_content("ready\n", "text/plain");
    } else {
      res.status = 503;
      res.set_content(fmt::format("not ready: {}\n", s.message()), "text/plain");
    }
  });
  svr.Get("/metrics", [m](const httplib::Request&, httplib::Response& res) {
    if (!m->hooks.metrics) {
      res.status = 404;
      return;
    }
    res.set_content(m->hooks.metrics(), "text/plain; version=0.0.4; charset=utf-8");
  });

  int port = hp->port;
  if (port == 0) {
    port = svr.bind_to_any_port(hp->host);
    if (port < 0) port = 0;
  } else if (!svr.bind_to_port(hp->host, port)) {
    port = 0;
  }
  if (port == 0) return Status::io_error(fmt::format("cannot serve HTTP on {}", options.address));
  impl->address = (hp->host.find(':') != std::string::npos ? "[" + hp->host + "]" : hp->host) + ":" +
                  std::to_string(port);
  impl->thread = std::thread([m] { m->server->listen_after_bind(); });
  spdlog::info("HTTP (FDSN web services, /metrics) listening on {} ({}{})", impl->address, tls ? "HTTPS" : "plain",
               query.token_required() ? ", bearer token required" : ", no token");
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

void HttpServer::stop() {
  Impl& m = *impl_;
  if (m.stopped) return;
  m.stopped = true;
  m.dataselect->shut_down();  // long streams end instead of holding the workers
  m.server->stop();
  if (m.thread.joinable()) m.thread.join();
}

}  // namespace seisvault::server
