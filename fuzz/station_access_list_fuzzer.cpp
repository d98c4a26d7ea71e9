// libFuzzer target: StationAccessList::parse
// (common/include/seisvault/common/station_access_list.h), the
// authorized_stations file that decides which key may write what.
//
// Checks, for text that parses:
//   - every key is a Z85 public key, listed once, and is_listed() says so;
//   - every pattern is NET.STA (one dot, both sides non-empty) and the key
//     may write a station made from it (every '*' dropped, every '?' made
//     'X');
//   - a signing key is the text form of an Ed25519 key, never together
//     with allow-unsigned;
//   - to_text() parses back to the same entries (keys, patterns, comments,
//     signing key, allow-unsigned),
//     so that `seisvault authorize`, which rewrites the file, never changes
//     what an operator wrote by hand.
#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "fuzz_check.h"
#include "pattern_instance.h"
#include "seisvault/common/curve_keys.h"
#include "seisvault/common/signing_keys.h"
#include "seisvault/common/station_access_list.h"

using seisvault::StationAccessList;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = StationAccessList::parse(text);
  if (!parsed.ok()) {
    FUZZ_CHECK(!parsed.status().message().empty(), "a refusal without a message");
    return 0;
  }
  const StationAccessList& list = *parsed;
  std::set<std::string> keys;
  for (const auto& e : list.entries()) {
    FUZZ_CHECK(seisvault::is_z85_key(e.public_key), fmt::format("'{}' is not a Z85 key", e.public_key));
    FUZZ_CHECK(keys.insert(e.public_key).second, fmt::format("key {} listed twice", e.public_key));
    FUZZ_CHECK(list.is_listed(e.public_key), fmt::format("key {} is not listed", e.public_key));
    FUZZ_CHECK(!e.patterns.empty(), fmt::format("key {} has no patterns", e.public_key));
    FUZZ_CHECK(e.signing_key.empty() || seisvault::parse_signing_key_text(e.signing_key).ok(),
               fmt::format("key {}: signing key '{}' does not parse", e.public_key, e.signing_key));
    FUZZ_CHECK(e.signing_key.empty() || !e.allow_unsigned,
               fmt::format("key {}: a signing key and allow-unsigned", e.public_key));
    for (const auto& p : e.patterns) {
      const auto dot = p.find('.');
      FUZZ_CHECK(dot != std::string::npos && dot > 0 && dot + 1 < p.size() && p.find('.', dot + 1) == std::string::npos,
                 fmt::format("key {}: '{}' is not NET.STA", e.public_key, p));
      const std::string net = pattern_instance(p.substr(0, dot));
      const std::string sta = pattern_instance(p.substr(dot + 1));
      FUZZ_CHECK(list.may_write(e.public_key, net, sta),
                 fmt::format("key {} with pattern '{}' may not write {}.{}", e.public_key, p, net, sta));
    }
  }

  const std::string written = list.to_text();
  const auto again = StationAccessList::parse(written);
  FUZZ_CHECK(again.ok(), fmt::format("to_text() does not parse back: {}\n{}",
                                     again.ok() ? "" : again.status().message(), written));
  FUZZ_CHECK(again->entries().size() == list.entries().size(),
             fmt::format("{} entries written, {} read back", list.entries().size(), again->entries().size()));
  for (size_t i = 0; i < list.entries().size(); ++i) {
    const auto& a = list.entries()[i];
    const auto& b = again->entries()[i];
    FUZZ_CHECK(a.public_key == b.public_key && a.patterns == b.patterns,
               fmt::format("entry {} ({}) changes through to_text()", i, a.public_key));
    FUZZ_CHECK(a.comment == b.comment,
               fmt::format("entry {}: comment '{}' reads back as '{}'", i, a.comment, b.comment));
    FUZZ_CHECK(a.signing_key == b.signing_key && a.allow_unsigned == b.allow_unsigned,
               fmt::format("entry {} ({}): its signing changes through to_text()", i, a.public_key));
  }
  return 0;
}
