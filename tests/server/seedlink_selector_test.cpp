// SeedLink selectors on their own: v3 "[!][LL]CCC[.T]" and v4
// "[!]LOC_B_S_SS[.FS][:filter]" parsing, matching tables for both, and the
// "any positive, no negative" rule of a selector list.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "seedlink_selector.h"

namespace sl = seisvault::server::seedlink;
using seisvault::StatusCode;

namespace {

sl::Selector v3(const char* text) {
  auto s = sl::Selector::parse_v3(text);
  INFO(text);
  REQUIRE(s.ok());
  return *s;
}

sl::Selector v4(const char* text) {
  auto s = sl::Selector::parse_v4(text);
  INFO(text);
  REQUIRE(s.ok());
  return *s;
}

struct Stream {
  const char* location;
  const char* channel;
  char type;
};

}  // namespace

TEST_CASE("glob matching: '?' is one character, '*' any run, case-insensitive, anchored", "[seedlink]") {
  CHECK(sl::glob_match("", ""));
  CHECK_FALSE(sl::glob_match("", "A"));
  CHECK(sl::glob_match("*", ""));
  CHECK(sl::glob_match("*", "ANYTHING"));
  CHECK(sl::glob_match("B?Z", "BHZ"));
  CHECK_FALSE(sl::glob_match("B?Z", "BZ"));
  CHECK(sl::glob_match("bh?", "BHZ"));
  CHECK(sl::glob_match("_*Z", "_B_H_Z"));          // the spec's example
  CHECK_FALSE(sl::glob_match("_*Z", "00_B_H_Z"));
  CHECK_FALSE(sl::glob_match("_*Z", "_B_Z_H"));
  CHECK(sl::glob_match("*_B_*_*", "00_B_H_Z"));
  CHECK(sl::glob_match("a*b*c", "aXXbYYbZZc"));
  CHECK_FALSE(sl::glob_match("a*b*c", "aXXbYYbZZ"));
  CHECK(sl::glob_match("**?", "X"));
  CHECK(sl::glob_match("??", "  "));
}

TEST_CASE("v3 selectors of every documented shape parse", "[seedlink]") {
  for (const char* text : {"BHZ", "00BHZ", "??BH?", "BH?.D", "00BHZ.D", "--LHZ", "--???", ".D", "D", "L", "!BHZ",
                           "!.E", "!10BH?.C", "bhz", "BH*", "BHZ.?"}) {
    INFO(text);
    auto s = sl::Selector::parse_v3(text);
    CHECK(s.ok());
  }
  const auto s = v3("!10bh?.d");
  CHECK(s.negated());
  CHECK(s.syntax() == sl::SelectorSyntax::kV3);
  CHECK(s.text() == "!10BH?.D");
}

TEST_CASE("malformed v3 selectors are refused with a reason", "[seedlink]") {
  for (const char* text : {"", "!", "!!BHZ", "BH", "BHZZ", "0BHZ", "000BHZ", "BHZ.", "BHZ.X", "BHZ.DD", ".",
                           "X", "B-Z", "-0BHZ", "00B_Z", "BH Z", "00BHZ.D.E", "BHZ!"}) {
    INFO(text);
    auto s = sl::Selector::parse_v3(text);
    CHECK_FALSE(s.ok());
    if (!s.ok()) {
      CHECK(s.status().code() == StatusCode::kInvalidArgument);
      CHECK_FALSE(s.status().message().empty());
    }
  }
  CHECK_FALSE(sl::Selector::parse_v3(std::string(65, 'A')).ok());
  CHECK_FALSE(sl::Selector::parse_v3(std::string("BH\0", 3)).ok());
  CHECK_FALSE(sl::Selector::parse_v3(std::string("BH\xff", 3)).ok());
  auto type = sl::Selector::parse_v3("BHZ.X");
  REQUIRE_FALSE(type.ok());
  CHECK_THAT(type.status().message(), Catch::Contains("type"));
}

