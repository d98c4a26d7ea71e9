// ASCII helpers for the SeedLink command and selector parsers (locale-free:
// SeedLink is ASCII, and a client's bytes must not change meaning with the
// server's locale). Internal to server/.
#pragma once

#include <string>
#include <string_view>

namespace seisvault::server::seedlink {

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline bool is_alnum(char c) { return is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
inline char to_upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

inline std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = to_upper(c);
  return out;
}

// Peer text made safe to echo in a log line or an ERROR reply: printable
// ASCII only, at most 40 characters.
inline std::string printable(std::string_view s) {
  constexpr size_t kMax = 40;
  std::string out;
  for (size_t i = 0; i < s.size() && i < kMax; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    out += (c >= 0x20 && c < 0x7F) ? static_cast<char>(c) : '?';
  }
  if (s.size() > kMax) out += "...";
  return out;
}

}  // namespace seisvault::server::seedlink
