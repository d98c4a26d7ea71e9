// AddressAllowList: which client addresses may connect (the SeedLink face's
// --seedlink-allow). Entries are addresses or CIDR blocks, IPv4 or IPv6:
// "127.0.0.1", "10.0.0.0/8", "::1", "2001:db8::/32". An IPv4 client reaching
// an IPv6 socket (::ffff:a.b.c.d) is checked as IPv4. An empty list allows
// everyone.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <vector>

#include "seisvault/common/status.h"

namespace seisvault::server {

class AddressAllowList {
 public:
  // InvalidArgument naming the bad entry.
  static Result<AddressAllowList> parse(const std::vector<std::string>& entries);

  bool empty() const { return blocks_.empty(); }
  bool allows(const sockaddr* address) const;

 private:
  struct Block {
    bool v6 = false;
    std::array<uint8_t, 16> bytes{};
    int prefix = 0;
  };
  std::vector<Block> blocks_;
};

// "192.0.2.7" or "2001:db8::7" for a socket address (no port).
std::string address_text(const sockaddr* address);
uint16_t address_port(const sockaddr* address);

}  // namespace seisvault::server
