// SeedLink stream selectors (the argument of SELECT) and their matching.
//
// A selector narrows which streams of a requested station a client receives.
// Two syntaxes exist, one per protocol version; a Selector remembers which one
// it was written in and matches accordingly.
//
//   v3  [!][LL]CCC[.T]    LL location, CCC SEED channel, T record type, one of
//                         D E C T L O ("data, event, calibration, timing, log,
//                         opaque"). "LL", ".T" and "LLCCC." may be omitted,
//                         meaning "any": "BHZ", "00BHZ", "??BH?", "BH?.D",
//                         ".D" and "D" are all selectors. "--" as LL means the
//                         blank location. '?' matches one character, '*' any
//                         run (a ringserver extension).
//   v4  [!]LOC_B_S_SS[.FS][:filter]
//                         a glob over the FDSN stream ID "LOC_B_S_SS" (blank
//                         location: "_B_H_Z"), anchored at both ends; ".FS" a
//                         glob over the two characters format+subformat
//                         ("2D"), anchored at the start only ("2" matches
//                         "2D"); ":filter" ("native", "3") asks for a
//                         conversion and must not follow '!'.
//
// Semantics (SeisComP seedlink docs, FDSN SeedLink 4 "SELECT"): a stream is
// selected when it matches at least one positive selector, or there is none,
// and matches no negative ("!") selector.
//
// Choices made where the sources differ, and why:
//  * Blank location in v3: the records are miniSEED 2, whose blank location is
//    two spaces, and SeisComP compares the selector with that fixed-width
//    field; so "??BHZ" also matches a blank location (as in SeisComP), while
//    "--BHZ" matches only the blank one (libslink's convention). ringserver
//    turns "??" into a regex ".." that never matches a blank location.
//  * Matching is ASCII case-insensitive (SEED codes are upper case; clients
//    type what they type). ringserver's regexes are case-sensitive.
//  * A v4 stream pattern with neither '_' nor '*' ("BHZ") can never match a
//    LOC_B_S_SS stream ID; it is refused with a hint instead of silently
//    selecting nothing.
//
// Sources checked: FDSN SeedLink 4 protocol.rst (FDSN/SeedLink, "Pattern
// matching", "SELECT", packet format table for the subformat codes);
// SeisComP/seedlink apps/seedlink/descriptions/seedlink.rst (v3 SELECT,
// "LLCCC.T", DECOTL); EarthScope/ringserver src/slclient.c (SELECT handling,
// v3 "LLCCC"/"CCC" to v4 conversion, negated selectors, ':' filters,
// VALIDSELECTCHARS); EarthScope/libslink slutils.c sl_v3to4selector ("--"
// for the blank location, "BHZ" -> "*_B_H_Z").
//
// Thread-safety: Selector and SelectorList are values; const methods may be
// called from many threads at once. Matching never allocates.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "seisvault/common/status.h"

namespace seisvault::server::seedlink {

// True when `text` matches the glob `pattern` ('?' one character, '*' any run,
// possibly empty), the whole of both, ASCII case-insensitively. Allocation-free.
bool glob_match(std::string_view pattern, std::string_view text);

// Which protocol version's syntax a selector was written in.
enum class SelectorSyntax { kV3, kV4 };

class Selector {
 public:
  // Longest selector text accepted (the longest sensible v4 one,
  // "!??_?_??_???.??:native", is far shorter).
  static constexpr size_t kMaxLength = 64;

  // Parses a v3 selector "[!][LL]CCC[.T]". InvalidArgument, with what is wrong,
  // for anything else (wrong length, bad characters, unknown type letter).
  static Result<Selector> parse_v3(std::string_view text);

  // Parses a v4 selector "[!]LOC_B_S_SS[.FS][:filter]". InvalidArgument, with
  // what is wrong, for anything else.
  static Result<Selector> parse_v4(std::string_view text);

  // Whether the stream is matched by this selector, ignoring negation (a "!"
  // selector "matches" the streams it excludes).
  //   location  the location code, "" when blank ("  " and "--" are also
  //             taken as blank)
  //   channel   the SEED channel, e.g. "BHZ" (a channel already written as
  //             "B_H_Z" is also understood)
  //   type      the record type / v4 subformat: 'D' data, 'E' event,
  //             'C' calibration, 'T' timing, 'L' log, 'O' opaque
  //   format    the v4 payload format: '2' miniSEED 2, '3' miniSEED 3 (v3
  //             selectors ignore it)
  bool matches(std::string_view location, std::string_view channel, char type, char format = '2') const;

  bool negated() const { return negated_; }
  SelectorSyntax syntax() const { return syntax_; }
  // The selector as given, upper-cased (the filter keeps its case).
  const std::string& text() const { return text_; }
  // The v4 ":filter" without the colon ("native", "3"); empty when none.
  const std::string& filter() const { return filter_; }

 private:
  Selector() = default;

  SelectorSyntax syntax_ = SelectorSyntax::kV3;
  bool negated_ = false;
  std::string text_;
  // v3: globs over the location padded to two characters ("  " when blank)
  // and over the channel; empty means "any". type_ 0 or '?' means any type.
  bool any_location_ = true;
  std::string location_;
  std::string channel_;
  char type_ = 0;
  // v4: glob over "LOC_B_S_SS"; glob over format+subformat with a trailing
  // '*' already added (anchored at the start only); empty means any.
  std::string stream_;
  std::string format_;
  std::string filter_;
};

// The selectors of one requested station (or of the whole connection when no
// STATION was given), with the SeedLink "any positive, no negative" rule.
class SelectorList {
 public:
  // Most selectors kept per list; the protocol lets a server limit them
  // ("LIMIT" in v4) to bound the per-record matching cost.
  static constexpr size_t kMaxSelectors = 64;

  // Adds a selector. ResourceExhausted once kMaxSelectors are held; the list
  // is then unchanged.
  Status add(Selector selector);

  // Forgets every selector (a v3 SELECT without an argument does this).
  void clear();

  bool empty() const { return positive_.empty() && negative_.empty(); }
  size_t size() const { return positive_.size() + negative_.size(); }

  // Whether the stream is selected: it matches a positive selector (or there
  // is none) and matches no negative one. An empty list selects everything.
  // Arguments as for Selector::matches. Allocation-free.
  bool matches(std::string_view location, std::string_view channel, char type, char format = '2') const;

  // The filter of the first positive selector, in the order added, that both
  // matches the stream and carries a filter (v4 "If a stream matches multiple
  // patterns with :filter suffix, the first match takes effect"); "" if none.
  std::string_view filter_for(std::string_view location, std::string_view channel, char type,
                              char format = '2') const;

 private:
  std::vector<Selector> positive_;
  std::vector<Selector> negative_;
};

}  // namespace seisvault::server::seedlink
