#include <catch2/catch.hpp>

#include <libmseed.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "seedlink_info.h"
#include "seisvault/common/libmseed_lock.h"
#include "seisvault/common/mseed_record.h"
#include "seisvault/common/seedlink_wire.h"

using namespace seisvault;
using namespace seisvault::server::seedlink;
using nlohmann::json;

namespace {

TimeNs at(const char* iso) { return *parse_iso8601(iso); }

InfoServer test_server() {
  InfoServer s;
  s.software = "SeedLink v4.0 (SeisVault/0.1) :: SLPROTO:4.0 SLPROTO:3.1";
  s.organization = "SeisVault test";
  s.started = at("2024-05-01T12:00:00.123456Z");
  s.capabilities.assign(kV3Capabilities.begin(), kV3Capabilities.end());
  return s;
}

InfoSnapshot snapshot() {
  InfoSnapshot info;
  info.server = test_server();
  InfoStation anmo;
  anmo.network = "IU";
  anmo.station = "ANMO";
  anmo.description = "Albuquerque, New Mexico";
  anmo.begin_sequence = 0x1000;
  anmo.end_sequence = 0x1234;
  anmo.streams.push_back({"00", "BHZ", 'D', at("2024-05-01T00:00:00.019538Z"), at("2024-05-01T01:00:00Z")});
  anmo.streams.push_back({"", "LOG", 'L', at("2024-05-01T00:10:00Z"), at("2024-05-01T00:10:00Z")});
  InfoStation big;
  big.network = "XX";
  big.station = "BIG";
  big.description = "";
  big.begin_sequence = 5'000'000'000;  // beyond 24 bits
  big.end_sequence = 5'000'000'100;
  info.stations = {anmo, big};
  return info;
}

// Minimal well-formedness check of what info_xml() writes: a declaration,
// then elements whose attribute values are quoted and hold no '<', '"' or
// bare '&'; tags balance; everything is printable ASCII.
bool well_formed(const std::string& xml, std::string* why) {
  auto fail = [&](std::string m) {
    *why = std::move(m);
    return false;
  };
  for (unsigned char c : xml) {
    if (c >= 0x80 || (c < 0x20 && c != '\n')) return fail("byte " + std::to_string(c) + " outside printable ASCII");
  }
  const std::string decl = "<?xml version=\"1.0\"?>\n";
  if (xml.rfind(decl, 0) != 0) return fail("no XML declaration");
  std::vector<std::string> open;
  size_t i = decl.size();
  while (i < xml.size()) {
    if (xml[i] == '\n') { ++i; continue; }
    if (xml[i] != '<') return fail("text outside tags at " + std::to_string(i));
    const size_t end = xml.find('>', i);
    if (end == std::string::npos) return fail("unterminated tag");
    std::string tag = xml.substr(i + 1, end - i - 1);
    i = end + 1;
    if (tag[0] == '/') {
      if (open.empty() || open.back() != tag.substr(1)) return fail("unbalanced </" + tag.substr(1) + ">");
      open.pop_back();
      continue;
    }
    const bool empty = tag.back() == '/';
    if (empty) tag.pop_back();
    const size_t name_end = tag.find(' ');
    const std::string name = tag.substr(0, name_end);
    size_t p = name_end;
    while (p != std::string::npos && p < tag.size()) {
      while (p < tag.size() && tag[p] == ' ') ++p;
      if (p >= tag.size()) break;
      const size_t eq = tag.find("=\"", p);
      if (eq == std::string::npos) return fail("attribute without =\" in <" + name + ">");
      const size_t close = tag.find('"', eq + 2);
      if (close == std::string::npos) return fail("unquoted attribute in <" + name + ">");
      const std::string value = tag.substr(eq + 2, close - eq - 2);
      if (value.find('<') != std::string::npos) return fail("'<' in an attribute value");
      for (size_t a = value.find('&'); a != std::string::npos; a = value.find('&', a + 1)) {
        const size_t semi = value.find(';', a);
        const std::string ref = value.substr(a, semi == std::string::npos ? 1 : semi - a + 1);
        static const std::vector<std::string> kEntities = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
        const bool named = std::find(kEntities.begin(), kEntities.end(), ref) != kEntities.end();
        const bool numeric = ref.rfind("&#x", 0) == 0 && ref.size() > 4 && ref.back() == ';';
        if (!named && !numeric) return fail("bare '&' in an attribute value: " + ref);
      }
      p = close + 1;
    }
    if (!empty) open.push_back(name);
  }
  if (!open.empty()) return fail("<" + open.back() + "> not closed");
  return true;
}

void require_well_formed(const std::string& xml) {
  std::string why;
  INFO(xml);
  REQUIRE(well_formed(xml, &why));
}

// libmseed's reading of one INFO record.
struct InfoRecord {
  std::string id;
  int encoding = -1;
  int reclen = 0;
  double rate = -1;
  hptime_t start = 0;
  int sequence = 0;
  std::string text;
};

InfoRecord read_info_record(const std::string& packet_record) {
  InfoRecord out;
  std::vector<char> buf(packet_record.begin(), packet_record.end());
  LibmseedLock lock;
  MseedRecord msr;
  REQUIRE(msr_parse(buf.data(), static_cast<int>(buf.size()), msr.out(), -1, 1, 0) == MS_NOERROR);
  REQUIRE_FALSE(lock.error_logged());
  out.id = std::string(msr->network) + "." + msr->station + "." + msr->location + "." + msr->channel;
  out.encoding = msr->encoding;
  out.reclen = msr->reclen;
  out.rate = msr->samprate;
  out.start = msr->starttime;
  out.sequence = msr->sequence_number;
  if (msr->numsamples > 0) REQUIRE(msr->sampletype == 'a');
  out.text.assign(static_cast<const char*>(msr->datasamples), static_cast<size_t>(msr->numsamples));
  return out;
}

// Splits what pack_v3_info() wrote into packets, checking the SLINFO framing.
std::vector<InfoRecord> read_v3_info(const std::string& bytes) {
  constexpr size_t kPacket = 8 + 512;
  REQUIRE(bytes.size() % kPacket == 0);
  std::vector<InfoRecord> out;
  for (size_t off = 0; off < bytes.size(); off += kPacket) {
    const bool last = off + kPacket == bytes.size();
    seisvault::seedlink::PacketHeader header;
    std::string error;
    const auto* p = reinterpret_cast<const uint8_t*>(bytes.data()) + off;
    REQUIRE(seisvault::seedlink::parse_packet_header({p, kPacket}, false, header, &error) ==
            seisvault::seedlink::HeaderParse::kOk);
    CHECK(header.kind == seisvault::seedlink::PacketHeader::Kind::kV3Info);
    CHECK(header.info_more == !last);
    CHECK(bytes.substr(off, 8) == (last ? "SLINFO  " : "SLINFO *"));
    out.push_back(read_info_record(bytes.substr(off + 8, 512)));
  }
  return out;
}

std::string joined_text(const std::vector<InfoRecord>& records) {
  std::string s;
  for (const auto& r : records) s += r.text;
  return s;
}

}  // namespace

