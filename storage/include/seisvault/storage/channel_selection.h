// ChannelSelection: which channels a read applies to, in FDSN terms.
//
// Each field (network, station, location, channel) holds one or more SEED
// patterns, where '?' matches one character and '*' any run of characters.
// A selection holds one or more such NET.STA.LOC.CHA patterns and matches a
// channel when any of them matches it. Matching is case-sensitive (SEED codes
// are upper case). "--" stands for an empty code (a blank location, as in
// FDSN, or the blank network of some legacy data). Source ids write bytes
// outside printable ASCII as \xNN; patterns may use the same escapes.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "seisvault/common/status.h"

namespace seisvault::storage {

struct SourcePattern {
  std::vector<std::string> network{"*"};
  std::vector<std::string> station{"*"};
  std::vector<std::string> location{"*"};
  std::vector<std::string> channel{"*"};
};

class ChannelSelection {
 public:
  // Everything.
  ChannelSelection() : patterns_{SourcePattern{}} {}
  explicit ChannelSelection(std::vector<SourcePattern> patterns) : patterns_(std::move(patterns)) {}

  // Parses "NET.STA.LOC.CHA" with wildcards and comma lists in any field,
  // and several such patterns separated by spaces or ';'
  // ("IU.ANMO,COLA.00.BH? CH.*.--.LH*"). Missing trailing fields mean "*".
  // Returns InvalidArgument naming the bad part otherwise.
  static Result<ChannelSelection> parse(std::string_view text);

  // The selection of one catalogued channel "NET.STA.LOC.CHA" (any code
  // possibly blank), built without parsing, so that blank codes need no
  // "--" and no code is read as a comma list. An id without four codes
  // selects nothing.
  static ChannelSelection exact(std::string_view source_id);

  // Whether a source id "NET.STA.LOC.CHA" is selected.
  bool matches(std::string_view source_id) const;

  const std::vector<SourcePattern>& patterns() const { return patterns_; }

 private:
  std::vector<SourcePattern> patterns_;
};

// SEED wildcard match of one code: '?' one character, '*' any run.
bool seed_pattern_matches(std::string_view pattern, std::string_view code);

// The four codes of a source id "NET.STA.LOC.CHA" (any may be empty), as
// views into it; nullopt when it does not have exactly three dots. Does not
// allocate.
std::optional<std::array<std::string_view, 4>> split_source_id(std::string_view source_id);

}  // namespace seisvault::storage
