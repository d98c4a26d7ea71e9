#include <catch2/catch.hpp>

#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fdsn_availability.h"
#include "seisvault/common/time.h"

using namespace seisvault;
using namespace seisvault::server;

namespace {

// Throws rather than REQUIREs: it also runs at static initialisation, outside any test.
TimeNs at(std::string_view iso) {
  auto t = parse_iso8601(iso);
  if (!t.ok()) throw std::invalid_argument(std::string(iso));
  return *t;
}

// The hand-made store contents most tests read:
//   XX.AAA..BHZ  D 40 Hz  A1 00:00:00-00:59:59.975, A2 00:59:00-01:04:59.975 (overlaps A1),
//                         A3 01:10:00-01:59:59.975 (300 s gap after A2)      updated 01-02
//   XX.AAA..BHZ  M 40 Hz  B1 02:00:00-02:29:59.975 (contiguous with A3)     updated 01-03
//   XX.BBB.00.HHZ D 100 Hz C1 00:00:00.0000005-00:10:00.123456789 (sub-µs) updated 01-01, restricted
std::vector<AvailabilitySource> store() {
  return {
      {"XX", "AAA", "", "BHZ", 'D', 40.0,
       {{at("2024-01-01T00:00:00"), at("2024-01-01T00:59:59.975")},
        {at("2024-01-01T00:59:00"), at("2024-01-01T01:04:59.975")},
        {at("2024-01-01T01:10:00"), at("2024-01-01T01:59:59.975")}},
       at("2024-01-02T00:00:00.7")},
      {"XX", "AAA", "", "BHZ", 'M', 40.0,
       {{at("2024-01-01T02:00:00"), at("2024-01-01T02:29:59.975000999")}},
       at("2024-01-03T00:00:00")},
      {"XX", "BBB", "00", "HHZ", 'D', 100.0,
       {{at("2024-01-01T00:00:00.0000005"), at("2024-01-01T00:10:00.123456789")}},
       at("2024-01-01T06:00:00"), true},
  };
}

const TimeNs kCreated = at("2024-02-01T00:00:00.25");

std::string render(const AvailabilityRequest& r, std::vector<AvailabilitySource> sources = store()) {
  auto body = render_availability(std::move(sources), r, kCreated);
  REQUIRE(body.has_value());
  return *body;
}

AvailabilityRequest query(AvailabilityFormat f = AvailabilityFormat::kText) {
  AvailabilityRequest r;
  r.format = f;
  return r;
}

AvailabilityRequest extent(AvailabilityFormat f = AvailabilityFormat::kText) {
  AvailabilityRequest r = query(f);
  r.extent = true;
  return r;
}

// The "span" lines of a text answer, header left out.
std::vector<std::string> body_lines(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl - pos);
    if (!line.starts_with('#')) out.push_back(line);
    pos = nl + 1;
  }
  return out;
}

// What fdsnws-availability-1.0.schema.json requires of a document, as its
// generated types (seisplotjs) state it, plus the time format of the answers.
void check_schema(const nlohmann::json& doc) {
  const std::regex time(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z)");
  REQUIRE(doc.is_object());
  REQUIRE(doc.contains("version"));
  CHECK(doc["version"].is_number());
  REQUIRE(doc.contains("datasources"));
  REQUIRE(doc["datasources"].is_array());
  if (doc.contains("created")) CHECK(std::regex_match(doc["created"].get<std::string>(), time));
  for (const auto& ds : doc["datasources"]) {
    for (const char* key : {"network", "station", "location", "channel"}) {
      REQUIRE(ds.contains(key));
      CHECK(ds[key].is_string());
    }
    if (ds.contains("quality")) CHECK(ds["quality"].is_string());
    if (ds.contains("samplerate")) CHECK(ds["samplerate"].is_number());
    if (ds.contains("timespanCount")) CHECK(ds["timespanCount"].is_number_integer());
    if (ds.contains("restriction")) CHECK(ds["restriction"].is_string());
    if (ds.contains("updated")) CHECK(std::regex_match(ds["updated"].get<std::string>(), time));
    const bool spans = ds.contains("timespans");
    const bool extent = ds.contains("earliest") && ds.contains("latest");
    CHECK((spans || extent));
    if (spans) {
      REQUIRE(ds["timespans"].is_array());
      for (const auto& ts : ds["timespans"]) {
        REQUIRE(ts.is_array());
        REQUIRE(ts.size() == 2);
        CHECK(std::regex_match(ts[0].get<std::string>(), time));
        CHECK(std::regex_match(ts[1].get<std::string>(), time));
      }
    }
    if (extent) {
      CHECK(std::regex_match(ds["earliest"].get<std::string>(), time));
      CHECK(std::regex_match(ds["latest"].get<std::string>(), time));
    }
  }
}

