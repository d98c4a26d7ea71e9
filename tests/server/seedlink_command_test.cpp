// SeedLink command lines on their own: line splitting (the quirks real clients
// send: ObsPy's bare CR, libslink's CRLF, garbage), verbs, and the arguments of
// STATION, DATA, FETCH, TIME and SLPROTO for v3 and v4.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "seedlink_command.h"
#include "seisvault/common/time.h"

namespace sl = seisvault::server::seedlink;
using seisvault::StatusCode;
using seisvault::TimeNs;

namespace {

// Every event the reader yields: lines as they are, "<too long>" for errors.
std::vector<std::string> drain(sl::LineReader& reader) {
  std::vector<std::string> out;
  while (true) {
    auto next = reader.next_line();
    if (!next.ok()) {
      CHECK(next.status().code() == StatusCode::kResourceExhausted);
      out.emplace_back("<too long>");
      continue;
    }
    if (!next->has_value()) break;
    out.push_back(**next);
  }
  return out;
}

std::vector<std::string> lines_of(std::string_view bytes) {
  sl::LineReader reader;
  reader.feed(bytes);
  return drain(reader);
}

TimeNs iso(const char* text) {
  auto t = seisvault::parse_iso8601(text);
  REQUIRE(t.ok());
  return *t;
}

}  // namespace

// --- LineReader -----------------------------------------------------------------

TEST_CASE("a bare CR, a bare LF and a CRLF each end exactly one line", "[seedlink]") {
  using V = std::vector<std::string>;
  CHECK(lines_of("HELLO\r") == V{"HELLO"});                     // ObsPy
  CHECK(lines_of("HELLO\n") == V{"HELLO"});
  CHECK(lines_of("HELLO\r\n") == V{"HELLO"});                   // libslink v3
  CHECK(lines_of("HELLO\r\nSLPROTO 4.0\rEND\n") == V{"HELLO", "SLPROTO 4.0", "END"});
  CHECK(lines_of("HELLO") == V{});                             // not complete yet
}

TEST_CASE("a CRLF split across two reads does not produce an extra empty line", "[seedlink]") {
  sl::LineReader reader;
  reader.feed("STATION ANMO IU\r");
  CHECK(drain(reader) == std::vector<std::string>{"STATION ANMO IU"});
  reader.feed("\nSELECT BHZ\r");
  CHECK(drain(reader) == std::vector<std::string>{"SELECT BHZ"});
}

TEST_CASE("a command arriving one byte at a time is assembled", "[seedlink]") {
  sl::LineReader reader;
  const std::string text = "DATA 0x1a2b 2008,10,1,12,30,35\r\nEND\r\n";
  for (char c : text) reader.feed(std::string_view(&c, 1));
  CHECK(drain(reader) == std::vector<std::string>{"DATA 0x1a2b 2008,10,1,12,30,35", "END"});
}

TEST_CASE("empty and blank lines are skipped", "[seedlink]") {
  using V = std::vector<std::string>;
  CHECK(lines_of("\r\n\r\n\n\r\r") == V{});
  CHECK(lines_of("HELLO\r\r\nEND\n\r") == V{"HELLO", "END"});   // CR CR LF: one line
  CHECK(lines_of("  \t \r\nBYE\r\n") == V{"BYE"});
}

TEST_CASE("a line of 255 characters is accepted and one of 256 is reported too long", "[seedlink]") {
  const std::string ok = "USERAGENT " + std::string(245, 'x');
  REQUIRE(ok.size() == 255);
  CHECK(lines_of(ok + "\r\n") == std::vector<std::string>{ok});
  CHECK(lines_of(ok + "y\r\nHELLO\r\n") == std::vector<std::string>{"<too long>", "HELLO"});
}

TEST_CASE("an overlong line is reported once and discarded through its terminator, across reads", "[seedlink]") {
  sl::LineReader reader;
  reader.feed("HELLO\r\n");
  reader.feed(std::string(200, 'A'));
  CHECK(drain(reader) == std::vector<std::string>{"HELLO"});
  reader.feed(std::string(200, 'B'));
  CHECK(drain(reader) == std::vector<std::string>{"<too long>"});
  reader.feed(std::string(5000, 'C'));
  CHECK(drain(reader).empty());
  reader.feed("tail of the long line\r\nEND\r\n");
  CHECK(drain(reader) == std::vector<std::string>{"END"});
}

