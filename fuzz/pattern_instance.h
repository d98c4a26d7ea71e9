// A text a SEED wildcard pattern must match: its '*'s dropped (they match
// nothing too) and each '?' replaced by 'X'. Used by the fuzzers of the
// pattern parsers to check that a pattern selects what it describes.
#pragma once

#include <string>
#include <string_view>

inline std::string pattern_instance(std::string_view pattern) {
  std::string out;
  for (char c : pattern) {
    if (c == '*') continue;
    out += c == '?' ? 'X' : c;
  }
  return out;
}