const char* const kQueryHeader =
    "#Network Station Location Channel Quality SampleRate Earliest                    Latest\n";

}  // namespace

// ---------------------------------------------------------------- formats

TEST_CASE("query text lists each span with '--' for a blank location, aligned columns and microsecond times",
          "[fdsn_availability]") {
  CHECK(render(query()) ==
        std::string(kQueryHeader) +
            "XX       AAA     --       BHZ     D       40.0       2024-01-01T00:00:00.000000Z 2024-01-01T00:59:59.975000Z\n"
            "XX       AAA     --       BHZ     D       40.0       2024-01-01T00:59:00.000000Z 2024-01-01T01:04:59.975000Z\n"
            "XX       AAA     --       BHZ     D       40.0       2024-01-01T01:10:00.000000Z 2024-01-01T01:59:59.975000Z\n"
            "XX       AAA     --       BHZ     M       40.0       2024-01-01T02:00:00.000000Z 2024-01-01T02:29:59.975000Z\n"
            "XX       BBB     00       HHZ     D       100.0      2024-01-01T00:00:00.000000Z 2024-01-01T00:10:00.123456Z\n");
}

TEST_CASE("extent text has one row per datasource with Updated, TimeSpans and Restriction",
          "[fdsn_availability]") {
  CHECK(render(extent()) ==
        "#Network Station Location Channel Quality SampleRate Earliest                    Latest                      "
        "Updated              TimeSpans Restriction\n"
        "XX       AAA     --       BHZ     D       40.0       2024-01-01T00:00:00.000000Z 2024-01-01T01:59:59.975000Z "
        "2024-01-02T00:00:00Z 3         OPEN\n"
        "XX       AAA     --       BHZ     M       40.0       2024-01-01T02:00:00.000000Z 2024-01-01T02:29:59.975000Z "
        "2024-01-03T00:00:00Z 1         OPEN\n"
        "XX       BBB     00       HHZ     D       100.0      2024-01-01T00:00:00.000000Z 2024-01-01T00:10:00.123456Z "
        "2024-01-01T06:00:00Z 1         RESTRICTED\n");
}

TEST_CASE("query geocsv has the GeoCSV 2.0 header, '|' fields and an empty blank location", "[fdsn_availability]") {
  CHECK(render(query(AvailabilityFormat::kGeocsv)) ==
        "#dataset: GeoCSV 2.0\n"
        "#delimiter: |\n"
        "#field_unit: unitless|unitless|unitless|unitless|unitless|hertz|ISO_8601|ISO_8601\n"
        "#field_type: string|string|string|string|string|float|datetime|datetime\n"
        "Network|Station|Location|Channel|Quality|SampleRate|Earliest|Latest\n"
        "XX|AAA||BHZ|D|40.0|2024-01-01T00:00:00.000000Z|2024-01-01T00:59:59.975000Z\n"
        "XX|AAA||BHZ|D|40.0|2024-01-01T00:59:00.000000Z|2024-01-01T01:04:59.975000Z\n"
        "XX|AAA||BHZ|D|40.0|2024-01-01T01:10:00.000000Z|2024-01-01T01:59:59.975000Z\n"
        "XX|AAA||BHZ|M|40.0|2024-01-01T02:00:00.000000Z|2024-01-01T02:29:59.975000Z\n"
        "XX|BBB|00|HHZ|D|100.0|2024-01-01T00:00:00.000000Z|2024-01-01T00:10:00.123456Z\n");
}

TEST_CASE("extent geocsv adds Updated, TimeSpans and Restriction with their units and types", "[fdsn_availability]") {
  CHECK(render(extent(AvailabilityFormat::kGeocsv)) ==
        "#dataset: GeoCSV 2.0\n"
        "#delimiter: |\n"
        "#field_unit: unitless|unitless|unitless|unitless|unitless|hertz|ISO_8601|ISO_8601|ISO_8601|unitless|unitless\n"
        "#field_type: string|string|string|string|string|float|datetime|datetime|datetime|integer|string\n"
        "Network|Station|Location|Channel|Quality|SampleRate|Earliest|Latest|Updated|TimeSpans|Restriction\n"
        "XX|AAA||BHZ|D|40.0|2024-01-01T00:00:00.000000Z|2024-01-01T01:59:59.975000Z|2024-01-02T00:00:00Z|3|OPEN\n"
        "XX|AAA||BHZ|M|40.0|2024-01-01T02:00:00.000000Z|2024-01-01T02:29:59.975000Z|2024-01-03T00:00:00Z|1|OPEN\n"
        "XX|BBB|00|HHZ|D|100.0|2024-01-01T00:00:00.000000Z|2024-01-01T00:10:00.123456Z|2024-01-01T06:00:00Z|1|"
        "RESTRICTED\n");
}