TEST_CASE("memory stays bounded when a peer sends megabytes without a line end", "[seedlink]") {
  sl::LineReader reader;
  const std::string chunk(64 * 1024, 'Z');
  for (int i = 0; i < 64; ++i) reader.feed(chunk);  // 4 MiB
  CHECK(reader.pending() == 1);                     // one too-long report, no data held
  CHECK(drain(reader) == std::vector<std::string>{"<too long>"});
  reader.feed("\nHELLO\n");
  CHECK(drain(reader) == std::vector<std::string>{"HELLO"});
}

TEST_CASE("an unterminated line can be taken once the peer goes quiet (old libslink ENDFETCH)", "[seedlink]") {
  sl::LineReader reader;
  reader.feed("DATA\rENDFETCH");
  CHECK(drain(reader) == std::vector<std::string>{"DATA"});
  CHECK(reader.take_unterminated() == std::optional<std::string>("ENDFETCH"));
  CHECK_FALSE(reader.take_unterminated().has_value());
  reader.feed("\r\nBYE\r\n");  // a late terminator yields no extra line
  CHECK(drain(reader) == std::vector<std::string>{"BYE"});
  reader.feed(" \t");
  CHECK_FALSE(reader.take_unterminated().has_value());  // blank
  reader.feed(std::string(300, 'x'));
  CHECK(drain(reader) == std::vector<std::string>{"<too long>"});
  CHECK_FALSE(reader.take_unterminated().has_value());  // being discarded
}

TEST_CASE("garbage bytes, NUL and 0xFF included, are passed on inside the line", "[seedlink]") {
  const std::string garbage("\x00\xff\x01HELLO\xfe", 9);
  const auto lines = lines_of(garbage + "\r\n");
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == garbage);
  CHECK(sl::parse_command(lines[0]).verb == sl::Verb::kUnknown);
}

// --- parse_command --------------------------------------------------------------

TEST_CASE("every SeedLink verb is recognised in any case", "[seedlink]") {
  const std::vector<std::pair<const char*, sl::Verb>> table = {
      {"HELLO", sl::Verb::kHello},         {"slproto", sl::Verb::kSlproto},
      {"Capabilities", sl::Verb::kCapabilities}, {"GETCAPABILITIES", sl::Verb::kGetCapabilities},
      {"useragent", sl::Verb::kUserAgent}, {"AUTH", sl::Verb::kAuth},
      {"station", sl::Verb::kStation},     {"SeLeCt", sl::Verb::kSelect},
      {"data", sl::Verb::kData},           {"FETCH", sl::Verb::kFetch},
      {"time", sl::Verb::kTime},           {"END", sl::Verb::kEnd},
      {"endfetch", sl::Verb::kEndFetch},   {"INFO", sl::Verb::kInfo},
      {"batch", sl::Verb::kBatch},         {"BYE", sl::Verb::kBye},
      {"cat", sl::Verb::kCat},             {"GET", sl::Verb::kHttp},
      {"post", sl::Verb::kHttp},           {"OPTIONS", sl::Verb::kHttp},
  };
  for (const auto& [word, verb] : table) {
    INFO(word);
    const auto cmd = sl::parse_command(word);
    CHECK(cmd.verb == verb);
    CHECK(cmd.word == word);
    CHECK(cmd.args.empty());
  }
}

TEST_CASE("verb_name names every verb in upper case", "[seedlink]") {
  CHECK(sl::verb_name(sl::Verb::kHello) == "HELLO");
  CHECK(sl::verb_name(sl::Verb::kEndFetch) == "ENDFETCH");
  CHECK(sl::verb_name(sl::Verb::kGetCapabilities) == "GETCAPABILITIES");
  CHECK(sl::verb_name(sl::Verb::kUnknown) == "UNKNOWN");
  CHECK(sl::verb_name(sl::Verb::kHttp) == "HTTP");
  for (const char* word : {"HELLO", "SLPROTO", "CAPABILITIES", "USERAGENT", "AUTH", "STATION", "SELECT", "DATA",
                           "FETCH", "TIME", "END", "INFO", "BATCH", "BYE", "CAT"}) {
    CHECK(sl::verb_name(sl::parse_command(word).verb) == word);
  }
}