TEST_CASE("INFO levels are read case-insensitively; GAPS and ALL are not offered", "[info]") {
  CHECK(parse_info_level("ID") == InfoLevel::kId);
  CHECK(parse_info_level("capabilities") == InfoLevel::kCapabilities);
  CHECK(parse_info_level("Streams") == InfoLevel::kStreams);
  CHECK(parse_info_level("STATIONS") == InfoLevel::kStations);
  CHECK(parse_info_level("connections") == InfoLevel::kConnections);
  CHECK(parse_info_level("FORMATS") == InfoLevel::kFormats);
  CHECK_FALSE(parse_info_level("GAPS"));
  CHECK_FALSE(parse_info_level("ALL"));
  CHECK_FALSE(parse_info_level(""));
  CHECK_FALSE(parse_info_level("STREAM"));
}

TEST_CASE("v3 INFO ID is the bare seedlink element with SeisComP's time format", "[info][v3]") {
  const std::string xml = info_xml(InfoLevel::kId, snapshot());
  CHECK(xml ==
        "<?xml version=\"1.0\"?>\n"
        "<seedlink software=\"SeedLink v4.0 (SeisVault/0.1) :: SLPROTO:4.0 SLPROTO:3.1\" "
        "organization=\"SeisVault test\" started=\"2024/05/01 12:00:00.1234\"/>");
  CHECK(info_xml_error(test_server()) == xml);
  require_well_formed(xml);
}