TEST_CASE("query json groups timespans by datasource under created, version and datasources",
          "[fdsn_availability]") {
  const std::string body = render(query(AvailabilityFormat::kJson));
  CHECK(body ==
        R"({"created":"2024-02-01T00:00:00Z","version":1.0,"datasources":[)"
        R"({"network":"XX","station":"AAA","location":"","channel":"BHZ","quality":"D","samplerate":40.0,"timespans":[)"
        R"(["2024-01-01T00:00:00.000000Z","2024-01-01T00:59:59.975000Z"],)"
        R"(["2024-01-01T00:59:00.000000Z","2024-01-01T01:04:59.975000Z"],)"
        R"(["2024-01-01T01:10:00.000000Z","2024-01-01T01:59:59.975000Z"]]},)"
        R"({"network":"XX","station":"AAA","location":"","channel":"BHZ","quality":"M","samplerate":40.0,"timespans":[)"
        R"(["2024-01-01T02:00:00.000000Z","2024-01-01T02:29:59.975000Z"]]},)"
        R"({"network":"XX","station":"BBB","location":"00","channel":"HHZ","quality":"D","samplerate":100.0,)"
        R"("timespans":[["2024-01-01T00:00:00.000000Z","2024-01-01T00:10:00.123456Z"]]}]})");
  check_schema(nlohmann::json::parse(body));
}

TEST_CASE("extent json gives earliest, latest, updated, timespanCount and restriction per datasource",
          "[fdsn_availability]") {
  const std::string body = render(extent(AvailabilityFormat::kJson));
  CHECK(body ==
        R"({"created":"2024-02-01T00:00:00Z","version":1.0,"datasources":[)"
        R"({"network":"XX","station":"AAA","location":"","channel":"BHZ","quality":"D","samplerate":40.0,)"
        R"("earliest":"2024-01-01T00:00:00.000000Z","latest":"2024-01-01T01:59:59.975000Z",)"
        R"("updated":"2024-01-02T00:00:00Z","timespanCount":3,"restriction":"OPEN"},)"
        R"({"network":"XX","station":"AAA","location":"","channel":"BHZ","quality":"M","samplerate":40.0,)"
        R"("earliest":"2024-01-01T02:00:00.000000Z","latest":"2024-01-01T02:29:59.975000Z",)"
        R"("updated":"2024-01-03T00:00:00Z","timespanCount":1,"restriction":"OPEN"},)"
        R"({"network":"XX","station":"BBB","location":"00","channel":"HHZ","quality":"D","samplerate":100.0,)"
        R"("earliest":"2024-01-01T00:00:00.000000Z","latest":"2024-01-01T00:10:00.123456Z",)"
        R"("updated":"2024-01-01T06:00:00Z","timespanCount":1,"restriction":"RESTRICTED"}]})");
  const auto doc = nlohmann::json::parse(body);
  check_schema(doc);
  CHECK(doc["datasources"][0]["timespanCount"] == 3);
}

TEST_CASE("every json answer parses back and meets the schema's required fields", "[fdsn_availability]") {
  for (bool is_extent : {false, true}) {
    for (int merges = 0; merges < 8; ++merges) {
      AvailabilityRequest r = is_extent ? extent(AvailabilityFormat::kJson) : query(AvailabilityFormat::kJson);
      r.merge_quality = merges & 1;
      r.merge_samplerate = merges & 2;
      r.merge_overlap = merges & 4;
      r.show_latestupdate = true;
      const auto doc = nlohmann::json::parse(render(r));
      check_schema(doc);
      for (const auto& ds : doc["datasources"]) {
        CHECK(ds.contains("quality") == !r.merge_quality);
        CHECK(ds.contains("samplerate") == !r.merge_samplerate);
        CHECK(ds.contains("updated"));
        CHECK(ds.contains("timespans") == !is_extent);
        CHECK(ds.contains("timespanCount") == is_extent);
      }
    }
  }
}

