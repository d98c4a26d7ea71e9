#include <catch2/catch.hpp>

#include "seisvault/common/time.h"

using namespace seisvault;

TEST_CASE("ISO 8601 times round-trip through nanoseconds", "[time]") {
  auto t = parse_iso8601("2010-02-27T06:50:00.069539Z");
  REQUIRE(t.ok());
  CHECK(*t == 1267253400069539000);
  CHECK(format_iso8601(*t) == "2010-02-27T06:50:00.069539000Z");
  CHECK(format_iso8601(0) == "1970-01-01T00:00:00.000000000Z");
  CHECK(format_iso8601(-1) == "1969-12-31T23:59:59.999999999Z");
}

TEST_CASE("date-only, day-of-year and fraction forms are accepted", "[time]") {
  CHECK(*parse_iso8601("2024-03-01") == *parse_iso8601("2024-03-01T00:00:00Z"));
  CHECK(*parse_iso8601("2024,061") == *parse_iso8601("2024-03-01"));
  CHECK(*parse_iso8601("2024,061,12:00:00.5") == *parse_iso8601("2024-03-01T12:00:00.500Z"));
  CHECK(*parse_iso8601("1969-12-31T23:59:59.999999999") == -1);
}

TEST_CASE("malformed times are refused with a message that says why", "[time]") {
  for (const char* bad : {"", "2024", "2024-13-01", "2023-02-29", "2024-01-01T25:00:00", "2024-01-01T00:00:00+01:00",
                          "2024-01-01T00:00:00.1234567890", "yesterday", "1500-01-01"}) {
    INFO(bad);
    auto r = parse_iso8601(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
    CHECK(r.status().message().find("cannot read time") != std::string::npos);
  }
}

// Found by fuzz_time_parser: the range was checked on the date alone, so a
// leap second on the last day was accepted as a time on the next day, which
// format_iso8601 then wrote as text that parse_iso8601 refuses.
TEST_CASE("every time the parser accepts formats to text it reads back, at both ends of its range", "[time]") {
  for (const char* text : {"2262-04-10T23:59:59.999999999Z", "1677-09-23T00:00:00Z", "2016-12-31T23:59:60.5Z"}) {
    INFO(text);
    const auto t = parse_iso8601(text);
    REQUIRE(t.ok());
    const auto back = parse_iso8601(format_iso8601(*t));
    REQUIRE(back.ok());
    CHECK(*back == *t);
  }
  for (const char* text : {"2262-04-10T23:59:60.8547757", "2262-04-11T00:00:00Z", "1677-09-22T23:59:59Z"}) {
    INFO(text);
    const auto t = parse_iso8601(text);
    REQUIRE_FALSE(t.ok());
    CHECK(t.status().message().find("outside 1677-09-23 to 2262-04-10") != std::string::npos);
  }
}