TEST_CASE("v3 selectors match location, channel and record type", "[seedlink]") {
  struct Case {
    const char* selector;
    Stream stream;
    bool match;
  };
  const std::vector<Case> table = {
      // channel only: any location, any type
      {"BHZ", {"", "BHZ", 'D'}, true},
      {"BHZ", {"00", "BHZ", 'D'}, true},
      {"BHZ", {"10", "BHZ", 'E'}, true},
      {"BHZ", {"00", "BHN", 'D'}, false},
      {"BH?", {"00", "BHN", 'D'}, true},
      {"B??", {"00", "LHZ", 'D'}, false},
      {"bhz", {"00", "BHZ", 'D'}, true},
      {"BHZ", {"00", "bhz", 'D'}, true},
      {"BH*", {"", "BHZ", 'D'}, true},
      // location + channel
      {"00BHZ", {"00", "BHZ", 'D'}, true},
      {"00BHZ", {"10", "BHZ", 'D'}, false},
      {"00BHZ", {"", "BHZ", 'D'}, false},
      {"?0BHZ", {"10", "BHZ", 'D'}, true},
      {"?0BHZ", {"", "BHZ", 'D'}, false},
      // "??" is any two characters, the blank "  " of miniSEED 2 included (SeisComP)
      {"??BHZ", {"", "BHZ", 'D'}, true},
      {"??BHZ", {"00", "BHZ", 'D'}, true},
      {"??BH?", {"10", "BHE", 'D'}, true},
      // "--" is the blank location only (libslink)
      {"--BHZ", {"", "BHZ", 'D'}, true},
      {"--BHZ", {"  ", "BHZ", 'D'}, true},
      {"--BHZ", {"--", "BHZ", 'D'}, true},
      {"--BHZ", {"00", "BHZ", 'D'}, false},
      {"--???", {"", "LHN", 'D'}, true},
      // a one-character location is blank-padded, as miniSEED 2 writes it
      {"0?BHZ", {"0", "BHZ", 'D'}, true},
      // type
      {"BHZ.D", {"00", "BHZ", 'D'}, true},
      {"BHZ.D", {"00", "BHZ", 'E'}, false},
      {"BHZ.d", {"00", "BHZ", 'D'}, true},
      {"BHZ.D", {"00", "BHZ", 'd'}, true},
      {"BHZ.?", {"00", "BHZ", 'L'}, true},
      {".E", {"00", "BHZ", 'E'}, true},
      {".E", {"00", "BHZ", 'D'}, false},
      {"L", {"", "LOG", 'L'}, true},
      {"L", {"", "LOG", 'D'}, false},
      // a channel written the v4 way is understood
      {"BHZ", {"00", "B_H_Z", 'D'}, true},
  };
  for (const auto& c : table) {
    INFO(c.selector << " vs loc '" << c.stream.location << "' cha " << c.stream.channel << " type " << c.stream.type);
    CHECK(v3(c.selector).matches(c.stream.location, c.stream.channel, c.stream.type) == c.match);
  }
}

TEST_CASE("v4 selectors of the spec's shapes parse, filters kept", "[seedlink]") {
  for (const char* text : {"00_B_H_Z", "*_B_H_?", "_B*", "!*.*E", "*.*O:native", "*:3", "*_B_H_?.2D", "*_H_H_?:native",
                           "*_B_*_*", "*_B_*", "*_B*", "!00_L_*_*", "_B_H_Z.2", "*.2?", "*_*_*_*.3D"}) {
    INFO(text);
    CHECK(sl::Selector::parse_v4(text).ok());
  }
  const auto native = v4("*.*o:native");
  CHECK(native.filter() == "native");
  CHECK_FALSE(native.negated());
  CHECK(native.text() == "*.*O:native");
  const auto neg = v4("!*.*E");
  CHECK(neg.negated());
  CHECK(neg.filter().empty());
  CHECK(neg.syntax() == sl::SelectorSyntax::kV4);
}

TEST_CASE("malformed v4 selectors are refused with a reason", "[seedlink]") {
  for (const char* text : {"", "!", ".2D", "00_B_H_Z.", "*:", "!*:3", "BHZ", "00BHZ", "??BH?", "00_B_H_Z.2D.E",
                           "00-B-H-Z", "00_B_H_Z.2DDDD", "00_B H_Z", "*:na tive", "*:nat.ive", "00_B_H_Z.2-"}) {
    INFO(text);
    auto s = sl::Selector::parse_v4(text);
    CHECK_FALSE(s.ok());
    if (!s.ok()) CHECK(s.status().code() == StatusCode::kInvalidArgument);
  }
  CHECK_FALSE(sl::Selector::parse_v4(std::string(65, '*')).ok());
  CHECK_FALSE(sl::Selector::parse_v4(std::string("*_B\0", 4)).ok());
  auto v3ish = sl::Selector::parse_v4("BHZ");
  REQUIRE_FALSE(v3ish.ok());
  CHECK_THAT(v3ish.status().message(), Catch::Contains("LOC_B_S_SS"));
  auto negfilter = sl::Selector::parse_v4("!*:3");
  REQUIRE_FALSE(negfilter.ok());
  CHECK_THAT(negfilter.status().message(), Catch::Contains("'!'"));
}