TEST_CASE("arguments are split on runs of spaces and tabs, outer blanks ignored", "[seedlink]") {
  const auto obspy = sl::parse_command("STATION  ANMO IU");  // ObsPy's two spaces
  CHECK(obspy.verb == sl::Verb::kStation);
  CHECK(obspy.args == std::vector<std::string>{"ANMO", "IU"});
  CHECK(obspy.raw == "STATION  ANMO IU");

  const auto messy = sl::parse_command(" \t data \t 1A2B\t\t 2024,1,2,3,4,5   ");
  CHECK(messy.verb == sl::Verb::kData);
  CHECK(messy.word == "data");
  CHECK(messy.args == std::vector<std::string>{"1A2B", "2024,1,2,3,4,5"});
}

TEST_CASE("an unknown or partial verb is kUnknown, never a prefix match", "[seedlink]") {
  for (const char* line : {"HELLOX", "HELL", "ENDX", "INFOSTREAMS", "DAT 1", "SELECTBHZ", "", "   "}) {
    INFO(line);
    CHECK(sl::parse_command(line).verb == sl::Verb::kUnknown);
  }
  const auto blank = sl::parse_command("   ");
  CHECK(blank.word.empty());
  CHECK(blank.args.empty());
}

// --- Sequences ------------------------------------------------------------------

TEST_CASE("a v3 sequence is hex, with or without ObsPy's 0x prefix", "[seedlink]") {
  const std::vector<std::pair<const char*, uint64_t>> ok = {
      {"0", 0},           {"1A2B", 0x1A2B},         {"1a2b", 0x1A2B},     {"0x1a2b", 0x1A2B},
      {"0X00FFFF", 0xFFFF}, {"FFFFFF", 0xFFFFFF},   {"000001", 1},        {"1000001", 0x1000001},
      {"FFFFFFFFFFFFFFFF", 0xFFFFFFFFFFFFFFFFull},
  };
  for (const auto& [text, value] : ok) {
    INFO(text);
    auto r = sl::parse_v3_sequence(text);
    REQUIRE(r.ok());
    CHECK(*r == value);
  }
  // libslink/ringserver keep the low 24 bits of what is sent.
  CHECK((*sl::parse_v3_sequence("1000001") & sl::kV3SequenceMask) == 1);
  for (const char* bad : {"", "0x", "0X", "G1", "12 3", "-1", "+1", "0x-1", "1.5", "10000000000000000", "x12"}) {
    INFO(bad);
    auto r = sl::parse_v3_sequence(bad);
    CHECK_FALSE(r.ok());
    if (!r.ok()) CHECK(r.status().code() == StatusCode::kInvalidArgument);
  }
}

TEST_CASE("a v4 sequence is decimal, -1 (next) or ALL", "[seedlink]") {
  using Kind = sl::V4Sequence::Kind;
  CHECK(sl::parse_v4_sequence("-1")->kind == Kind::kNext);
  CHECK(sl::parse_v4_sequence("ALL")->kind == Kind::kAll);
  CHECK(sl::parse_v4_sequence("all")->kind == Kind::kAll);
  auto v = sl::parse_v4_sequence("1405339897");
  REQUIRE(v.ok());
  CHECK(v->kind == Kind::kValue);
  CHECK(v->value == 1405339897u);
  CHECK(sl::parse_v4_sequence("0")->value == 0u);
  CHECK(sl::parse_v4_sequence("18446744073709551615")->value == 18446744073709551615ull);
  for (const char* bad : {"", "18446744073709551616", "99999999999999999999", "-2", "+5", "0x10", "1A", "ALLX",
                          "12 3", "1.0", "-"}) {
    INFO(bad);
    CHECK_FALSE(sl::parse_v4_sequence(bad).ok());
  }
}

// --- Times ----------------------------------------------------------------------