TEST_CASE("request format gives POST-able dataselect lines with '--' for a blank location", "[fdsn_availability]") {
  CHECK(render(query(AvailabilityFormat::kRequest)) ==
        "XX AAA -- BHZ 2024-01-01T00:00:00.000000Z 2024-01-01T00:59:59.975000Z\n"
        "XX AAA -- BHZ 2024-01-01T00:59:00.000000Z 2024-01-01T01:04:59.975000Z\n"
        "XX AAA -- BHZ 2024-01-01T01:10:00.000000Z 2024-01-01T01:59:59.975000Z\n"
        "XX AAA -- BHZ 2024-01-01T02:00:00.000000Z 2024-01-01T02:29:59.975000Z\n"
        "XX BBB 00 HHZ 2024-01-01T00:00:00.000000Z 2024-01-01T00:10:00.123456Z\n");
  CHECK(render(extent(AvailabilityFormat::kRequest)) ==
        "XX AAA -- BHZ 2024-01-01T00:00:00.000000Z 2024-01-01T01:59:59.975000Z\n"
        "XX AAA -- BHZ 2024-01-01T02:00:00.000000Z 2024-01-01T02:29:59.975000Z\n"
        "XX BBB 00 HHZ 2024-01-01T00:00:00.000000Z 2024-01-01T00:10:00.123456Z\n");
}

TEST_CASE("request lines read back as times the project parses", "[fdsn_availability]") {
  for (const std::string& line : body_lines(render(query(AvailabilityFormat::kRequest)))) {
    const size_t end_at = line.rfind(' ');
    const size_t start_at = line.rfind(' ', end_at - 1);
    CHECK(parse_iso8601(line.substr(start_at + 1, end_at - start_at - 1)).ok());
    CHECK(parse_iso8601(line.substr(end_at + 1)).ok());
  }
}

TEST_CASE("each format has its content type", "[fdsn_availability]") {
  CHECK(availability_content_type(AvailabilityFormat::kText) == "text/plain");
  CHECK(availability_content_type(AvailabilityFormat::kGeocsv) == "text/csv");
  CHECK(availability_content_type(AvailabilityFormat::kJson) == "application/json");
  CHECK(availability_content_type(AvailabilityFormat::kRequest) == "text/plain");
}

// ---------------------------------------------------------------- merging

TEST_CASE("merge=quality joins the qualities of a channel, drops the Quality column and joins contiguous spans",
          "[fdsn_availability]") {
  AvailabilityRequest r = query();
  r.merge_quality = true;
  // A3 (D) and B1 (M) are contiguous: one span once quality no longer matters.
  CHECK(render(r) ==
        "#Network Station Location Channel SampleRate Earliest                    Latest\n"
        "XX       AAA     --       BHZ     40.0       2024-01-01T00:00:00.000000Z 2024-01-01T00:59:59.975000Z\n"
        "XX       AAA     --       BHZ     40.0       2024-01-01T00:59:00.000000Z 2024-01-01T01:04:59.975000Z\n"
        "XX       AAA     --       BHZ     40.0       2024-01-01T01:10:00.000000Z 2024-01-01T02:29:59.975000Z\n"
        "XX       BBB     00       HHZ     100.0      2024-01-01T00:00:00.000000Z 2024-01-01T00:10:00.123456Z\n");

  r.extent = true;
  r.format = AvailabilityFormat::kJson;
  const auto doc = nlohmann::json::parse(render(r));
  REQUIRE(doc["datasources"].size() == 2);
  const auto& aaa = doc["datasources"][0];
  CHECK_FALSE(aaa.contains("quality"));
  CHECK(aaa["earliest"] == "2024-01-01T00:00:00.000000Z");
  CHECK(aaa["latest"] == "2024-01-01T02:29:59.975000Z");
  CHECK(aaa["timespanCount"] == 3);
  CHECK(aaa["updated"] == "2024-01-03T00:00:00Z");  // the latest of the merged sources
}

TEST_CASE("merge=overlap joins overlapping spans and leaves gaps alone", "[fdsn_availability]") {
  AvailabilityRequest r = query(AvailabilityFormat::kRequest);
  r.merge_overlap = true;
  CHECK(render(r) ==
        "XX AAA -- BHZ 2024-01-01T00:00:00.000000Z 2024-01-01T01:04:59.975000Z\n"
        "XX AAA -- BHZ 2024-01-01T01:10:00.000000Z 2024-01-01T01:59:59.975000Z\n"
        "XX AAA -- BHZ 2024-01-01T02:00:00.000000Z 2024-01-01T02:29:59.975000Z\n"
        "XX BBB 00 HHZ 2024-01-01T00:00:00.000000Z 2024-01-01T00:10:00.123456Z\n");

  r.merge_quality = true;
  CHECK(render(r) ==
        "XX AAA -- BHZ 2024-01-01T00:00:00.000000Z 2024-01-01T01:04:59.975000Z\n"
        "XX AAA -- BHZ 2024-01-01T01:10:00.000000Z 2024-01-01T02:29:59.975000Z\n"
        "XX BBB 00 HHZ 2024-01-01T00:00:00.000000Z 2024-01-01T00:10:00.123456Z\n");
}