TEST_CASE("v4 selectors match the LOC_B_S_SS stream ID and the format+subformat prefix", "[seedlink]") {
  struct Case {
    const char* selector;
    Stream stream;
    char format;
    bool match;
  };
  const std::vector<Case> table = {
      {"00_B_H_Z", {"00", "BHZ", 'D'}, '2', true},
      {"00_B_H_Z", {"10", "BHZ", 'D'}, '2', false},
      {"00_B_H_Z", {"", "BHZ", 'D'}, '2', false},
      {"*_B_H_?", {"", "BHN", 'D'}, '2', true},
      {"*_B_H_?", {"00", "BHE", 'D'}, '2', true},
      {"*_B_H_?", {"00", "HHE", 'D'}, '2', false},
      // blank location is the empty string before the first '_'
      {"_B_H_Z", {"", "BHZ", 'D'}, '2', true},
      {"_B_H_Z", {"  ", "BHZ", 'D'}, '2', true},
      {"_B_H_Z", {"--", "BHZ", 'D'}, '2', true},
      {"_B_H_Z", {"00", "BHZ", 'D'}, '2', false},
      // the spec's examples: "_*Z" and "_B*"
      {"_*Z", {"", "BHZ", 'D'}, '2', true},
      {"_*Z", {"00", "BHZ", 'D'}, '2', false},
      {"_*Z", {"", "BZH", 'D'}, '2', false},
      {"_B*", {"", "BHZ", 'D'}, '2', true},
      {"_B*", {"", "HHZ", 'D'}, '2', false},
      {"*_B_*_*", {"00", "BHZ", 'D'}, '2', true},
      {"*_B_*_*", {"00", "HBZ", 'D'}, '2', false},
      {"*_B_*", {"00", "HBZ", 'D'}, '2', true},   // band B or source B
      {"*_B*", {"00", "HHB", 'D'}, '2', true},    // band, source or subsource B
      {"*_b_h_z", {"00", "BHZ", 'D'}, '2', true},
      // format and subformat: anchored at the start only
      {"*.2", {"00", "BHZ", 'D'}, '2', true},
      {"*.2", {"00", "BHZ", 'D'}, '3', false},
      {"*.2D", {"00", "BHZ", 'D'}, '2', true},
      {"*.2D", {"00", "BHZ", 'E'}, '2', false},
      {"*.*E", {"00", "BHZ", 'E'}, '2', true},
      {"*.*E", {"00", "BHZ", 'D'}, '2', false},
      {"*.?O", {"", "OCF", 'O'}, '2', true},
      {"*.D", {"00", "BHZ", 'D'}, '2', false},    // "D" is not a format
      // a channel already in FDSN form, or longer than SEED's three characters
      {"00_B_H_Z", {"00", "B_H_Z", 'D'}, '2', true},
      {"*_B_H_ZZ", {"00", "B_H_ZZ", 'D'}, '3', true},
  };
  for (const auto& c : table) {
    INFO(c.selector << " vs loc '" << c.stream.location << "' cha " << c.stream.channel << " " << c.format
                    << c.stream.type);
    CHECK(v4(c.selector).matches(c.stream.location, c.stream.channel, c.stream.type, c.format) == c.match);
  }
}