TEST_CASE("v3 INFO CAPABILITIES lists multistation, which ObsPy's easyseedlink requires", "[info][v3]") {
  const std::string xml = info_xml(InfoLevel::kCapabilities, snapshot());
  require_well_formed(xml);
  CHECK(xml.find("<capability name=\"multistation\"/>") != std::string::npos);
  CHECK(xml.find("<capability name=\"info:streams\"/>") != std::string::npos);
  CHECK(xml.find("<capability name=\"dialup\"/>") != std::string::npos);
  CHECK(xml.substr(xml.size() - 11) == "</seedlink>");
}

TEST_CASE("v3 INFO STATIONS shows 24-bit hex sequences and no streams", "[info][v3]") {
  const std::string xml = info_xml(InfoLevel::kStations, snapshot());
  require_well_formed(xml);
  CHECK(xml.find("<station name=\"ANMO\" network=\"IU\" description=\"Albuquerque, New Mexico\" "
                 "begin_seq=\"001000\" end_seq=\"001234\" stream_check=\"enabled\"/>") != std::string::npos);
  // 5'000'000'000 = 0x12A05F200: the low 24 bits.
  CHECK(xml.find("<station name=\"BIG\" network=\"XX\" description=\"\" begin_seq=\"05F200\" end_seq=\"05F264\" "
                 "stream_check=\"enabled\"/>") != std::string::npos);
  CHECK(xml.find("<stream") == std::string::npos);
}

TEST_CASE("v3 INFO STREAMS nests streams in stations as SeisComP writes them", "[info][v3]") {
  const std::string xml = info_xml(InfoLevel::kStreams, snapshot());
  require_well_formed(xml);
  CHECK(xml ==
        "<?xml version=\"1.0\"?>\n"
        "<seedlink software=\"SeedLink v4.0 (SeisVault/0.1) :: SLPROTO:4.0 SLPROTO:3.1\" "
        "organization=\"SeisVault test\" started=\"2024/05/01 12:00:00.1234\">\n"
        "<station name=\"ANMO\" network=\"IU\" description=\"Albuquerque, New Mexico\" begin_seq=\"001000\" "
        "end_seq=\"001234\" stream_check=\"enabled\">\n"
        "<stream location=\"00\" seedname=\"BHZ\" type=\"D\" begin_time=\"2024/05/01 00:00:00.0195\" "
        "end_time=\"2024/05/01 01:00:00.0000\" begin_recno=\"000000\" end_recno=\"000000\" gap_check=\"disabled\" "
        "gap_treshold=\"0\"/>\n"
        "<stream location=\"\" seedname=\"LOG\" type=\"L\" begin_time=\"2024/05/01 00:10:00.0000\" "
        "end_time=\"2024/05/01 00:10:00.0000\" begin_recno=\"000000\" end_recno=\"000000\" gap_check=\"disabled\" "
        "gap_treshold=\"0\"/>\n"
        "</station>\n"
        "<station name=\"BIG\" network=\"XX\" description=\"\" begin_seq=\"05F200\" end_seq=\"05F264\" "
        "stream_check=\"enabled\"/>\n"
        "</seedlink>");
}