TEST_CASE("a span inside another stays whole when overlaps are merged", "[fdsn_availability]") {
  AvailabilityRequest r = query(AvailabilityFormat::kRequest);
  r.merge_overlap = true;
  std::vector<AvailabilitySource> s = {{"XX", "CCC", "", "BHZ", 'D', 1.0,
                                        {{at("2024-01-01T00:00:00"), at("2024-01-01T01:00:00")},
                                         {at("2024-01-01T00:10:00"), at("2024-01-01T00:20:00")}}}};
  CHECK(render(r, s) == "XX CCC -- BHZ 2024-01-01T00:00:00.000000Z 2024-01-01T01:00:00.000000Z\n");
}

TEST_CASE("merge=samplerate joins the rates of a channel and drops the SampleRate column", "[fdsn_availability]") {
  // 1 Hz until 00:59:59, then 10 Hz from 01:00:00 (where the next 1 Hz sample was due), then a gap.
  const std::vector<AvailabilitySource> s = {
      {"XX", "CCC", "00", "LHZ", 'D', 1.0, {{at("2024-01-01T00:00:00"), at("2024-01-01T00:59:59")}}},
      {"XX", "CCC", "00", "LHZ", 'D', 10.0,
       {{at("2024-01-01T01:00:00"), at("2024-01-01T01:29:59.9")},
        {at("2024-01-01T02:00:00"), at("2024-01-01T02:29:59.9")}}},
  };
  AvailabilityRequest r = query();
  CHECK(render(r, s) ==
        std::string(kQueryHeader) +
            "XX       CCC     00       LHZ     D       1.0        2024-01-01T00:00:00.000000Z 2024-01-01T00:59:59.000000Z\n"
            "XX       CCC     00       LHZ     D       10.0       2024-01-01T01:00:00.000000Z 2024-01-01T01:29:59.900000Z\n"
            "XX       CCC     00       LHZ     D       10.0       2024-01-01T02:00:00.000000Z 2024-01-01T02:29:59.900000Z\n");
  r.merge_samplerate = true;
  CHECK(render(r, s) ==
        "#Network Station Location Channel Quality Earliest                    Latest\n"
        "XX       CCC     00       LHZ     D       2024-01-01T00:00:00.000000Z 2024-01-01T01:29:59.900000Z\n"
        "XX       CCC     00       LHZ     D       2024-01-01T02:00:00.000000Z 2024-01-01T02:29:59.900000Z\n");

  r.merge_quality = true;
  r.format = AvailabilityFormat::kGeocsv;
  CHECK(render(r, s) ==
        "#dataset: GeoCSV 2.0\n"
        "#delimiter: |\n"
        "#field_unit: unitless|unitless|unitless|unitless|ISO_8601|ISO_8601\n"
        "#field_type: string|string|string|string|datetime|datetime\n"
        "Network|Station|Location|Channel|Earliest|Latest\n"
        "XX|CCC|00|LHZ|2024-01-01T00:00:00.000000Z|2024-01-01T01:29:59.900000Z\n"
        "XX|CCC|00|LHZ|2024-01-01T02:00:00.000000Z|2024-01-01T02:29:59.900000Z\n");
}