TEST_CASE("v3 times need not be zero-padded and v4 times are ISO 8601", "[seedlink]") {
  const std::vector<std::pair<const char*, const char*>> ok = {
      {"2008,10,1,12,30,35", "2008-10-01T12:30:35Z"},       // ObsPy format_seedlink()
      {"2002,08,05,14,00,00", "2002-08-05T14:00:00Z"},      // SeisComP manual
      {"2024,1,2,3,4,5", "2024-01-02T03:04:05Z"},
      {"2024,01,01,00,00,00", "2024-01-01T00:00:00Z"},      // libslink sl_commadatetime()
      {"2024-05-01T12:00:00Z", "2024-05-01T12:00:00Z"},     // v4 spec
      {"2024-05-01T12:00:00.5Z", "2024-05-01T12:00:00.5Z"},
      {"2024-05-01T12:00:00.123456Z", "2024-05-01T12:00:00.123456Z"},
      {"2024-05-01T12:00:00.123456789", "2024-05-01T12:00:00.123456789Z"},
      {"2024-05-01T12:00:00.1234567891", "2024-05-01T12:00:00.123456789Z"},  // past ns: dropped
      {"2024-05-01t12:00:00z", "2024-05-01T12:00:00Z"},
      {"2024-05-01", "2024-05-01T00:00:00Z"},
      {"2024/05/01", "2024-05-01T00:00:00Z"},
      {"2024", "2024-01-01T00:00:00Z"},
      {"2024-05-01T12", "2024-05-01T12:00:00Z"},
      {"2024,5,1,12,30", "2024-05-01T12:30:00Z"},
      {"2024.05.01.12.30.15", "2024-05-01T12:30:15Z"},
      {"2024,5,1,12,30,15.25", "2024-05-01T12:30:15.25Z"},
      {"2024-02-29T00:00:00Z", "2024-02-29T00:00:00Z"},
      {"1970,1,1,0,0,0", "1970-01-01T00:00:00Z"},
      {"1969-12-31T23:59:59.5Z", "1969-12-31T23:59:59.5Z"},
      {"2016,12,31,23,59,60", "2017-01-01T00:00:00Z"},      // leap second notation, as libmseed
  };
  for (const auto& [text, expected] : ok) {
    INFO(text);
    auto t = sl::parse_seedlink_time(text);
    REQUIRE(t.ok());
    CHECK(*t == iso(expected));
  }
}

TEST_CASE("malformed or out-of-range times are refused with a reason", "[seedlink]") {
  for (const char* bad : {"", "Z", "24,1,1,0,0,0", "20240,1,1", "2024,13,1", "2024,0,1", "2024,2,30",
                          "2023-02-29", "2024,1,32", "2024,1,1,24,0,0", "2024,1,1,0,60,0", "2024,1,1,0,0,61",
                          "2024,1,1,0,0,0,5", "2024,1,1,0,0,0.", "2024-05-01T12:00:00.5X", "2024-05-01 12:00",
                          "2024-05-01T", "2024--05-01", "2024-005-01", "2024-05-01x12:00:00", "2024T05-01",
                          "1600-01-01", "2300-01-01", "now", "2024-05-01T12:00:00+01:00",
                          "2024-05-01T12:00:00ZZ"}) {
    INFO(bad);
    auto t = sl::parse_seedlink_time(bad);
    CHECK_FALSE(t.ok());
    if (!t.ok()) CHECK(t.status().code() == StatusCode::kInvalidArgument);
  }
  auto month = sl::parse_seedlink_time("2024,13,1,0,0,0");
  REQUIRE_FALSE(month.ok());
  CHECK_THAT(month.status().message(), Catch::Contains("month 13"));
  // Peer bytes echoed in a message are made printable.
  auto garbage = sl::parse_seedlink_time(std::string("2024\x01\xff", 6));
  REQUIRE_FALSE(garbage.ok());
  for (char c : garbage.status().message()) CHECK((c >= 0x20 && c < 0x7F));
}

// --- DATA / FETCH / TIME --------------------------------------------------------

TEST_CASE("v3 DATA/FETCH take an optional hex sequence and begin time", "[seedlink]") {
  using A = std::vector<std::string>;
  auto none = sl::parse_v3_data_arguments(A{});
  REQUIRE(none.ok());
  CHECK_FALSE(none->sequence.has_value());
  CHECK_FALSE(none->begin.has_value());
  CHECK_FALSE(none->all);

  auto seq = sl::parse_v3_data_arguments(A{"0x1a2b"});
  REQUIRE(seq.ok());
  CHECK(seq->sequence == 0x1A2Bu);

  auto both = sl::parse_v3_data_arguments(A{"00A1F3", "2008,10,1,12,30,35"});
  REQUIRE(both.ok());
  CHECK(both->sequence == 0xA1F3u);
  CHECK(both->begin == iso("2008-10-01T12:30:35Z"));
  CHECK_FALSE(both->end.has_value());

  CHECK_FALSE(sl::parse_v3_data_arguments(A{"XYZ"}).ok());
  CHECK_FALSE(sl::parse_v3_data_arguments(A{"1A", "yesterday"}).ok());
  CHECK_FALSE(sl::parse_v3_data_arguments(A{"1A", "2024,1,1,0,0,0", "2024,1,2,0,0,0"}).ok());
}

