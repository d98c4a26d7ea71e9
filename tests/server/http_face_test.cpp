// The HTTP face of a real seisvaultd (FDSN web services, probes): HTTPS,
// the exposure rule, and the token shared with the gRPC API. The services
// themselves are tested end to end by the Python suite in fdsnws/.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>

#include <httplib.h>

#include "support/process.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

using namespace seisvault;
using namespace seisvault::test;

namespace {

std::pair<std::string, int> host_port(const std::string& address) {
  const auto colon = address.rfind(':');
  return {address.substr(0, colon), std::stoi(address.substr(colon + 1))};
}

}  // namespace

TEST_CASE("the HTTP face serves HTTPS with the given certificate, and plain HTTP to it gets no answer",
          "[server][http][tls]") {
  TempDir tmp;
  const auto cert = tmp.path() / "cert.pem", key = tmp.path() / "key.pem";
  const std::string make_cert = "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost "
                                "-addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout " +
                                key.string() + " -out " + cert.string() + " > /dev/null 2>&1";
  if (std::system(make_cert.c_str()) != 0) {
    WARN("no openssl command to make a test certificate: HTTPS not tested");
    return;
  }
  ServerProcess server(tmp.path() / "data", "tcp://127.0.0.1:*",
                       {"--http-tls-cert", cert.string(), "--http-tls-key", key.string()});
  const auto [host, port] = host_port(server.http());
  httplib::SSLClient https(host, port);
  https.set_ca_cert_path(cert.c_str());
  https.enable_server_certificate_verification(true);
  auto res = https.Get("/fdsnws/dataselect/1/version");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body == "1.1.0");
  // The WADL names the service by its https URL.
  res = https.Get("/fdsnws/dataselect/1/application.wadl");
  REQUIRE(res);
  CHECK_THAT(res->body, Catch::Contains("base=\"https://"));

  httplib::Client plain(host, port);
  plain.set_connection_timeout(5, 0);
  plain.set_read_timeout(5, 0);
  auto no = plain.Get("/healthz");
  CHECK((!no || no->status != 200));
  REQUIRE(server.stop() == 0);
}

TEST_CASE("an HTTP face off loopback without TLS or a token is refused at start-up, naming the flags",
          "[server][http]") {
  TempDir tmp;
  ChildProcess refused({built_program("server/seisvaultd").string(), "--data-dir", tmp.path().string(), "--ingest",
                        "tcp://127.0.0.1:*", "--api", "127.0.0.1:0", "--http", "0.0.0.0:0", "--seedlink", "127.0.0.1:0"},
                       tmp.path() / "refused.log");
  const auto code = refused.wait(std::chrono::seconds(30));
  REQUIRE(code);
  CHECK(*code != 0);
  const auto log = read_text(tmp.path() / "refused.log");
  CHECK_THAT(log, Catch::Contains("--http-tls-cert"));
  CHECK_THAT(log, Catch::Contains("--api-allow-insecure"));
  CHECK_FALSE(std::filesystem::exists(tmp.path() / "http.endpoint"));
}

TEST_CASE("with a token, the FDSN services and /metrics need it and the probes do not", "[server][http]") {
  TempDir tmp;
  const auto token_file = tmp.path() / "token";
  std::ofstream(token_file) << "http-s3cret\n";
  ServerProcess server(tmp.path() / "data", "tcp://127.0.0.1:*", {"--api-token-file", token_file.string()});
  const auto [host, port] = host_port(server.http());
  httplib::Client http(host, port);
  for (const char* path : {"/fdsnws/dataselect/1/query?net=XX", "/fdsnws/station/1/query", "/metrics",
                           "/fdsnws/availability/1/extent"}) {
    INFO(path);
    auto res = http.Get(path);
    REQUIRE(res);
    CHECK(res->status == 401);
    CHECK_THAT(res->body, Catch::StartsWith("Error 401: Unauthorized"));
    CHECK(res->get_header_value("WWW-Authenticate") == "Bearer");
    res = http.Get(path, {{"Authorization", "Bearer wrong"}});
    REQUIRE(res);
    CHECK(res->status == 401);
    res = http.Get(path, {{"Authorization", "Bearer http-s3cret"}});
    REQUIRE(res);
    CHECK(res->status != 401);
  }
  for (const char* path : {"/healthz", "/readyz"}) {
    auto res = http.Get(path);
    REQUIRE(res);
    CHECK(res->status == 200);
  }
  REQUIRE(server.stop() == 0);
}