TEST_CASE("mergegaps joins spans whose gap is at most the given length", "[fdsn_availability]") {
  // A2 ends 01:04:59.975, so the next 40 Hz sample was due at 01:05:00; A3 starts 01:10:00: a 300 s gap.
  AvailabilityRequest r = query(AvailabilityFormat::kRequest);
  r.mergegaps_ns = 300 * kNanosPerSecond;
  CHECK(render(r) ==
        "XX AAA -- BHZ 2024-01-01T00:00:00.000000Z 2024-01-01T00:59:59.975000Z\n"
        "XX AAA -- BHZ 2024-01-01T00:59:00.000000Z 2024-01-01T01:59:59.975000Z\n"
        "XX AAA -- BHZ 2024-01-01T02:00:00.000000Z 2024-01-01T02:29:59.975000Z\n"
        "XX BBB 00 HHZ 2024-01-01T00:00:00.000000Z 2024-01-01T00:10:00.123456Z\n");

  r.mergegaps_ns = 300 * kNanosPerSecond - 1;
  CHECK(body_lines(render(r)).size() == 5);

  SECTION("mergegaps does not join overlaps") {
    r.mergegaps_ns = 3600 * kNanosPerSecond;
    const auto lines = body_lines(render(r));
    REQUIRE(lines.size() == 4);
    CHECK(lines[0] == "XX AAA -- BHZ 2024-01-01T00:00:00.000000Z 2024-01-01T00:59:59.975000Z");
  }
  SECTION("mergegaps is for /query only: /extent counts the spans as they are") {
    r.extent = true;
    r.format = AvailabilityFormat::kJson;
    CHECK(nlohmann::json::parse(render(r))["datasources"][0]["timespanCount"] == 3);
  }
}

// ---------------------------------------------------------------- ordering and limit

TEST_CASE("orderby latestupdate sorts rows by their datasource's update, ties in default order",
          "[fdsn_availability]") {
  AvailabilityRequest r = query(AvailabilityFormat::kRequest);
  r.orderby = AvailabilityOrder::kLatestUpdate;
  CHECK(render(r) ==
        "XX BBB 00 HHZ 2024-01-01T00:00:00.000000Z 2024-01-01T00:10:00.123456Z\n"
        "XX AAA -- BHZ 2024-01-01T00:00:00.000000Z 2024-01-01T00:59:59.975000Z\n"
        "XX AAA -- BHZ 2024-01-01T00:59:00.000000Z 2024-01-01T01:04:59.975000Z\n"
        "XX AAA -- BHZ 2024-01-01T01:10:00.000000Z 2024-01-01T01:59:59.975000Z\n"
        "XX AAA -- BHZ 2024-01-01T02:00:00.000000Z 2024-01-01T02:29:59.975000Z\n");
  r.orderby = AvailabilityOrder::kLatestUpdateDesc;
  CHECK(render(r) ==
        "XX AAA -- BHZ 2024-01-01T02:00:00.000000Z 2024-01-01T02:29:59.975000Z\n"
        "XX AAA -- BHZ 2024-01-01T00:00:00.000000Z 2024-01-01T00:59:59.975000Z\n"
        "XX AAA -- BHZ 2024-01-01T00:59:00.000000Z 2024-01-01T01:04:59.975000Z\n"
        "XX AAA -- BHZ 2024-01-01T01:10:00.000000Z 2024-01-01T01:59:59.975000Z\n"
        "XX BBB 00 HHZ 2024-01-01T00:00:00.000000Z 2024-01-01T00:10:00.123456Z\n");
}

TEST_CASE("orderby latestupdate orders json datasources too", "[fdsn_availability]") {
  AvailabilityRequest r = query(AvailabilityFormat::kJson);
  r.orderby = AvailabilityOrder::kLatestUpdateDesc;
  const auto doc = nlohmann::json::parse(render(r));
  REQUIRE(doc["datasources"].size() == 3);
  CHECK(doc["datasources"][0]["quality"] == "M");
  CHECK(doc["datasources"][1]["quality"] == "D");
  CHECK(doc["datasources"][1]["timespans"].size() == 3);
  CHECK(doc["datasources"][2]["station"] == "BBB");
}

