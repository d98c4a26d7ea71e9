// libFuzzer target: storage::ChannelSelection::parse
// (storage/include/seisvault/storage/channel_selection.h), the selection
// text of every query, and ChannelSelection::matches.
//
// Checks, for text that parses:
//   - at least one pattern, every code at most 16 characters of the allowed
//     set (letters, digits, ? * _ - and \ for \xNN escapes);
//   - the patterns written back as text parse to the same patterns;
//   - each pattern matches a source id made from it (every '*' dropped,
//     every '?' made 'X', "--" the blank code);
// and matches() on the input itself as a source id does not crash.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "fuzz_check.h"
#include "pattern_instance.h"
#include "seisvault/storage/channel_selection.h"

namespace {

using seisvault::storage::ChannelSelection;
using seisvault::storage::SourcePattern;

bool allowed(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '?' || c == '*' ||
         c == '_' || c == '-' || c == '\\';
}

std::string field_text(const std::vector<std::string>& codes) {
  std::string out;
  for (const auto& c : codes) {
    if (!out.empty()) out += ',';
    out += c.empty() ? "--" : c;
  }
  return out;
}

std::string pattern_text(const SourcePattern& p) {
  return fmt::format("{}.{}.{}.{}", field_text(p.network), field_text(p.station), field_text(p.location),
                     field_text(p.channel));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = ChannelSelection::parse(text);
  // Whatever the text, asking whether it selects itself must not crash.
  ChannelSelection().matches(text);
  if (!parsed.ok()) {
    FUZZ_CHECK(!parsed.status().message().empty(), "a refusal without a message");
    return 0;
  }
  const ChannelSelection& sel = *parsed;
  sel.matches(text);
  FUZZ_CHECK(!sel.patterns().empty(), fmt::format("'{}' parses to no pattern", text));

  std::string rewritten;
  for (const auto& p : sel.patterns()) {
    for (const auto* field : {&p.network, &p.station, &p.location, &p.channel}) {
      FUZZ_CHECK(!field->empty(), fmt::format("'{}': a field without codes", text));
      for (const auto& code : *field) {
        FUZZ_CHECK(code.size() <= 16, fmt::format("'{}': code '{}' is longer than 16", text, code));
        for (char c : code) FUZZ_CHECK(allowed(c), fmt::format("'{}': code '{}' holds 0x{:02X}", text, code, c));
      }
    }
    const std::string id =
        fmt::format("{}.{}.{}.{}", pattern_instance(p.network.front()), pattern_instance(p.station.front()),
                    pattern_instance(p.location.front()), pattern_instance(p.channel.front()));
    FUZZ_CHECK(sel.matches(id), fmt::format("'{}' does not select '{}'", text, id));
    if (!rewritten.empty()) rewritten += ' ';
    rewritten += pattern_text(p);
  }

  const auto again = ChannelSelection::parse(rewritten);
  FUZZ_CHECK(again.ok(), fmt::format("'{}' written back as '{}' does not parse: {}", text, rewritten,
                                     again.ok() ? "" : again.status().message()));
  FUZZ_CHECK(again->patterns().size() == sel.patterns().size(), fmt::format("'{}' -> '{}': pattern count", text, rewritten));
  for (size_t i = 0; i < sel.patterns().size(); ++i) {
    const auto& a = sel.patterns()[i];
    const auto& b = again->patterns()[i];
    FUZZ_CHECK(a.network == b.network && a.station == b.station && a.location == b.location && a.channel == b.channel,
               fmt::format("'{}' -> '{}': pattern {} differs after the round trip", text, rewritten, i));
  }
  return 0;
}
