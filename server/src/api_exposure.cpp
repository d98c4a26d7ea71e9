#include "api_exposure.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <string>

#include <fmt/format.h>

namespace seisvault::server {

namespace {

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

bool is_loopback_host(std::string_view host) {
  if (equals_ignoring_case(host, "localhost")) return true;
  const std::string h(host);  // inet_pton wants a terminated string
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
    if (std::memcmp(&v6, &in6addr_loopback, sizeof v6) == 0) return true;
    // ::ffff:127.x.y.z, an IPv4 loopback address written as IPv6.
    static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return std::memcmp(v6.s6_addr, kMapped, sizeof kMapped) == 0 && v6.s6_addr[12] == 127;
  }
  return false;
}

}  // namespace

bool is_loopback_api_address(std::string_view address) {
  if (address.starts_with("unix:") || address.starts_with("unix-abstract:")) return true;
  std::string_view host;
  if (address.starts_with('[')) {
    const size_t close = address.find(']');
    if (close == std::string_view::npos) return false;
    host = address.substr(1, close - 1);
  } else {
    const size_t colon = address.rfind(':');
    host = colon == std::string_view::npos ? address : address.substr(0, colon);
  }
  return !host.empty() && is_loopback_host(host);
}

Status check_api_exposure(std::string_view address, bool tls, bool token, bool allow_insecure,
                          std::string_view face) {
  if (tls || token || allow_insecure || is_loopback_api_address(address)) return {};
  return Status::invalid_argument(fmt::format(
      "refusing to serve the {} on {} without TLS or a token: anyone who can reach that address could read "
      "every stored waveform. Give --{}-tls-cert and --{}-tls-key, or --api-token-file, or listen on loopback "
      "(127.0.0.1), or pass --api-allow-insecure if that network is trusted",
      face == "http" ? "HTTP face (FDSN web services)" : "query API", address, face, face));
}

}  // namespace seisvault::server