TEST_CASE("orderby timespancount sorts extents by their span count, ties in default order", "[fdsn_availability]") {
  AvailabilityRequest r = extent(AvailabilityFormat::kGeocsv);
  r.merge_quality = r.merge_samplerate = true;  // shorter rows
  const std::string head =
      "#dataset: GeoCSV 2.0\n"
      "#delimiter: |\n"
      "#field_unit: unitless|unitless|unitless|unitless|ISO_8601|ISO_8601|ISO_8601|unitless|unitless\n"
      "#field_type: string|string|string|string|datetime|datetime|datetime|integer|string\n"
      "Network|Station|Location|Channel|Earliest|Latest|Updated|TimeSpans|Restriction\n";
  r.orderby = AvailabilityOrder::kTimespanCount;
  CHECK(render(r) == head +
                         "XX|BBB|00|HHZ|2024-01-01T00:00:00.000000Z|2024-01-01T00:10:00.123456Z|2024-01-01T06:00:00Z|1|"
                         "RESTRICTED\n"
                         "XX|AAA||BHZ|2024-01-01T00:00:00.000000Z|2024-01-01T02:29:59.975000Z|2024-01-03T00:00:00Z|3|"
                         "OPEN\n");
  r.orderby = AvailabilityOrder::kTimespanCountDesc;
  CHECK(render(r) == head +
                         "XX|AAA||BHZ|2024-01-01T00:00:00.000000Z|2024-01-01T02:29:59.975000Z|2024-01-03T00:00:00Z|3|"
                         "OPEN\n"
                         "XX|BBB|00|HHZ|2024-01-01T00:00:00.000000Z|2024-01-01T00:10:00.123456Z|2024-01-01T06:00:00Z|1|"
                         "RESTRICTED\n");

  SECTION("ties keep the default order") {
    AvailabilityRequest e = extent(AvailabilityFormat::kRequest);
    e.orderby = AvailabilityOrder::kTimespanCount;
    CHECK(render(e) ==
          "XX AAA -- BHZ 2024-01-01T02:00:00.000000Z 2024-01-01T02:29:59.975000Z\n"
          "XX BBB 00 HHZ 2024-01-01T00:00:00.000000Z 2024-01-01T00:10:00.123456Z\n"
          "XX AAA -- BHZ 2024-01-01T00:00:00.000000Z 2024-01-01T01:59:59.975000Z\n");
  }
}

TEST_CASE("the default order puts qualities of the same time after one another", "[fdsn_availability]") {
  const std::vector<AvailabilitySource> s = {
      {"XX", "CCC", "", "BHZ", 'Q', 40.0, {{at("2024-01-01T00:00:00"), at("2024-01-01T00:10:00")}}},
      {"XX", "CCC", "", "BHZ", 'D', 40.0, {{at("2024-01-01T00:00:00"), at("2024-01-01T00:10:00")}}},
      {"XX", "CCC", "", "BHZ", 'D', 20.0, {{at("2024-01-01T00:00:00"), at("2024-01-01T00:10:00")}}},
      {"XX", "CCC", "", "BHN", 'D', 40.0, {{at("2024-01-01T00:05:00"), at("2024-01-01T00:10:00")}}},
  };
  const auto lines = body_lines(render(query(), s));
  REQUIRE(lines.size() == 4);
  CHECK(lines[0].starts_with("XX       CCC     --       BHN     D       40.0"));
  CHECK(lines[1].starts_with("XX       CCC     --       BHZ     D       20.0"));
  CHECK(lines[2].starts_with("XX       CCC     --       BHZ     D       40.0"));
  CHECK(lines[3].starts_with("XX       CCC     --       BHZ     Q       40.0"));
}

TEST_CASE("limit caps timespans in /query and datasources in /extent", "[fdsn_availability]") {
  AvailabilityRequest r = query(AvailabilityFormat::kJson);
  r.limit = 2;
  const auto doc = nlohmann::json::parse(render(r));
  REQUIRE(doc["datasources"].size() == 1);
  CHECK(doc["datasources"][0]["timespans"].size() == 2);

  r.format = AvailabilityFormat::kText;
  CHECK(body_lines(render(r)).size() == 2);

  r.extent = true;
  r.limit = 1;
  CHECK(render(r) ==
        "#Network Station Location Channel Quality SampleRate Earliest                    Latest                      "
        "Updated              TimeSpans Restriction\n"
        "XX       AAA     --       BHZ     D       40.0       2024-01-01T00:00:00.000000Z 2024-01-01T01:59:59.975000Z "
        "2024-01-02T00:00:00Z 3         OPEN\n");

  r.limit = 0;
  CHECK_FALSE(render_availability(store(), r, kCreated).has_value());
}

TEST_CASE("limit applies after ordering", "[fdsn_availability]") {
  AvailabilityRequest r = query(AvailabilityFormat::kRequest);
  r.orderby = AvailabilityOrder::kLatestUpdateDesc;
  r.limit = 1;
  CHECK(render(r) == "XX AAA -- BHZ 2024-01-01T02:00:00.000000Z 2024-01-01T02:29:59.975000Z\n");
}

// ---------------------------------------------------------------- show, window, no data