TEST_CASE("v3 INFO CONNECTIONS puts each connection under the station it requested", "[info][v3]") {
  InfoSnapshot info = snapshot();
  InfoConnection obspy;
  obspy.host = "192.0.2.7";
  obspy.port = 40000;
  obspy.connected = at("2024-05-01T12:30:00Z");
  obspy.protocol_version = "3.1";
  obspy.current_sequence = 0x1230;
  obspy.packets_sent = 17;
  obspy.bytes_sent = 17 * 520;
  InfoConnectionStation want;
  want.network = "IU";
  want.station = "ANMO";
  want.selectors = {"00BHZ.D"};
  want.begin_sequence = 0x1200;
  want.window_begin = at("2024-05-01T00:00:00Z");
  obspy.stations.push_back(want);
  InfoConnection idle;
  idle.host = "2001:db8::1";
  idle.port = 50000;
  idle.user_agent = "slinktool/4.0 <evil> & \"quotes\"";
  info.connections = {obspy, idle};

  const std::string xml = info_xml(InfoLevel::kConnections, info);
  require_well_formed(xml);
  CHECK(xml.find("<station name=\"ANMO\" network=\"IU\" description=\"Albuquerque, New Mexico\" begin_seq=\"001000\" "
                 "end_seq=\"001234\" stream_check=\"enabled\">\n"
                 "<connection host=\"192.0.2.7\" port=\"40000\" ctime=\"2024/05/01 12:30:00.0000\" "
                 "begin_seq=\"001200\" current_seq=\"001230\" sequence_gaps=\"0\" txcount=\"17\" totBytes=\"8840\" "
                 "begin_seq_valid=\"yes\" realtime=\"yes\" end_of_data=\"no\">\n"
                 "<window begin_time=\"2024/05/01 00:00:00.0000\" end_time=\"unset\"/>\n"
                 "<selector pattern=\"00BHZ.D\"/>\n"
                 "</connection>\n"
                 "</station>") != std::string::npos);
  CHECK(xml.find("<station name=\"CLIENT\" network=\"SL\" "
                 "description=\"slinktool/4.0 &lt;evil&gt; &amp; &quot;quotes&quot;\"") != std::string::npos);
  CHECK(xml.find("current_seq=\"unset\"") != std::string::npos);
  CHECK(xml.find("name=\"BIG\"") == std::string::npos);  // no connection asked for it
}

TEST_CASE("hostile names are escaped and the XML stays well-formed plain ASCII", "[info][v3]") {
  InfoSnapshot info = snapshot();
  info.server.organization = "Zürich & <Co> \"quoted\" 'single'";
  info.stations[0].description = std::string("tab\there\nnewline\rcr\x01" "ctl") + "\xF0" + "bad" + "\xC3" +
                                 "\xA9" + "t\xC3\xA9" + "\xEF\xBF\xBE" + "\xF0\x9F\x8C\x8B";
  info.stations[0].streams[0].location = "\"><script>";
  info.server.capabilities.push_back("</seedlink><x y=\"");
  for (InfoLevel level : {InfoLevel::kId, InfoLevel::kCapabilities, InfoLevel::kStations, InfoLevel::kStreams,
                          InfoLevel::kConnections}) {
    require_well_formed(info_xml(level, info));
  }
  const std::string xml = info_xml(InfoLevel::kStreams, info);
  CHECK(xml.find("organization=\"Z&#xFC;rich &amp; &lt;Co&gt; &quot;quoted&quot; &apos;single&apos;\"") !=
        std::string::npos);
  // \t \n \r as references; a control byte, a stray 0xF0 and U+FFFE as U+FFFD;
  // é (twice) and a four-byte emoji as references.
  CHECK(xml.find("description=\"tab&#x9;here&#xA;newline&#xD;cr&#xFFFD;ctl&#xFFFD;bad&#xE9;t&#xE9;&#xFFFD;&#x1F30B;\"") !=
        std::string::npos);
  CHECK(xml.find("location=\"&quot;&gt;&lt;script&gt;\"") != std::string::npos);
}

TEST_CASE("v3 INFO records: 512-byte text records XX.INFO..INF, SLINFO * until the last", "[info][v3]") {
  InfoSnapshot info = snapshot();
  // Enough stations that the document spans many records.
  for (int i = 0; i < 150; ++i) {
    InfoStation s;
    s.network = "XX";
    s.station = "S" + std::to_string(i);
    s.description = "station number " + std::to_string(i) + " & co";
    s.begin_sequence = static_cast<uint64_t>(i) * 1000;
    s.end_sequence = s.begin_sequence + 999;
    s.streams.push_back({"00", "HHZ", 'D', at("2024-05-01T00:00:00Z"), at("2024-05-01T00:05:00Z")});
    s.streams.push_back({"00", "HHN", 'D', at("2024-05-01T00:00:00Z"), at("2024-05-01T00:05:00Z")});
    info.stations.push_back(s);
  }
  const std::string xml = info_xml(InfoLevel::kStreams, info);
  require_well_formed(xml);
  const TimeNs now = at("2024-06-15T08:09:10.123456789Z");
  const std::string bytes = pack_v3_info(xml, false, now);
  const auto records = read_v3_info(bytes);
  REQUIRE(records.size() == (xml.size() + 455) / 456);
  REQUIRE(records.size() > 50);
  CHECK(joined_text(records) == xml);
  for (size_t i = 0; i < records.size(); ++i) {
    INFO("record " << i);
    CHECK(records[i].id == "XX.INFO..INF");
    CHECK(records[i].encoding == DE_ASCII);
    CHECK(records[i].reclen == 512);
    CHECK(records[i].rate == 0.0);
    CHECK(records[i].sequence == static_cast<int>(i) + 1);
    CHECK(records[i].start == 1718438950123400);  // now, in 100 us ticks
    CHECK(records[i].text.size() == (i + 1 < records.size() ? 456u : xml.size() - 456 * i));
  }
}

