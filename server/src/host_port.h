// HOST:PORT and [IPv6]:PORT listening addresses, as the HTTP and SeedLink
// faces take them.
#pragma once

#include <string>
#include <string_view>

#include "seisvault/common/status.h"

namespace seisvault::server {

struct HostPort {
  std::string host;  // without brackets
  int port = 0;      // 0-65535
};

// InvalidArgument naming `face` ("HTTP", "SeedLink") and what is wrong.
Result<HostPort> split_host_port(std::string_view address, std::string_view face);

}  // namespace seisvault::server