TEST_CASE("show=latestupdate adds the Updated column to /query, in whole seconds", "[fdsn_availability]") {
  AvailabilityRequest r = query();
  r.show_latestupdate = true;
  r.limit = 1;
  CHECK(render(r) ==
        "#Network Station Location Channel Quality SampleRate Earliest                    Latest                      "
        "Updated\n"
        "XX       AAA     --       BHZ     D       40.0       2024-01-01T00:00:00.000000Z 2024-01-01T00:59:59.975000Z "
        "2024-01-02T00:00:00Z\n");

  r.format = AvailabilityFormat::kGeocsv;
  CHECK(render(r) ==
        "#dataset: GeoCSV 2.0\n"
        "#delimiter: |\n"
        "#field_unit: unitless|unitless|unitless|unitless|unitless|hertz|ISO_8601|ISO_8601|ISO_8601\n"
        "#field_type: string|string|string|string|string|float|datetime|datetime|datetime\n"
        "Network|Station|Location|Channel|Quality|SampleRate|Earliest|Latest|Updated\n"
        "XX|AAA||BHZ|D|40.0|2024-01-01T00:00:00.000000Z|2024-01-01T00:59:59.975000Z|2024-01-02T00:00:00Z\n");

  r.format = AvailabilityFormat::kJson;
  CHECK(render(r) ==
        R"({"created":"2024-02-01T00:00:00Z","version":1.0,"datasources":[)"
        R"({"network":"XX","station":"AAA","location":"","channel":"BHZ","quality":"D","samplerate":40.0,)"
        R"("updated":"2024-01-02T00:00:00Z","timespans":[)"
        R"(["2024-01-01T00:00:00.000000Z","2024-01-01T00:59:59.975000Z"]]}]})");

  SECTION("without show=latestupdate /query has no Updated") {
    r.show_latestupdate = false;
    CHECK_FALSE(nlohmann::json::parse(render(r))["datasources"][0].contains("updated"));
  }
}

TEST_CASE("spans are trimmed to the window and spans outside it dropped", "[fdsn_availability]") {
  AvailabilityRequest r = query(AvailabilityFormat::kRequest);
  r.window_start_ns = at("2024-01-01T00:30:00");
  r.window_end_ns = at("2024-01-01T01:20:00");
  CHECK(render(r) ==
        "XX AAA -- BHZ 2024-01-01T00:30:00.000000Z 2024-01-01T00:59:59.975000Z\n"
        "XX AAA -- BHZ 2024-01-01T00:59:00.000000Z 2024-01-01T01:04:59.975000Z\n"
        "XX AAA -- BHZ 2024-01-01T01:10:00.000000Z 2024-01-01T01:20:00.000000Z\n");

  r.extent = true;
  r.format = AvailabilityFormat::kText;
  CHECK(render(r) ==
        "#Network Station Location Channel Quality SampleRate Earliest                    Latest                      "
        "Updated              TimeSpans Restriction\n"
        "XX       AAA     --       BHZ     D       40.0       2024-01-01T00:30:00.000000Z 2024-01-01T01:20:00.000000Z "
        "2024-01-02T00:00:00Z 3         OPEN\n");
}

TEST_CASE("a span touching the window's edge keeps its sample on the edge", "[fdsn_availability]") {
  AvailabilityRequest r = query(AvailabilityFormat::kRequest);
  r.window_start_ns = at("2024-01-01T02:29:59.975000999");  // B1's last sample
  r.window_end_ns = at("2024-01-01T03:00:00");
  CHECK(render(r) == "XX AAA -- BHZ 2024-01-01T02:29:59.975000Z 2024-01-01T02:29:59.975000Z\n");
}

TEST_CASE("no span left gives no body", "[fdsn_availability]") {
  CHECK_FALSE(render_availability({}, query(), kCreated).has_value());
  CHECK_FALSE(render_availability({}, extent(AvailabilityFormat::kJson), kCreated).has_value());

  AvailabilityRequest r = query(AvailabilityFormat::kJson);
  r.window_start_ns = at("2024-06-01");
  CHECK_FALSE(render_availability(store(), r, kCreated).has_value());
  r.extent = true;
  CHECK_FALSE(render_availability(store(), r, kCreated).has_value());

  std::vector<AvailabilitySource> spanless = {{"XX", "AAA", "", "BHZ", 'D', 40.0, {}}};
  CHECK_FALSE(render_availability(spanless, query(), kCreated).has_value());
}

TEST_CASE("times before 1970 round down to the microsecond as well", "[fdsn_availability]") {
  const std::vector<AvailabilitySource> s = {
      {"XX", "OLD", "", "BHZ", 'D', 1.0, {{at("1969-12-31T23:59:59.9999999"), at("1969-12-31T23:59:59.9999999")}}}};
  CHECK(render(query(AvailabilityFormat::kRequest), s) ==
        "XX OLD -- BHZ 1969-12-31T23:59:59.999999Z 1969-12-31T23:59:59.999999Z\n");
}