TEST_CASE("a selector list selects everything when empty, positives when given, minus negatives", "[seedlink]") {
  sl::SelectorList list;
  CHECK(list.empty());
  CHECK(list.matches("00", "BHZ", 'D'));
  CHECK(list.matches("", "LOG", 'L'));

  // Only negatives: everything except what they exclude (ringserver).
  REQUIRE(list.add(v3("!LHZ")).ok());
  CHECK(list.matches("00", "BHZ", 'D'));
  CHECK_FALSE(list.matches("00", "LHZ", 'D'));

  // A positive narrows to what it matches; the negative still excludes.
  REQUIRE(list.add(v3("??BH?")).ok());
  REQUIRE(list.add(v3("!10BHE")).ok());
  CHECK(list.size() == 3);
  CHECK(list.matches("00", "BHZ", 'D'));
  CHECK(list.matches("10", "BHN", 'D'));
  CHECK_FALSE(list.matches("10", "BHE", 'D'));
  CHECK_FALSE(list.matches("00", "HHZ", 'D'));

  // Several positives: any one of them suffices.
  REQUIRE(list.add(v3("HHZ.D")).ok());
  CHECK(list.matches("00", "HHZ", 'D'));
  CHECK_FALSE(list.matches("00", "HHZ", 'L'));

  list.clear();  // a v3 SELECT without a pattern
  CHECK(list.empty());
  CHECK(list.matches("10", "BHE", 'D'));
}

TEST_CASE("a v4 selector list follows the spec's example: empty location and band B, no events", "[seedlink]") {
  sl::SelectorList list;
  REQUIRE(list.add(v4("_B*")).ok());
  REQUIRE(list.add(v4("!*.*E")).ok());
  CHECK(list.matches("", "BHZ", 'D'));
  CHECK_FALSE(list.matches("", "BHZ", 'E'));
  CHECK_FALSE(list.matches("00", "BHZ", 'D'));
  CHECK_FALSE(list.matches("", "HHZ", 'D'));
}

TEST_CASE("the first matching positive selector with a filter decides the conversion", "[seedlink]") {
  sl::SelectorList list;
  REQUIRE(list.add(v4("*.*O:native")).ok());
  REQUIRE(list.add(v4("*:3")).ok());
  REQUIRE(list.add(v4("!*.*L")).ok());
  CHECK(list.filter_for("", "OCF", 'O') == "native");   // the spec's example
  CHECK(list.filter_for("00", "BHZ", 'D') == "3");
  CHECK(list.filter_for("00", "LOG", 'L') == "3");       // filter_for ignores negation; matches() decides
  CHECK_FALSE(list.matches("00", "LOG", 'L'));

  sl::SelectorList plain;
  REQUIRE(plain.add(v4("*_B_H_?")).ok());
  CHECK(plain.filter_for("00", "BHZ", 'D').empty());
}

TEST_CASE("a selector list refuses more than kMaxSelectors selectors and stays unchanged", "[seedlink]") {
  sl::SelectorList list;
  for (size_t i = 0; i < sl::SelectorList::kMaxSelectors; ++i) REQUIRE(list.add(v3("BHZ")).ok());
  const auto s = list.add(v3("!LHZ"));
  CHECK(s.code() == StatusCode::kResourceExhausted);
  CHECK(list.size() == sl::SelectorList::kMaxSelectors);
  CHECK(list.matches("00", "LHZ", 'D') == false);  // only BHZ positives: LHZ not selected anyway
  CHECK(list.matches("00", "BHZ", 'D'));
}

TEST_CASE("v3 and v4 spellings of the same request select the same streams", "[seedlink]") {
  // libslink's sl_v3to4selector conversions: 00BHZ -> 00_B_H_Z, BHZ -> *_B_H_Z,
  // EH?.D -> *_E_H_?.D (the type becomes the subformat), --BHZ -> _B_H_Z.
  const std::vector<std::pair<const char*, const char*>> pairs = {
      {"00BHZ", "00_B_H_Z"}, {"BHZ", "*_B_H_Z"}, {"EH?.D", "*_E_H_?.?D"}, {"--BHZ", "_B_H_Z"}};
  const std::vector<Stream> streams = {{"", "BHZ", 'D'},  {"00", "BHZ", 'D'}, {"10", "BHZ", 'D'},
                                       {"00", "EHN", 'D'}, {"00", "EHN", 'E'}, {"", "LHZ", 'D'}};
  for (const auto& [old_style, new_style] : pairs) {
    const auto a = v3(old_style);
    const auto b = v4(new_style);
    for (const auto& s : streams) {
      INFO(old_style << " / " << new_style << " vs '" << s.location << "' " << s.channel << " " << s.type);
      CHECK(a.matches(s.location, s.channel, s.type) == b.matches(s.location, s.channel, s.type, '2'));
    }
  }
}