TEST_CASE("v3 TIME takes a begin time and an optional end time not before it", "[seedlink]") {
  using A = std::vector<std::string>;
  auto begin_only = sl::parse_v3_time_arguments(A{"2024,1,2,3,4,5"});
  REQUIRE(begin_only.ok());
  CHECK(begin_only->begin == iso("2024-01-02T03:04:05Z"));
  CHECK_FALSE(begin_only->end.has_value());
  CHECK_FALSE(begin_only->sequence.has_value());

  auto window = sl::parse_v3_time_arguments(A{"2024,01,01,00,00,00", "2024,01,02,00,00,00"});
  REQUIRE(window.ok());
  CHECK(*window->end - *window->begin == 86'400 * seisvault::kNanosPerSecond);

  CHECK(sl::parse_v3_time_arguments(A{"2024,1,1,0,0,0", "2024,1,1,0,0,0"}).ok());
  CHECK_FALSE(sl::parse_v3_time_arguments(A{}).ok());
  CHECK_FALSE(sl::parse_v3_time_arguments(A{"2024,1,2,0,0,0", "2024,1,1,0,0,0"}).ok());
  CHECK_FALSE(sl::parse_v3_time_arguments(A{"2024,1,1,0,0,0", "2024,1,2,0,0,0", "x"}).ok());
  CHECK(sl::parse_v3_time_arguments(A{"2024,1,1,0,0"}).ok());  // short forms are accepted, as ringserver does
}

TEST_CASE("v4 DATA/FETCH take a sequence, -1 or ALL, then an optional time window", "[seedlink]") {
  using A = std::vector<std::string>;
  auto none = sl::parse_v4_data_arguments(A{});
  REQUIRE(none.ok());
  CHECK_FALSE(none->sequence.has_value());
  CHECK_FALSE(none->all);

  auto next = sl::parse_v4_data_arguments(A{"-1"});
  REQUIRE(next.ok());
  CHECK_FALSE(next->sequence.has_value());
  CHECK_FALSE(next->all);

  auto all = sl::parse_v4_data_arguments(A{"ALL"});
  REQUIRE(all.ok());
  CHECK(all->all);
  CHECK_FALSE(all->sequence.has_value());

  auto seq = sl::parse_v4_data_arguments(A{"254483417"});
  REQUIRE(seq.ok());
  CHECK(seq->sequence == 254483417u);

  auto window = sl::parse_v4_data_arguments(A{"ALL", "2024-01-01T00:00:00Z", "2024-01-02T00:00:00.5Z"});
  REQUIRE(window.ok());
  CHECK(window->all);
  CHECK(window->begin == iso("2024-01-01T00:00:00Z"));
  CHECK(window->end == iso("2024-01-02T00:00:00.5Z"));

  auto start_only = sl::parse_v4_data_arguments(A{"-1", "2024-01-01T00:00:00Z"});
  REQUIRE(start_only.ok());
  CHECK(start_only->begin.has_value());
  CHECK_FALSE(start_only->end.has_value());

  CHECK_FALSE(sl::parse_v4_data_arguments(A{"0x10"}).ok());       // v3 hex in a v4 session
  CHECK_FALSE(sl::parse_v4_data_arguments(A{"1", "nope"}).ok());
  CHECK_FALSE(sl::parse_v4_data_arguments(A{"1", "2024-01-02T00:00:00Z", "2024-01-01T00:00:00Z"}).ok());
  CHECK_FALSE(sl::parse_v4_data_arguments(A{"1", "2024-01-01", "2024-01-02", "extra"}).ok());
}

// --- STATION --------------------------------------------------------------------

TEST_CASE("v3 STATION is a station code and an optional network code", "[seedlink]") {
  using A = std::vector<std::string>;
  auto anmo = sl::StationPattern::parse_v3(A{"ANMO", "IU"});
  REQUIRE(anmo.ok());
  CHECK(anmo->text() == "IU_ANMO");
  CHECK_FALSE(anmo->has_wildcards());
  CHECK(anmo->matches("IU", "ANMO"));
  CHECK(anmo->matches("iu", "anmo"));
  CHECK_FALSE(anmo->matches("IU", "ANMO2"));
  CHECK_FALSE(anmo->matches("II", "ANMO"));

  auto any_net = sl::StationPattern::parse_v3(A{"anmo"});
  REQUIRE(any_net.ok());
  CHECK(any_net->text() == "*_ANMO");
  CHECK(any_net->matches("IU", "ANMO"));
  CHECK(any_net->matches("XX", "ANMO"));
  CHECK_FALSE(any_net->matches("IU", "KONO"));

  auto wild = sl::StationPattern::parse_v3(A{"A?M*", "I?"});  // IRIS DMC wildcard extension
  REQUIRE(wild.ok());
  CHECK(wild->has_wildcards());
  CHECK(wild->matches("IU", "ANMO"));
  CHECK(wild->matches("II", "ABM"));
  CHECK_FALSE(wild->matches("GE", "ANMO"));

  for (const A& bad : {A{}, A{"ANMO", "IU", "X"}, A{"AN_MO"}, A{"ANMO", "I-U"}, A{"ANMO!"},
                       A{std::string(17, 'A')}, A{std::string("AN\0MO", 5)}}) {
    CHECK_FALSE(sl::StationPattern::parse_v3(bad).ok());
  }
}

TEST_CASE("v4 STATION is a glob over the whole NET_STA station ID", "[seedlink]") {
  using A = std::vector<std::string>;
  struct Case {
    const char* pattern;
    const char* net;
    const char* sta;
    bool match;
  };
  const std::vector<Case> table = {
      {"GE_WLF", "GE", "WLF", true},   {"GE_WLF", "GE", "WLF2", false}, {"GE_*", "GE", "APE", true},
      {"GE_*", "GEO", "APE", false},   {"*F", "GE", "WLF", true},       {"*F", "GE", "APE", false},
      {"G*", "GE", "APE", true},       {"G*", "GR", "BFO", true},       {"G*", "IU", "GXX", false},
      {"??_A??", "IU", "ANM", true},   {"??_A??", "IU", "ANMO", false}, {"*", "XX", "ANY", true},
      {"ge_wlf", "GE", "WLF", true},   {"*_*", "IU", "ANMO", true},     {"IU_ANMO", "IU", "ANM", false},
  };
  for (const auto& c : table) {
    INFO(c.pattern << " vs " << c.net << "_" << c.sta);
    auto p = sl::StationPattern::parse_v4(A{c.pattern});
    REQUIRE(p.ok());
    CHECK(p->matches(c.net, c.sta) == c.match);
  }
  CHECK(sl::StationPattern::parse_v4(A{"ge_*"})->text() == "GE_*");
  for (const A& bad : {A{}, A{"GE_WLF", "extra"}, A{"GE.WLF"}, A{"GE WLF"}, A{"GE-WLF"},
                       A{std::string(65, 'X')}, A{std::string("GE_\xffWLF", 7)}}) {
    CHECK_FALSE(sl::StationPattern::parse_v4(bad).ok());
  }
}

// --- SLPROTO --------------------------------------------------------------------

TEST_CASE("SLPROTO takes one major.minor version", "[seedlink]") {
  using A = std::vector<std::string>;
  auto v4 = sl::parse_slproto_arguments(A{"4.0"});
  REQUIRE(v4.ok());
  CHECK(v4->major == 4);
  CHECK(v4->minor == 0);
  auto v31 = sl::parse_slproto_arguments(A{"3.1"});
  REQUIRE(v31.ok());
  CHECK(v31->major == 3);
  CHECK(v31->minor == 1);
  for (const A& bad : {A{}, A{"4"}, A{"4."}, A{".0"}, A{"4.0.1"}, A{"v4.0"}, A{"4.0", "3.1"}, A{"1000.0"}}) {
    CHECK_FALSE(sl::parse_slproto_arguments(bad).ok());
  }
}

TEST_CASE("v3 resume sequences are widened to the most recent full number with their low 24 bits",
          "[seedlink][command]") {
  using seisvault::server::seedlink::widen_v3_sequence;
  CHECK(widen_v3_sequence(0x000010, 0x000100) == 0x000010);
  CHECK(widen_v3_sequence(0x000100, 0x000100) == 0x000100);            // the next one to come
  CHECK(widen_v3_sequence(0x000200, 0x000100) == 0x000200);            // newer than anything: kept (clamped later)
  CHECK(widen_v3_sequence(0xFFFFF0, 0x1000010) == 0xFFFFF0);           // just before the wrap
  CHECK(widen_v3_sequence(0x000005, 0x1000010) == 0x1000005);          // just after it
  CHECK(widen_v3_sequence(0x000020, 0x1000010) == 0x0000020);          // one wrap back
  CHECK(widen_v3_sequence(0x12ABCDEF, 0x5000000) == 0x4ABCDEF);        // only the low 24 bits count
}
