// StationInventory on its own: StationXML validation (what ObsPy needs, with
// errors that name the element and its line), and the fdsnws-station 1.1
// query over the hand-written fixture tests/data/stationxml/
// seisvault_test_inventory.xml: every selection parameter, each level, both
// formats (exact FDSN text headers), matchtimeseries and includeavailability
// against a hand-made store catalog, and "no data".
#include <catch2/catch.hpp>

#include <atomic>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "seisvault/common/time.h"
#include "seisvault/storage/inventory_document.h"
#include "station_inventory.h"

using namespace seisvault;
using namespace seisvault::server;

namespace {

const std::filesystem::path kFixture =
    std::filesystem::path(__FILE__).parent_path().parent_path() / "data/stationxml/seisvault_test_inventory.xml";

constexpr const char* kNetworkHeader = "#Network|Description|StartTime|EndTime|TotalStations";
constexpr const char* kStationHeader = "#Network|Station|Latitude|Longitude|Elevation|SiteName|StartTime|EndTime";
constexpr const char* kChannelHeader =
    "#Network|Station|Location|Channel|Latitude|Longitude|Elevation|Depth|Azimuth|Dip|SensorDescription|Scale|"
    "ScaleFreq|ScaleUnits|SampleRate|StartTime|EndTime";

std::string fixture_text() {
  std::ifstream in(kFixture);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TimeNs t(const char* iso) {
  auto r = parse_iso8601(iso);
  REQUIRE(r.ok());
  return *r;
}

std::shared_ptr<const StationInventory> build(const std::vector<std::string>& xmls, TimeNs loaded = 0) {
  std::vector<storage::InventoryDocument> docs;
  for (size_t i = 0; i < xmls.size(); ++i) docs.push_back({"doc" + std::to_string(i) + ".xml", xmls[i], loaded});
  auto inv = StationInventory::build(docs);
  INFO((inv.ok() ? std::string("ok") : inv.status().to_string()));
  REQUIRE(inv.ok());
  return *inv;
}

const StationInventory& fixture() {
  static const auto inv = build({fixture_text()}, t("2024-02-01T00:00:00"));
  return *inv;
}

std::optional<std::string> run(const StationQuery& q, std::span<const ChannelExtent> catalog = {},
                               const StationInventory& inv = fixture()) {
  auto r = inv.query(q, catalog);
  INFO((r.ok() ? std::string("ok") : r.status().to_string()));
  REQUIRE(r.ok());
  return *r;
}

// The text answer's lines, header first.
std::vector<std::string> lines(const StationQuery& q, std::span<const ChannelExtent> catalog = {}) {
  const auto answer = run(q, catalog);
  REQUIRE(answer.has_value());
  CHECK(answer->ends_with("\n"));
  std::vector<std::string> out;
  std::istringstream in(*answer);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

StationQuery text(StationLevel level) {
  StationQuery q;
  q.level = level;
  q.format = StationFormat::kText;
  return q;
}

// "NET.STA" of every station line, or "NET.STA.LOC.CHA START" of every channel line.
std::vector<std::string> stations_of(const StationQuery& q, std::span<const ChannelExtent> catalog = {}) {
  std::vector<std::string> out;
  const auto ls = lines(q, catalog);
  for (size_t i = 1; i < ls.size(); ++i) out.push_back(ls[i].substr(0, ls[i].find('|', ls[i].find('|') + 1)));
  for (auto& s : out) s[s.find('|')] = '.';
  return out;
}

std::vector<std::string> channels_of(const StationQuery& q, std::span<const ChannelExtent> catalog = {}) {
  std::vector<std::string> out;
  const auto ls = lines(q, catalog);
  for (size_t i = 1; i < ls.size(); ++i) {
    std::vector<std::string> f;
    std::istringstream in(ls[i]);
    for (std::string field; std::getline(in, field, '|');) f.push_back(field);
    out.push_back(f[0] + "." + f[1] + "." + f[2] + "." + f[3] + " " + f[15]);
  }
  return out;
}

size_t count(const std::string& s, std::string_view what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

// The fixture with `from` replaced by `to` (which must occur).
std::string fixture_with(std::string_view from, std::string_view to) {
  std::string x = fixture_text();
  const auto at = x.find(from);
  REQUIRE(at != std::string::npos);
  x.replace(at, from.size(), to);
  return x;
}

void replace_once(std::string& text, std::string_view from, std::string_view to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  text.replace(at, from.size(), to);
}

Status validate_error(const std::string& xml) {
  const auto s = StationInventory::validate(xml);
  INFO(s.to_string());
  REQUIRE(s.code() == StatusCode::kInvalidArgument);
  return s;
}

const std::string kMinimal = R"(<?xml version="1.0"?>
<FDSNStationXML xmlns="http://www.fdsn.org/xml/station/1" schemaVersion="1.1">
  <Source>X</Source>
  <Created>2024-01-01T00:00:00</Created>
  <Network code="XX" startDate="2020-01-01T00:00:00"/>
</FDSNStationXML>
)";

}  // namespace

// ---------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------

TEST_CASE("the fixture is valid StationXML and every epoch in it is counted", "[station][validate]") {
  CHECK(StationInventory::validate(fixture_text()).ok());
  CHECK(fixture().network_count() == 3);
  CHECK(fixture().station_count() == 5);   // BGLD, BALST, ANMO, COLA, KIEV
  CHECK(fixture().channel_count() == 13);  // 1 + 2 + 3 (two epochs of 00.BHZ) + 6 + 1
  CHECK(StationInventory::validate(kMinimal).ok());
}

TEST_CASE("a station without Site is refused, naming the station and the line", "[station][validate]") {
  const auto s = validate_error(fixture_with(R"(      <Site>
        <Name>Albuquerque, New Mexico, USA</Name>
      </Site>
)", ""));
  CHECK_THAT(s.message(), Catch::Contains("Network IU, Station ANMO") && Catch::Contains("no <Site>") &&
                              Catch::Contains("line 90"));
}

TEST_CASE("a Site without Name is refused", "[station][validate]") {
  const auto s = validate_error(fixture_with("<Name>Balsthal, SO</Name>", ""));
  CHECK_THAT(s.message(), Catch::Contains("Station BALST") && Catch::Contains("<Site> has no <Name>"));
}

TEST_CASE("a channel without Latitude is refused, naming the channel", "[station][validate]") {
  const auto s = validate_error(fixture_with(R"(<Channel code="EHE" locationCode="" startDate="2007-01-01T00:00:00" restrictedStatus="open">
        <Latitude>47.6045</Latitude>)",
                                             R"(<Channel code="EHE" locationCode="" startDate="2007-01-01T00:00:00" restrictedStatus="open">)"));
  CHECK_THAT(s.message(),
             Catch::Contains("Network BW, Station BGLD, Channel .EHE") && Catch::Contains("no <Latitude>"));
}

TEST_CASE("a station without Latitude, Longitude or Elevation is refused", "[station][validate]") {
  auto s = validate_error(fixture_with("      <Latitude>64.8736</Latitude>\n      <Longitude>", "      <Longitude>"));
  CHECK_THAT(s.message(), Catch::Contains("Station COLA: no <Latitude>"));
  s = validate_error(fixture_with("      <Elevation>863.0</Elevation>\n      <Site>", "      <Site>"));
  CHECK_THAT(s.message(), Catch::Contains("Station BALST: no <Elevation>"));
}

TEST_CASE("a document in another namespace, or with another root, is refused", "[station][validate]") {
  auto s = validate_error(fixture_with("http://www.fdsn.org/xml/station/1", "http://www.fdsn.org/xml/station/2"));
  CHECK_THAT(s.message(), Catch::Contains("namespace 'http://www.fdsn.org/xml/station/2'"));
  s = validate_error(fixture_with(R"(xmlns="http://www.fdsn.org/xml/station/1" )", ""));
  CHECK_THAT(s.message(), Catch::Contains("not FDSNStationXML in namespace"));
  s = validate_error(R"(<quakeml xmlns="http://quakeml.org/xmlns/quakeml/1.2"><eventParameters/></quakeml>)");
  CHECK_THAT(s.message(), Catch::Contains("<quakeml>"));
}

TEST_CASE("text that is not XML, and a truncated document, are refused as not well-formed", "[station][validate]") {
  auto s = validate_error("Network|Station|Latitude\nIU|ANMO|34.9\n");
  CHECK_THAT(s.message(), Catch::Contains("not well-formed XML"));
  s = validate_error("");
  CHECK_THAT(s.message(), Catch::Contains("not well-formed XML"));
  const std::string whole = fixture_text();
  s = validate_error(whole.substr(0, whole.size() / 2));
  CHECK_THAT(s.message(), Catch::Contains("not well-formed XML") && Catch::Contains("line "));
}

TEST_CASE("missing Source, Created or schemaVersion, or no network, are refused", "[station][validate]") {
  CHECK_THAT(validate_error(fixture_with("<Source>SeisVault test suite</Source>", "")).message(),
             Catch::Contains("no <Source>"));
  CHECK_THAT(validate_error(fixture_with("<Created>2024-01-15T12:00:00Z</Created>", "")).message(),
             Catch::Contains("no <Created>"));
  CHECK_THAT(validate_error(fixture_with("<Created>2024-01-15T12:00:00Z</Created>", "<Created>yesterday</Created>"))
                 .message(),
             Catch::Contains("<Created> 'yesterday' is not a time"));
  CHECK_THAT(validate_error(fixture_with(R"( schemaVersion="1.1")", "")).message(),
             Catch::Contains("no schemaVersion"));
  std::string no_network = kMinimal;
  replace_once(no_network, R"(  <Network code="XX" startDate="2020-01-01T00:00:00"/>
)", "");
  CHECK_THAT(validate_error(no_network).message(), Catch::Contains("no <Network>"));
}

TEST_CASE("numbers must be numbers and in range, times must parse, and epochs must not end before they start",
          "[station][validate]") {
  CHECK_THAT(validate_error(fixture_with("<Latitude>47.33578</Latitude>", "<Latitude>97.3</Latitude>")).message(),
             Catch::Contains("Station BALST: <Latitude> 97.3 is outside [-90, 90]"));
  CHECK_THAT(validate_error(fixture_with("<Longitude>-147.8616</Longitude>", "<Longitude>east</Longitude>")).message(),
             Catch::Contains("<Longitude> 'east' is not a number"));
  CHECK_THAT(validate_error(fixture_with("<Elevation>210.0</Elevation>", "<Elevation>NaN</Elevation>")).message(),
             Catch::Contains("<Elevation> 'NaN' is not a number"));
  CHECK_THAT(validate_error(fixture_with("<Azimuth>90.0</Azimuth>", "<Azimuth>400</Azimuth>")).message(),
             Catch::Contains("<Azimuth> 400 is outside [0, 360]"));
  CHECK_THAT(validate_error(fixture_with("<Dip>-90.0</Dip>", "<Dip>-91</Dip>")).message(),
             Catch::Contains("<Dip> -91 is outside [-90, 90]"));
  CHECK_THAT(validate_error(fixture_with("<Value>2.0E9</Value>", "<Value>big</Value>")).message(),
             Catch::Contains("Channel 00.LHZ: <Value> 'big' is not a number"));
  CHECK_THAT(validate_error(fixture_with(R"(<Station code="KIEV" startDate="1995-01-01T00:00:00")",
                                         R"(<Station code="KIEV" startDate="1995-13-01T00:00:00")"))
                 .message(),
             Catch::Contains("Station KIEV: startDate '1995-13-01T00:00:00' is not a time"));
  CHECK_THAT(validate_error(fixture_with(R"(endDate="2008-06-30T20:00:00")", R"(endDate="2001-06-30T20:00:00")"))
                 .message(),
             Catch::Contains("Channel 00.BHZ: endDate 2001-06-30T20:00:00 is before startDate 2002-11-19T21:07:00"));
  CHECK_THAT(validate_error(fixture_with(R"(<Station code="KIEV" startDate="1995-01-01T00:00:00")",
                                         R"(<Station code="KIEV")"))
                 .message(),
             Catch::Contains("Station KIEV: no startDate"));
  CHECK_THAT(validate_error(fixture_with(R"(restrictedStatus="closed">)", R"(restrictedStatus="secret">)")).message(),
             Catch::Contains("restrictedStatus 'secret'"));
}

TEST_CASE("codes are checked: a channel needs locationCode, codes are letters and digits", "[station][validate]") {
  CHECK_THAT(validate_error(fixture_with(R"(<Channel code="EHE" locationCode="")", R"(<Channel code="EHE")")).message(),
             Catch::Contains("no locationCode attribute"));
  CHECK_THAT(validate_error(fixture_with(R"(<Station code="BALST")", R"(<Station code="BAL ST")")).message(),
             Catch::Contains("code 'BAL ST'"));
  CHECK_THAT(validate_error(fixture_with(R"(<Network code="CH")", R"(<Network)")).message(),
             Catch::Contains("Network (no code): no code attribute"));
}

TEST_CASE("several problems are listed together, each with its place", "[station][validate]") {
  std::string x = fixture_with("<Latitude>47.33578</Latitude>", "<Latitude>x</Latitude>");
  replace_once(x, "<Name>Kiev, Ukraine</Name>", "");
  const auto s = validate_error(x);
  CHECK_THAT(s.message(), Catch::Contains("2 problems") && Catch::Contains("Station BALST: <Latitude> 'x'") &&
                              Catch::Contains("Station KIEV: <Site> has no <Name>"));
}

TEST_CASE("old-style blank location codes (spaces, --) and time zones are read", "[station][validate]") {
  std::string x = fixture_with(R"(<Channel code="EHE" locationCode="")", R"(<Channel code="EHE" locationCode="  ")");
  replace_once(x, R"(<Channel code="LHE" locationCode="")", R"(<Channel code="LHE" locationCode="--")");
  replace_once(x, R"(<Station code="BALST" startDate="2000-06-01T00:00:00")",
               R"(<Station code="BALST" startDate="2000-06-01T02:00:00+02:00")");
  auto inv = build({x});
  auto q = text(StationLevel::kChannel);
  q.selections[0].location = {"--"};
  auto r = inv->query(q, {});
  REQUIRE(r.ok());
  REQUIRE(r->has_value());
  CHECK_THAT(**r, Catch::Contains("BW|BGLD||EHE|") && Catch::Contains("CH|BALST||LHE|"));
  q = text(StationLevel::kStation);
  q.selections[0].station = {"BALST"};
  r = inv->query(q, {});
  REQUIRE(r.ok());
  CHECK_THAT(**r, Catch::Contains("|2000-06-01T00:00:00|"));
}

TEST_CASE("epoch times: fractions, 24:00, zone offsets and end dates beyond 2262 are read", "[station][validate]") {
  std::string x = fixture_with(R"(<Station code="ANMO" startDate="2002-11-19T21:07:00")",
                               R"(<Station code="ANMO" startDate="2002-11-19T21:07:00.1234567891Z" endDate="2599-12-31T23:59:59")");
  replace_once(x, R"(<Station code="COLA" startDate="2008-01-01T00:00:00")",
               R"(<Station code="COLA" startDate="2007-12-31T24:00:00")");
  replace_once(x, R"(<Station code="KIEV" startDate="1995-01-01T00:00:00")",
               R"(<Station code="KIEV" startDate="1994-12-31T19:00:00-05:00")");
  auto inv = build({x});
  auto q = text(StationLevel::kStation);
  q.selections[0].network = {"IU"};
  auto r = inv->query(q, {});
  REQUIRE(r.ok());
  REQUIRE(r->has_value());
  CHECK_THAT(**r, Catch::Contains("|2002-11-19T21:07:00.123456|2599-12-31T23:59:59\n") &&
                      Catch::Contains("IU|COLA|") && Catch::Contains("|2008-01-01T00:00:00|\n") &&
                      Catch::Contains("|1995-01-01T00:00:00|\n"));
  // An end in 2599 is after any time SeisVault can name, and before none.
  q.endafter = t("2262-01-01");
  r = inv->query(q, {});
  REQUIRE(r.ok());
  CHECK_THAT(r->value_or(""), Catch::Contains("IU|ANMO|"));
  q.endafter.reset();
  q.endbefore = t("2262-01-01");
  r = inv->query(q, {});
  REQUIRE(r.ok());
  CHECK_FALSE(r->has_value());
  // Times that are not xs:dateTime.
  for (const char* bad : {"2002-11-19T25:00:00", "2002-02-30T00:00:00", "2002-11-19T21:07", "02-11-19",
                          "2002-11-19T21:07:00+5", "2002-11-19T24:00:01"}) {
    INFO(bad);
    CHECK_FALSE(StationInventory::validate(fixture_with(R"(startDate="2002-11-19T21:07:00")",
                                                        std::string("startDate=\"") + bad + "\""))
                    .ok());
  }
}

// ---------------------------------------------------------------------------
// Levels and formats
// ---------------------------------------------------------------------------

TEST_CASE("level=network text: the exact header and one line per network", "[station][text]") {
  const auto ls = lines(text(StationLevel::kNetwork));
  REQUIRE(ls.size() == 4);
  CHECK(ls[0] == kNetworkHeader);
  CHECK(ls[1] == "BW|BayernNetz|2001-01-01T00:00:00||1");
  CHECK(ls[2] == "CH|Switzerland Seismological Network|1980-01-01T00:00:00||1");
  CHECK(ls[3] == "IU|Global Seismograph Network - IRIS/USGS|1988-01-01T00:00:00||3");
}

TEST_CASE("level=station text: the exact header, coordinates as written, site names", "[station][text]") {
  const auto ls = lines(text(StationLevel::kStation));
  REQUIRE(ls.size() == 6);
  CHECK(ls[0] == kStationHeader);
  CHECK(ls[1] == "BW|BGLD|47.6045|12.9975|1080.0|Berchtesgadener Land, Bavaria|2007-01-01T00:00:00|");
  CHECK(ls[2] == "CH|BALST|47.33578|7.69498|863.0|Balsthal, SO|2000-06-01T00:00:00|");
  CHECK(ls[3] == "IU|ANMO|34.9459|-106.4572|1850.0|Albuquerque, New Mexico, USA|2002-11-19T21:07:00|");
  CHECK(ls[4] == "IU|COLA|64.8736|-147.8616|200.0|College Outpost, Alaska, USA|2008-01-01T00:00:00|");
  CHECK(ls[5] == "IU|KIEV|50.7012|29.2242|210.0|Kiev, Ukraine|1995-01-01T00:00:00|");
}

TEST_CASE("level=channel text: the exact header, one line per epoch, sensitivity and empty end of an open epoch",
          "[station][text]") {
  auto q = text(StationLevel::kChannel);
  q.selections[0].station = {"ANMO", "COLA"};
  q.selections[0].channel = {"BHZ", "LHZ"};
  const auto ls = lines(q);
  REQUIRE(ls.size() == 8);
  CHECK(ls[0] == kChannelHeader);
  CHECK(ls[1] ==
        "IU|ANMO|00|BHZ|34.9459|-106.4572|1850.0|145.0|0.0|-90.0|Geotech KS-54000 Borehole Seismometer||||20.0|"
        "2002-11-19T21:07:00|2008-06-30T20:00:00");
  CHECK(ls[2] ==
        "IU|ANMO|00|BHZ|34.9459|-106.4572|1850.0|145.0|0.0|-90.0|Geotech KS-54000 Borehole Seismometer||||20.0|"
        "2008-06-30T20:00:00|");
  CHECK(ls[3].starts_with("IU|ANMO|10|BHZ|"));
  CHECK(ls[4].starts_with("IU|COLA|00|BHZ|64.8736|-147.8616|200.0|116.0|0.0|-90.0|||||20.0|"));
  CHECK(ls[5] ==
        "IU|COLA|00|LHZ|64.8736|-147.8616|200.0|116.0|0.0|-90.0|Streckeisen STS-1VBB w/E300|2.0E9|0.02|M/S|1.0|"
        "2008-01-01T00:00:00|");
  CHECK(ls[6].starts_with("IU|COLA|10|BHZ|"));
  CHECK(ls[7].starts_with("IU|COLA|10|LHZ|"));
}

TEST_CASE("level=response text gives the channel lines", "[station][text]") {
  auto q = text(StationLevel::kResponse);
  q.selections[0].network = {"CH"};
  const auto ls = lines(q);
  REQUIRE(ls.size() == 3);
  CHECK(ls[0] == kChannelHeader);
  CHECK(ls[1] ==
        "CH|BALST||LHE|47.33578|7.69498|863.0|2.0|90.0|0.0|Streckeisen STS-2||||1.0|2010-01-01T00:00:00|");
}

TEST_CASE("free text never breaks a text line: separators, line breaks and double quotes are replaced",
          "[station][text]") {
  auto inv = build({fixture_with("<Name>Balsthal, SO</Name>", "<Name>\"Bals|thal\"\n  SO</Name>")});
  auto q = text(StationLevel::kStation);
  q.selections[0].station = {"BALST"};
  auto r = inv->query(q, {});
  REQUIRE(r.ok());
  CHECK_THAT(**r, Catch::Contains("|863.0|'Bals thal'   SO|2000-06-01T00:00:00|\n"));
}

TEST_CASE("XML answers are complete FDSNStationXML documents, cut to the level", "[station][xml]") {
  StationQuery q;
  q.selections[0].network = {"IU"};
  q.selections[0].station = {"COLA"};

  q.level = StationLevel::kNetwork;
  auto x = run(q).value();
  CHECK_THAT(x, Catch::StartsWith("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
  CHECK_THAT(x, Catch::Contains(R"(<FDSNStationXML xmlns="http://www.fdsn.org/xml/station/1" schemaVersion="1.1">)"));
  CHECK_THAT(x, Catch::Contains("<Source>SeisVault</Source>") &&
                    Catch::Contains("<Sender>SeisVault Test Network Operator</Sender>") &&
                    Catch::Contains("<Module>SeisVault fdsnws-station</Module>") && Catch::Contains("<Created>"));
  CHECK(count(x, "<Network ") == 1);
  CHECK_THAT(x, Catch::Contains(R"(<Network code="IU" startDate="1988-01-01T00:00:00" restrictedStatus="open")"));
  CHECK_THAT(x, Catch::Contains("<TotalNumberStations>3</TotalNumberStations>") &&
                    Catch::Contains("<SelectedNumberStations>1</SelectedNumberStations>"));
  CHECK(count(x, "<Station ") == 0);

  q.level = StationLevel::kStation;
  x = run(q).value();
  CHECK(count(x, "<Station ") == 1);
  CHECK(count(x, "<Channel ") == 0);
  CHECK_THAT(x, Catch::Contains("<TotalNumberChannels>6</TotalNumberChannels>") &&
                    Catch::Contains("<SelectedNumberChannels>6</SelectedNumberChannels>"));
  // The counts stand where the schema puts them: after the network's own
  // elements, before its stations.
  CHECK(x.find("<SelectedNumberStations>") < x.find("<Station "));
  CHECK(x.find("<Description>Global Seismograph") < x.find("<TotalNumberStations>"));

  q.level = StationLevel::kChannel;
  x = run(q).value();
  CHECK(count(x, "<Channel ") == 6);
  CHECK(count(x, "<Response") == 0);
  CHECK(x.find("<SelectedNumberChannels>") < x.find("<Channel "));

  q.level = StationLevel::kResponse;
  x = run(q).value();
  CHECK(count(x, "<Channel ") == 6);
  CHECK(count(x, "<Response>") == 1);
  CHECK_THAT(x, Catch::Contains("<Value>2.0E9</Value>") && Catch::Contains(R"(<Stage number="1">)"));
}

TEST_CASE("elements SeisVault does not interpret are copied intact, other namespaces included", "[station][xml]") {
  StationQuery q;
  q.selections[0].station = {"ANMO"};
  const auto x = run(q).value();
  CHECK_THAT(x, Catch::Contains(R"(<Identifier type="DOI">10.7914/SN/IU</Identifier>)"));
  CHECK_THAT(x, Catch::Contains("<Value>Test comment: kept as written</Value>"));
  CHECK_THAT(x, Catch::Contains(R"(<sv:Extra note="an element of another namespace">kept intact</sv:Extra>)"));
  CHECK_THAT(x, Catch::Contains(R"(xmlns:sv="https://seisvault.example.org/xml/test")"));
  CHECK_THAT(x, Catch::Contains("<Vault>Borehole</Vault>"));
  // Description, Identifier, Comment, then the station's own elements.
  CHECK(x.find("<Identifier") < x.find("<Comment>"));
  CHECK(x.find("<sv:Extra") < x.find("<Latitude>34.9459</Latitude>"));
}

TEST_CASE("a document that binds StationXML to a prefix is read, and answered in the default namespace",
          "[station][xml]") {
  std::string x = fixture_text();
  // Every StationXML element of the fixture gets the prefix "fsx:".
  std::string prefixed;
  for (size_t i = 0; i < x.size(); ++i) {
    prefixed += x[i];
    if (x[i] == '<' && i + 1 < x.size() && (std::isupper(static_cast<unsigned char>(x[i + 1])))) prefixed += "fsx:";
    if (x[i] == '<' && i + 2 < x.size() && x[i + 1] == '/' && std::isupper(static_cast<unsigned char>(x[i + 2]))) {
      prefixed += '/';
      prefixed += "fsx:";
      ++i;
    }
  }
  prefixed.replace(prefixed.find(R"(xmlns="http)"), 6, "xmlns:fsx=");
  REQUIRE(prefixed.find("<fsx:FDSNStationXML xmlns:fsx=") != std::string::npos);
  REQUIRE(StationInventory::validate(prefixed).ok());
  auto inv = build({prefixed});
  StationQuery q;
  q.level = StationLevel::kResponse;
  q.selections[0].station = {"COLA"};
  q.selections[0].channel = {"LHZ"};
  q.selections[0].location = {"00"};
  auto r = inv->query(q, {});
  REQUIRE(r.ok());
  REQUIRE(r->has_value());
  CHECK(count(**r, "fsx:") == 0);
  CHECK_THAT(**r, Catch::Contains("<Value>2.0E9</Value>") && Catch::Contains("<Channel code=\"LHZ\""));
}

// ---------------------------------------------------------------------------
// Selection
// ---------------------------------------------------------------------------

TEST_CASE("network, station, location and channel codes select with ?, *, lists and -- for blank",
          "[station][select]") {
  auto q = text(StationLevel::kStation);
  q.selections[0].network = {"I?"};
  CHECK(stations_of(q) == std::vector<std::string>{"IU.ANMO", "IU.COLA", "IU.KIEV"});
  q.selections[0].network = {"BW", "CH"};
  CHECK(stations_of(q) == std::vector<std::string>{"BW.BGLD", "CH.BALST"});
  q.selections[0].network = {"*"};
  q.selections[0].station = {"*A*"};
  CHECK(stations_of(q) == std::vector<std::string>{"CH.BALST", "IU.ANMO", "IU.COLA"});

  q = text(StationLevel::kChannel);
  q.selections[0].location = {"--"};
  CHECK(channels_of(q) == std::vector<std::string>{"BW.BGLD..EHE 2007-01-01T00:00:00",
                                                   "CH.BALST..LHE 2010-01-01T00:00:00",
                                                   "CH.BALST..LHZ 2010-01-01T00:00:00"});
  q.selections[0].location = {"10"};
  q.selections[0].channel = {"?HZ"};
  CHECK(channels_of(q) == std::vector<std::string>{"IU.ANMO.10.BHZ 2008-06-30T20:00:00",
                                                   "IU.COLA.10.BHZ 2008-01-01T00:00:00",
                                                   "IU.COLA.10.LHZ 2008-01-01T00:00:00"});
  q.selections[0].location = {"*"};
  q.selections[0].channel = {"LH1", "LH2"};
  CHECK(channels_of(q) == std::vector<std::string>{"IU.COLA.00.LH1 2008-01-01T00:00:00",
                                                   "IU.COLA.00.LH2 2008-01-01T00:00:00"});
}

TEST_CASE("a station level query with channel codes keeps only stations that have such channels",
          "[station][select]") {
  auto q = text(StationLevel::kStation);
  q.selections[0].channel = {"LH?"};
  CHECK(stations_of(q) == std::vector<std::string>{"CH.BALST", "IU.COLA"});
  q.selections[0].channel = {"XYZ"};
  CHECK_FALSE(run(q).has_value());
}

TEST_CASE("starttime and endtime select the epochs that overlap the window", "[station][select][time]") {
  auto q = text(StationLevel::kChannel);
  q.selections[0].station = {"ANMO"};
  q.selections[0].location = {"00"};
  q.selections[0].start = t("2005-01-01");
  q.selections[0].end = t("2006-01-01");
  CHECK(channels_of(q) == std::vector<std::string>{"IU.ANMO.00.BHZ 2002-11-19T21:07:00"});
  q.selections[0].start = t("2010-02-27");
  q.selections[0].end.reset();
  CHECK(channels_of(q) == std::vector<std::string>{"IU.ANMO.00.BHZ 2008-06-30T20:00:00"});
  q.selections[0].start = t("2008-01-01");
  q.selections[0].end = t("2009-01-01");
  CHECK(channels_of(q).size() == 2);
  // Before anything existed: no data.
  q.selections[0].start.reset();
  q.selections[0].end = t("1970-01-01");
  CHECK_FALSE(run(q).has_value());

  // At station level the station epochs decide: BALST began in 2000, BGLD in 2007.
  q = text(StationLevel::kStation);
  q.selections[0].end = t("2005-01-01");
  CHECK(stations_of(q) == std::vector<std::string>{"CH.BALST", "IU.ANMO", "IU.KIEV"});
}

TEST_CASE("startbefore, startafter, endbefore and endafter compare strictly with the requested level's epochs",
          "[station][select][time]") {
  auto q = text(StationLevel::kChannel);
  q.selections[0].station = {"ANMO"};
  q.endbefore = t("2010-01-01");
  CHECK(channels_of(q) == std::vector<std::string>{"IU.ANMO.00.BHZ 2002-11-19T21:07:00"});
  q.endbefore.reset();
  q.endafter = t("2010-01-01");  // open epochs always end after
  CHECK(channels_of(q) == std::vector<std::string>{"IU.ANMO.00.BHZ 2008-06-30T20:00:00",
                                                   "IU.ANMO.10.BHZ 2008-06-30T20:00:00"});
  q.endafter.reset();
  q.startafter = t("2008-06-30T20:00:00");  // strictly after: the epoch starting exactly then is not
  CHECK_FALSE(run(q).has_value());
  q.startafter = t("2008-01-01");
  CHECK(channels_of(q).size() == 2);
  q.startafter.reset();
  q.startbefore = t("2008-01-01");
  CHECK(channels_of(q) == std::vector<std::string>{"IU.ANMO.00.BHZ 2002-11-19T21:07:00"});

  // At station level they apply to station epochs.
  q = text(StationLevel::kStation);
  q.startafter = t("2005-01-01");
  CHECK(stations_of(q) == std::vector<std::string>{"BW.BGLD", "IU.COLA"});
  // At network level to network epochs.
  q = text(StationLevel::kNetwork);
  q.startbefore = t("1985-01-01");
  const auto ls = lines(q);
  REQUIRE(ls.size() == 2);
  CHECK(ls[1].starts_with("CH|"));
}

TEST_CASE("a latitude/longitude box selects stations by station coordinates, across the 180th meridian too",
          "[station][select][geo]") {
  auto q = text(StationLevel::kStation);
  q.minlatitude = 40;
  q.maxlatitude = 60;
  q.minlongitude = 0;
  q.maxlongitude = 35;
  CHECK(stations_of(q) == std::vector<std::string>{"BW.BGLD", "CH.BALST", "IU.KIEV"});
  q.minlongitude = 10;
  CHECK(stations_of(q) == std::vector<std::string>{"BW.BGLD", "IU.KIEV"});
  // 170E to 100W through the 180th meridian: Alaska and New Mexico.
  q = text(StationLevel::kStation);
  q.minlongitude = 170;
  q.maxlongitude = -100;
  CHECK(stations_of(q) == std::vector<std::string>{"IU.ANMO", "IU.COLA"});
  // Bounds are inclusive.
  q = text(StationLevel::kStation);
  q.minlatitude = 47.33578;
  q.maxlatitude = 47.33578;
  CHECK(stations_of(q) == std::vector<std::string>{"CH.BALST"});
}

TEST_CASE("a radius selects stations by great-circle distance in degrees", "[station][select][geo]") {
  auto q = text(StationLevel::kStation);
  // From Zurich (47.37N 8.54E): BALST ~0.65 degrees, BGLD ~3.0, KIEV ~15.
  q.latitude = 47.37;
  q.longitude = 8.54;
  q.maxradius = 1;
  CHECK(stations_of(q) == std::vector<std::string>{"CH.BALST"});
  q.maxradius = 5;
  CHECK(stations_of(q) == std::vector<std::string>{"BW.BGLD", "CH.BALST"});
  q.minradius = 1;
  q.maxradius = 20;
  CHECK(stations_of(q) == std::vector<std::string>{"BW.BGLD", "IU.KIEV"});
  q.minradius = 170;
  q.maxradius = 180;
  CHECK_FALSE(run(q).has_value());
}

TEST_CASE("at channel level the area applies to channel coordinates", "[station][select][geo]") {
  auto inv = build({fixture_with(R"(<Channel code="LHZ" locationCode="" startDate="2010-01-01T00:00:00" restrictedStatus="open">
        <Latitude>47.33578</Latitude>)",
                                 R"(<Channel code="LHZ" locationCode="" startDate="2010-01-01T00:00:00" restrictedStatus="open">
        <Latitude>47.5</Latitude>)")});
  auto q = text(StationLevel::kChannel);
  q.minlatitude = 47.4;
  q.maxlatitude = 47.55;
  auto r = inv->query(q, {});
  REQUIRE(r.ok());
  REQUIRE(r->has_value());
  CHECK_THAT(**r, Catch::Contains("CH|BALST||LHZ|47.5|"));
  CHECK_THAT(**r, !Catch::Contains("LHE"));
  // At station level the station's coordinates decide: 47.33578 is outside.
  q.level = StationLevel::kStation;
  r = inv->query(q, {});
  REQUIRE(r.ok());
  CHECK_FALSE(r->has_value());
}

TEST_CASE("includerestricted=false drops closed stations and channels", "[station][select]") {
  auto q = text(StationLevel::kStation);
  q.selections[0].network = {"IU"};
  CHECK(stations_of(q) == std::vector<std::string>{"IU.ANMO", "IU.COLA", "IU.KIEV"});
  q.includerestricted = false;
  CHECK(stations_of(q) == std::vector<std::string>{"IU.ANMO", "IU.COLA"});
  q.selections[0].station = {"KIEV"};
  CHECK_FALSE(run(q).has_value());
}

TEST_CASE("networks without a matching station are left out, unless level=network asks nothing below",
          "[station][select]") {
  auto q = text(StationLevel::kNetwork);
  q.selections[0].station = {"ANMO"};
  auto ls = lines(q);
  REQUIRE(ls.size() == 2);
  CHECK(ls[1].starts_with("IU|"));
  // A network-level box: the networks with a station inside.
  q = text(StationLevel::kNetwork);
  q.minlongitude = 0;
  q.maxlongitude = 10;
  ls = lines(q);
  REQUIRE(ls.size() == 2);
  CHECK(ls[1].starts_with("CH|"));

  // A network with no stations at all answers a plain network query only.
  auto inv = build({kMinimal});
  q = text(StationLevel::kNetwork);
  auto r = inv->query(q, {});
  REQUIRE(r.ok());
  REQUIRE(r->has_value());
  CHECK_THAT(**r, Catch::Contains("XX||2020-01-01T00:00:00||0\n"));
  q = text(StationLevel::kStation);
  r = inv->query(q, {});
  REQUIRE(r.ok());
  CHECK_FALSE(r->has_value());
  q = text(StationLevel::kNetwork);
  q.selections[0].station = {"ANY"};
  r = inv->query(q, {});
  REQUIRE(r.ok());
  CHECK_FALSE(r->has_value());
}

TEST_CASE("several selections (POST lines) select the union, each with its own window", "[station][select]") {
  auto q = text(StationLevel::kChannel);
  q.selections.clear();
  StationQuery::Selection a;
  a.network = {"IU"};
  a.station = {"ANMO"};
  a.location = {"00"};
  a.channel = {"BHZ"};
  a.start = t("2003-01-01");
  a.end = t("2003-01-02");
  StationQuery::Selection b;
  b.network = {"CH"};
  b.channel = {"LHZ"};
  q.selections = {a, b};
  CHECK(channels_of(q) == std::vector<std::string>{"CH.BALST..LHZ 2010-01-01T00:00:00",
                                                   "IU.ANMO.00.BHZ 2002-11-19T21:07:00"});
}

TEST_CASE("matchtimeseries keeps only channels with stored data in their epoch and the window",
          "[station][select][data]") {
  // The corpus: IU.COLA.00.LH1/LH2/LHZ and IU.ANMO.00.BHZ on 2010-02-27, CH.BALST..LHZ in 2025.
  const std::vector<ChannelExtent> catalog = {
      {"CH.BALST..LHZ", t("2025-11-10T00:01:24.58"), t("2025-11-11T00:03:50.58")},
      {"IU.ANMO.00.BHZ", t("2010-02-27T06:30:00.019536"), t("2010-02-27T06:30:59.994538")},
      {"IU.COLA.00.LH1", t("2010-02-27T06:50:00.069539"), t("2010-02-27T07:59:59.069538")},
      {"IU.COLA.00.LH2", t("2010-02-27T06:50:00.069539"), t("2010-02-27T07:59:59.069538")},
      {"IU.COLA.00.LHZ", t("2010-02-27T06:50:00.069539"), t("2010-02-27T07:59:59.069538")},
      {"XX.TEST.00.LHZ", t("2010-02-27T06:50:00"), t("2010-02-27T07:55:51")},
  };
  auto q = text(StationLevel::kChannel);
  q.matchtimeseries = true;
  // ANMO.00.BHZ: only the epoch that holds the data.
  CHECK(channels_of(q, catalog) == std::vector<std::string>{"CH.BALST..LHZ 2010-01-01T00:00:00",
                                                            "IU.ANMO.00.BHZ 2008-06-30T20:00:00",
                                                            "IU.COLA.00.LH1 2008-01-01T00:00:00",
                                                            "IU.COLA.00.LH2 2008-01-01T00:00:00",
                                                            "IU.COLA.00.LHZ 2008-01-01T00:00:00"});
  // The window must overlap the data too.
  q.selections[0].start = t("2020-01-01");
  CHECK(channels_of(q, catalog) == std::vector<std::string>{"CH.BALST..LHZ 2010-01-01T00:00:00"});
  // Station level: stations with such channels.
  q = text(StationLevel::kStation);
  q.matchtimeseries = true;
  CHECK(stations_of(q, catalog) == std::vector<std::string>{"CH.BALST", "IU.ANMO", "IU.COLA"});
  // Nothing stored: no data.
  CHECK_FALSE(run(q, {}).has_value());
}

TEST_CASE("includeavailability adds the stored data's extent, clipped to each epoch", "[station][xml][data]") {
  const std::vector<ChannelExtent> catalog = {
      {"IU.COLA.00.LH1", t("2010-02-27T06:50:00.069539"), t("2010-02-27T07:59:59.069538")},
      {"IU.COLA.00.LHZ", t("2010-02-27T06:40:00"), t("2010-02-27T07:59:59.069538")},
  };
  StationQuery q;
  q.level = StationLevel::kChannel;
  q.includeavailability = true;
  q.selections[0].station = {"COLA"};
  q.selections[0].location = {"00"};
  const auto x = run(q, catalog).value();
  CHECK(count(x, "<DataAvailability>") == 3);  // the station, LH1, LHZ
  CHECK_THAT(x, Catch::Contains(R"(<Extent start="2010-02-27T06:50:00.069539Z" end="2010-02-27T07:59:59.069538Z" />)"));
  CHECK_THAT(x, Catch::Contains(R"(<Extent start="2010-02-27T06:40:00Z" end="2010-02-27T07:59:59.069538Z" />)"));
  // Where the schema wants it: before the channel's coordinates.
  const auto lh1 = x.find(R"(<Channel code="LH1")");
  CHECK(x.find("<DataAvailability>", lh1) < x.find("<Latitude>", lh1));

  // Data outside an epoch is not that epoch's.
  q.selections[0].station = {"ANMO"};
  q.selections[0].location = {"00"};
  const std::vector<ChannelExtent> anmo = {{"IU.ANMO.00.BHZ", t("2010-02-27T06:30:00"), t("2010-02-27T06:31:00")}};
  const auto y = run(q, anmo).value();
  CHECK(count(y, "<DataAvailability>") == 2);  // the station and the second epoch
  CHECK(y.find("<DataAvailability>", y.find(R"(endDate="2008-06-30T20:00:00")")) >
        y.find(R"(startDate="2008-06-30T20:00:00")"));
  // Without the flag, none.
  q.includeavailability = false;
  CHECK(count(run(q, anmo).value(), "<DataAvailability>") == 0);
}

TEST_CASE("updatedafter: a document loaded at or before the time contributes nothing", "[station][select][time]") {
  auto q = text(StationLevel::kNetwork);
  q.updatedafter = t("2024-01-01");
  CHECK(lines(q).size() == 4);  // loaded 2024-02-01
  q.updatedafter = t("2024-02-01");
  CHECK_FALSE(run(q).has_value());
}

TEST_CASE("nothing matched, or no metadata at all, is no data (nullopt)", "[station][select]") {
  StationQuery q;
  q.selections[0].network = {"ZZ"};
  CHECK_FALSE(run(q).has_value());
  const auto empty = build({});
  CHECK(empty->network_count() == 0);
  for (auto level : {StationLevel::kNetwork, StationLevel::kStation, StationLevel::kChannel}) {
    StationQuery any;
    any.level = level;
    auto r = empty->query(any, {});
    REQUIRE(r.ok());
    CHECK_FALSE(r->has_value());
  }
}

TEST_CASE("contradictory or out-of-range query parameters are InvalidArgument", "[station][select]") {
  auto bad = [](const std::function<void(StationQuery&)>& change) {
    StationQuery q;
    change(q);
    return fixture().query(q, {}).status().code();
  };
  CHECK(bad([](auto& q) {
          q.minlatitude = 10;
          q.maxlatitude = 5;
        }) == StatusCode::kInvalidArgument);
  CHECK(bad([](auto& q) { q.maxlatitude = 91; }) == StatusCode::kInvalidArgument);
  CHECK(bad([](auto& q) { q.minlongitude = -181; }) == StatusCode::kInvalidArgument);
  CHECK(bad([](auto& q) { q.maxradius = 10; }) == StatusCode::kInvalidArgument);  // no centre
  CHECK(bad([](auto& q) { q.latitude = 10; }) == StatusCode::kInvalidArgument);   // no longitude
  CHECK(bad([](auto& q) {
          q.latitude = 0;
          q.longitude = 0;
          q.minradius = 5;
          q.maxradius = 1;
        }) == StatusCode::kInvalidArgument);
  CHECK(bad([](auto& q) { q.selections.clear(); }) == StatusCode::kInvalidArgument);
  CHECK(bad([](auto& q) {
          q.selections[0].start = 10;
          q.selections[0].end = 5;
        }) == StatusCode::kInvalidArgument);
}

TEST_CASE("build names the stored document that does not validate", "[station][validate]") {
  std::vector<storage::InventoryDocument> docs = {{"good.xml", fixture_text(), 0}, {"bad.xml", "<x/>", 0}};
  auto inv = StationInventory::build(docs);
  REQUIRE_FALSE(inv.ok());
  CHECK_THAT(inv.status().message(), Catch::Contains("bad.xml"));
}

TEST_CASE("concurrent queries on one inventory give the same answers", "[station][threads]") {
  auto q = text(StationLevel::kChannel);
  const auto expected = run(q).value();
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int k = 0; k < 50; ++k) {
        auto r = fixture().query(q, {});
        if (!r.ok() || !r->has_value() || **r != expected) ++mismatches;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(mismatches == 0);
}