TEST_CASE("v3 INFO error answers use channel ERR", "[info][v3]") {
  const std::string xml = info_xml_error(test_server());
  const auto records = read_v3_info(pack_v3_info(xml, true, at("2024-05-01T00:00:00Z")));
  REQUIRE(records.size() == 1);
  CHECK(records[0].id == "XX.INFO..ERR");
  CHECK(records[0].text == xml);
}

TEST_CASE("v3 INFO record boundaries: 456 bytes fit one record, 457 need two, empty still answers", "[info][v3]") {
  const TimeNs now = at("2024-05-01T00:00:00Z");
  CHECK(read_v3_info(pack_v3_info(std::string(456, 'a'), false, now)).size() == 1);
  const auto two = read_v3_info(pack_v3_info(std::string(457, 'b'), false, now));
  REQUIRE(two.size() == 2);
  CHECK(two[1].text == "b");
  const auto none = read_v3_info(pack_v3_info("", false, now));
  REQUIRE(none.size() == 1);
  CHECK(none[0].text.empty());
}

TEST_CASE("v4 INFO ID, CAPABILITIES and FORMATS follow the specification's JSON", "[info][v4]") {
  const InfoSnapshot info = snapshot();
  const json id = json::parse(info_json(InfoLevel::kId, info));
  CHECK(id["software"] == info.server.software);
  CHECK(id["organization"] == "SeisVault test");
  CHECK(id["server_start"] == "2024-05-01T12:00:00Z");
  CHECK(nlohmann::ordered_json::parse(info_json(InfoLevel::kId, info)).begin().key() == "software");

  const json caps = json::parse(info_json(InfoLevel::kCapabilities, info));
  REQUIRE(caps["capability"].is_array());
  CHECK(caps["capability"].size() == kV3Capabilities.size());
  CHECK(caps["capability"][1] == "multistation");

  const json formats = json::parse(info_json(InfoLevel::kFormats, info));
  CHECK(formats["format"]["2"]["mimetype"] == "application/vnd.fdsn.mseed");
  for (const char* sub : {"D", "E", "C", "T", "L", "O"}) CHECK(formats["format"]["2"]["subformat"].contains(sub));
  CHECK(formats["format"]["J"]["subformat"]["I"] == "seedlink-info");
  CHECK(formats["format"]["J"]["subformat"]["E"] == "seedlink-error");
}

