#include "host_port.h"

#include <charconv>

#include <fmt/format.h>

namespace seisvault::server {

Result<HostPort> split_host_port(std::string_view address, std::string_view face) {
  HostPort out;
  std::string_view port;
  if (!address.empty() && address.front() == '[') {
    const auto close = address.find(']');
    if (close == std::string_view::npos || close + 1 >= address.size() || address[close + 1] != ':') {
      return Status::invalid_argument(fmt::format("{} address '{}' is not [IPv6]:PORT", face, address));
    }
    out.host = std::string(address.substr(1, close - 1));
    port = address.substr(close + 2);
  } else {
    const auto colon = address.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
      return Status::invalid_argument(fmt::format("{} address '{}' is not HOST:PORT", face, address));
    }
    out.host = std::string(address.substr(0, colon));
    port = address.substr(colon + 1);
  }
  const auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), out.port);
  if (ec != std::errc() || p != port.data() + port.size() || out.port < 0 || out.port > 65535) {
    return Status::invalid_argument(fmt::format("{} address '{}': port '{}' is not 0-65535", face, address, port));
  }
  return out;
}

}  // namespace seisvault::server
