#include "address_allow_list.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

#include <fmt/format.h>

namespace seisvault::server {
namespace {

// The address as 4 (IPv4, also from a v4-mapped IPv6 address) or 16 bytes.
bool bytes_of(const sockaddr* a, bool& v6, std::array<uint8_t, 16>& out) {
  if (a->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(a);
    v6 = false;
    std::memcpy(out.data(), &in->sin_addr, 4);
    return true;
  }
  if (a->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(a);
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
      v6 = false;
      std::memcpy(out.data(), reinterpret_cast<const uint8_t*>(&in6->sin6_addr) + 12, 4);
    } else {
      v6 = true;
      std::memcpy(out.data(), &in6->sin6_addr, 16);
    }
    return true;
  }
  return false;
}

bool prefix_equal(const std::array<uint8_t, 16>& a, const std::array<uint8_t, 16>& b, int bits) {
  const int whole = bits / 8;
  if (std::memcmp(a.data(), b.data(), static_cast<size_t>(whole)) != 0) return false;
  const int rest = bits % 8;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xFF << (8 - rest));
  return (a[static_cast<size_t>(whole)] & mask) == (b[static_cast<size_t>(whole)] & mask);
}

}  // namespace

Result<AddressAllowList> AddressAllowList::parse(const std::vector<std::string>& entries) {
  AddressAllowList list;
  for (const auto& e : entries) {
    if (e.empty()) continue;
    Block b;
    std::string address = e;
    int prefix = -1;
    if (auto slash = e.find('/'); slash != std::string::npos) {
      address = e.substr(0, slash);
      const auto digits = std::string_view(e).substr(slash + 1);
      auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
      if (ec != std::errc() || p != digits.data() + digits.size() || prefix < 0) {
        return Status::invalid_argument(fmt::format("'{}' is not an address or CIDR block (bad prefix length)", e));
      }
    }
    if (inet_pton(AF_INET, address.c_str(), b.bytes.data()) == 1) {
      b.v6 = false;
      if (prefix > 32) return Status::invalid_argument(fmt::format("'{}': an IPv4 prefix is at most 32 bits", e));
      b.prefix = prefix < 0 ? 32 : prefix;
    } else if (inet_pton(AF_INET6, address.c_str(), b.bytes.data()) == 1) {
      b.v6 = true;
      if (prefix > 128) return Status::invalid_argument(fmt::format("'{}': an IPv6 prefix is at most 128 bits", e));
      b.prefix = prefix < 0 ? 128 : prefix;
    } else {
      return Status::invalid_argument(
          fmt::format("'{}' is not an address or CIDR block (e.g. 10.0.0.0/8, 192.0.2.7, 2001:db8::/32)", e));
    }
    list.blocks_.push_back(b);
  }
  return list;
}

bool AddressAllowList::allows(const sockaddr* address) const {
  if (blocks_.empty()) return true;
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};
  if (!bytes_of(address, v6, bytes)) return false;
  for (const auto& b : blocks_) {
    if (b.v6 == v6 && prefix_equal(b.bytes, bytes, b.prefix)) return true;
  }
  return false;
}

std::string address_text(const sockaddr* address) {
  char text[INET6_ADDRSTRLEN] = {};
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};
  if (!bytes_of(address, v6, bytes)) return "?";
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), text, sizeof text);
  return text;
}

uint16_t address_port(const sockaddr* address) {
  if (address->sa_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(address)->sin_port);
  if (address->sa_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(address)->sin6_port);
  return 0;
}

}  // namespace seisvault::server