TEST_CASE("v4 INFO STATIONS and STREAMS carry 64-bit sequences and FDSN stream ids", "[info][v4]") {
  const InfoSnapshot info = snapshot();
  const json stations = json::parse(info_json(InfoLevel::kStations, info));
  REQUIRE(stations["station"].size() == 2);
  const json& anmo = stations["station"][0];
  CHECK(anmo["id"] == "IU_ANMO");
  CHECK(anmo["description"] == "Albuquerque, New Mexico");
  CHECK(anmo["begin_seq"] == 0x1000);
  CHECK(anmo["end_seq"] == 0x1234);
  CHECK(anmo["start_seq"] == 0x1000);  // ringserver's and slinktool's name
  CHECK(anmo["backfill"] == -1);
  CHECK_FALSE(anmo.contains("stream"));
  CHECK(stations["station"][1]["begin_seq"] == 5'000'000'000ULL);

  const json streams = json::parse(info_json(InfoLevel::kStreams, info));
  const json& s = streams["station"][0]["stream"];
  REQUIRE(s.size() == 2);
  CHECK(s[0]["id"] == "00_B_H_Z");
  CHECK(s[0]["format"] == "2");
  CHECK(s[0]["subformat"] == "D");
  CHECK(s[0]["origin"] == "native");
  CHECK(s[0]["begin_time"] == "2024-05-01T00:00:00.019538Z");
  CHECK(s[0]["start_time"] == "2024-05-01T00:00:00.019538Z");
  CHECK(s[0]["end_time"] == "2024-05-01T01:00:00.000000Z");
  CHECK(s[1]["id"] == "_L_O_G");
  CHECK(s[1]["subformat"] == "L");
  CHECK(streams["station"][1]["stream"].empty());
}

TEST_CASE("v4 INFO CONNECTIONS uses ringserver's keys, which slinktool prints", "[info][v4]") {
  InfoSnapshot info = snapshot();
  InfoConnection c;
  c.host = "192.0.2.7";
  c.port = 40000;
  c.server_port = 18000;
  c.connected = at("2024-05-01T12:30:00.5Z");
  c.user_agent = "slinktool/4.0 libslink/4.0";
  c.protocol_version = "4.0";
  c.packets_sent = 3;
  c.bytes_sent = 1500;
  InfoConnectionStation want;
  want.network = "IU";
  want.station = "*";
  want.selectors = {"00_B_H_?"};
  want.begin_sequence = 42;
  c.stations.push_back(want);
  info.connections = {c};
  const json j = json::parse(info_json(InfoLevel::kConnections, info));
  CHECK(j["connections"]["client_count"] == 1);
  const json& client = j["connections"]["client"][0];
  CHECK(client["host"] == "192.0.2.7");
  CHECK(client["client_port"] == "40000");
  CHECK(client["server_port"] == "18000");
  CHECK(client["type"] == "SeedLink");
  CHECK(client["client_id"] == "slinktool/4.0 libslink/4.0");
  CHECK(client["connect_time"] == "2024-05-01T12:30:00Z");
  CHECK(client["protocol_version"] == "4.0");
  CHECK(client["transmit_packets"] == 3);
  CHECK(client["transmit_bytes"] == 1500);
  CHECK(client["station"][0]["id"] == "IU_*");
  CHECK(client["station"][0]["selector"][0] == "00_B_H_?");
  CHECK(client["station"][0]["start_packet_id"] == 42);
}

TEST_CASE("v4 errors are JSON with a code and a message", "[info][v4]") {
  const json j = json::parse(info_json_error(test_server(), "ARGUMENTS", "requested info level is not supported"));
  CHECK(j["software"] == test_server().software);
  CHECK(j["error"]["code"] == "ARGUMENTS");
  CHECK(j["error"]["message"] == "requested info level is not supported");
}

TEST_CASE("v4 JSON survives hostile strings: escaped, ASCII, invalid UTF-8 replaced", "[info][v4]") {
  InfoSnapshot info = snapshot();
  info.stations[0].description = "quote\" backslash\\ newline\n nul" + std::string(1, '\0') + " Zürich";
  info.stations[1].description = "bad \xF0 byte";
  const std::string text = info_json(InfoLevel::kStations, info);
  for (unsigned char c : text) CHECK(c < 0x80);
  const json j = json::parse(text);
  CHECK(j["station"][0]["description"] == info.stations[0].description);
  CHECK(j["station"][1]["description"] == "bad \xEF\xBF\xBD byte");
}

TEST_CASE("v4 INFO packets: SE, J, I or E, length, sequence 0, no station id, the JSON", "[info][v4]") {
  const std::string doc = info_json(InfoLevel::kId, snapshot());
  for (bool error : {false, true}) {
    const std::string packet = pack_v4_info(doc, error);
    REQUIRE(packet.size() == 17 + doc.size());
    seisvault::seedlink::PacketHeader header;
    std::string why;
    REQUIRE(seisvault::seedlink::parse_packet_header(
                {reinterpret_cast<const uint8_t*>(packet.data()), packet.size()}, true, header, &why) ==
            seisvault::seedlink::HeaderParse::kOk);
    CHECK(header.kind == seisvault::seedlink::PacketHeader::Kind::kV4);
    CHECK(header.format == 'J');
    CHECK(header.subformat == (error ? 'E' : 'I'));
    CHECK(header.payload_length == doc.size());
    CHECK(header.sequence == 0);
    CHECK(header.station_id.empty());
    CHECK(header.header_size == 17);
    CHECK(packet.substr(0, 4) == (error ? "SEJE" : "SEJI"));
    CHECK(packet.substr(17) == doc);
  }
}
