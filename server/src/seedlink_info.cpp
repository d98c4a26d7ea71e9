#include "seedlink_info.h"

#include <algorithm>
#include <cstring>
#include <iterator>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "seisvault/common/seedlink_wire.h"

namespace seisvault::server::seedlink {
namespace {

using Json = nlohmann::ordered_json;  // keeps "software" and "organization" first, as servers write them
using seisvault::seedlink::kV3RecordSize;
using seisvault::seedlink::kV3SequenceMask;

constexpr size_t kInfoDataOffset = 56;                                // fixed header 48 + blockette 1000
constexpr size_t kInfoTextPerRecord = kV3RecordSize - kInfoDataOffset;  // 456 bytes of XML per record
constexpr int kMaxRecordSequence = 999999;

// ---- times ----------------------------------------------------------------

// format_iso8601() always gives "YYYY-MM-DDThh:mm:ss.fffffffffZ" (30 chars)
// for the years a TimeNs can hold; the other layouts are cut from it.
struct Civil {
  int year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0;
  int nanos = 0;
};

Civil civil(TimeNs t) {
  const std::string iso = format_iso8601(t);
  auto num = [&](size_t pos, size_t len) {
    int v = 0;
    for (size_t i = pos; i < pos + len && i < iso.size(); ++i) v = v * 10 + (iso[i] - '0');
    return v;
  };
  return {num(0, 4), num(5, 2), num(8, 2), num(11, 2), num(14, 2), num(17, 2), num(20, 9)};
}

// SeisComP's MONTHS_FMT: "2024/05/01 12:00:00.0000" (100 us ticks, truncated).
std::string v3_time(TimeNs t) {
  const Civil c = civil(t);
  return fmt::format("{:04}/{:02}/{:02} {:02}:{:02}:{:02}.{:04}", c.year, c.month, c.day, c.hour, c.minute,
                     c.second, c.nanos / 100000);
}

// "2024-05-01T12:00:00.123456Z" (ringserver's MICRO) and "2024-05-01T12:00:00Z".
std::string iso_micro(TimeNs t) { return format_iso8601(t).substr(0, 26) + "Z"; }
std::string iso_seconds(TimeNs t) { return format_iso8601(t).substr(0, 19) + "Z"; }

std::string v3_sequence(uint64_t sequence) { return fmt::format("{:06X}", sequence & kV3SequenceMask); }

// ---- XML ------------------------------------------------------------------

void append_reference(std::string& out, uint32_t code_point) { fmt::format_to(std::back_inserter(out), "&#x{:X};", code_point); }

// The length of the valid UTF-8 sequence at s[i] and its code point, or 0.
size_t decode_utf8(std::string_view s, size_t i, uint32_t& cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  size_t len;
  uint32_t min;
  if ((b0 & 0xE0) == 0xC0) { len = 2; cp = b0 & 0x1F; min = 0x80; }
  else if ((b0 & 0xF0) == 0xE0) { len = 3; cp = b0 & 0x0F; min = 0x800; }
  else if ((b0 & 0xF8) == 0xF0) { len = 4; cp = b0 & 0x07; min = 0x10000; }
  else return 0;
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

// An attribute value between double quotes, in plain ASCII.
void append_escaped(std::string& out, std::string_view s) {
  constexpr uint32_t kReplacement = 0xFFFD;
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&apos;"; break;
        // Kept as references: a parser would turn them into spaces.
        case '\t': case '\n': case '\r': append_reference(out, c); break;
        default:
          if (c < 0x20) append_reference(out, kReplacement);  // not allowed in XML 1.0 at all
          else out.push_back(static_cast<char>(c));
      }
      ++i;
      continue;
    }
    uint32_t cp = 0;
    const size_t len = decode_utf8(s, i, cp);
    if (len == 0 || cp == 0xFFFE || cp == 0xFFFF) {
      append_reference(out, kReplacement);
      i += len == 0 ? 1 : len;
    } else {
      append_reference(out, cp);
      i += len;
    }
  }
}

// Builds one element at a time: open("station").attr("name", ...).close().
class XmlWriter {
 public:
  XmlWriter() { out_ = "<?xml version=\"1.0\"?>\n"; }
  XmlWriter& open(std::string_view name) {
    fmt::format_to(std::back_inserter(out_), "<{}", name);
    return *this;
  }
  XmlWriter& attr(std::string_view name, std::string_view value) {
    fmt::format_to(std::back_inserter(out_), " {}=\"", name);
    append_escaped(out_, value);
    out_.push_back('"');
    return *this;
  }
  XmlWriter& attr(std::string_view name, uint64_t value) { return attr(name, std::string_view(fmt::format("{}", value))); }
  // Ends the start tag: "/>" for an empty element, ">" when children follow.
  void close_empty() { out_ += "/>\n"; }
  void close_open() { out_ += ">\n"; }
  void end(std::string_view name) { fmt::format_to(std::back_inserter(out_), "</{}>\n", name); }
  std::string take() {
    if (!out_.empty() && out_.back() == '\n') out_.pop_back();
    return std::move(out_);
  }

 private:
  std::string out_;
};

void open_root(XmlWriter& w, const InfoServer& server) {
  w.open("seedlink")
      .attr("software", server.software)
      .attr("organization", server.organization)
      .attr("started", v3_time(server.started));
}

void open_station(XmlWriter& w, std::string_view network, std::string_view station, std::string_view description,
                  uint64_t begin_sequence, uint64_t end_sequence) {
  w.open("station")
      .attr("name", station)
      .attr("network", network)
      .attr("description", description)
      .attr("begin_seq", v3_sequence(begin_sequence))
      .attr("end_seq", v3_sequence(end_sequence))
      .attr("stream_check", "enabled");
}

void write_stream(XmlWriter& w, const InfoStream& s) {
  w.open("stream")
      .attr("location", s.location)
      .attr("seedname", s.channel)
      .attr("type", std::string_view(&s.type, 1))
      .attr("begin_time", v3_time(s.begin))
      .attr("end_time", v3_time(s.end))
      .attr("begin_recno", "000000")
      .attr("end_recno", "000000")
      .attr("gap_check", "disabled")
      .attr("gap_treshold", "0");
  w.close_empty();
}

void write_connection(XmlWriter& w, const InfoConnection& c, const InfoConnectionStation* requested) {
  const bool has_begin = requested && requested->begin_sequence;
  w.open("connection")
      .attr("host", c.host)
      .attr("port", c.port)
      .attr("ctime", v3_time(c.connected))
      .attr("begin_seq", has_begin ? v3_sequence(*requested->begin_sequence) : "unset")
      .attr("current_seq", c.current_sequence ? v3_sequence(*c.current_sequence) : "unset")
      .attr("sequence_gaps", "0")
      .attr("txcount", c.packets_sent)
      .attr("totBytes", c.bytes_sent)
      .attr("begin_seq_valid", has_begin ? "yes" : "no")
      .attr("realtime", c.dialup ? "no" : "yes")
      .attr("end_of_data", c.end_of_data ? "yes" : "no");
  const auto& selectors = (requested && !requested->selectors.empty()) ? requested->selectors : c.selectors;
  const bool has_window = requested && requested->window_begin;
  if (!has_window && selectors.empty()) {
    w.close_empty();
    return;
  }
  w.close_open();
  if (has_window) {
    w.open("window")
        .attr("begin_time", v3_time(*requested->window_begin))
        .attr("end_time", requested->window_end ? v3_time(*requested->window_end) : "unset");
    w.close_empty();
  }
  for (const auto& s : selectors) {
    w.open("selector").attr("pattern", s);
    w.close_empty();
  }
  w.end("connection");
}

void write_connections(XmlWriter& w, const InfoSnapshot& info) {
  struct Entry {
    const InfoConnection* connection;
    const InfoConnectionStation* requested;
  };
  std::vector<std::vector<Entry>> per_station(info.stations.size());
  std::vector<const InfoConnection*> unplaced;
  for (const auto& c : info.connections) {
    bool placed = false;
    for (const auto& r : c.stations) {
      for (size_t i = 0; i < info.stations.size(); ++i) {
        if (info.stations[i].network == r.network && info.stations[i].station == r.station) {
          per_station[i].push_back({&c, &r});
          placed = true;
          break;
        }
      }
    }
    if (!placed) unplaced.push_back(&c);
  }
  for (size_t i = 0; i < info.stations.size(); ++i) {
    if (per_station[i].empty()) continue;
    const auto& s = info.stations[i];
    open_station(w, s.network, s.station, s.description, s.begin_sequence, s.end_sequence);
    w.close_open();
    for (const auto& e : per_station[i]) write_connection(w, *e.connection, e.requested);
    w.end("station");
  }
  // ringserver's layout for a client that is not (yet) tied to a station.
  for (const auto* c : unplaced) {
    open_station(w, "SL", "CLIENT", c->user_agent, 0, 0);
    w.close_open();
    write_connection(w, *c, nullptr);
    w.end("station");
  }
}

// ---- JSON -----------------------------------------------------------------

Json json_root(const InfoServer& server) {
  Json j = Json::object();
  j["software"] = server.software;
  j["organization"] = server.organization;
  return j;
}

std::string dump(const Json& j) { return j.dump(-1, ' ', true, Json::error_handler_t::replace); }

// FDSN stream id "LOC_B_S_SS" from SEED codes: "00_B_H_Z", "_B_H_Z" when blank.
std::string stream_id(const InfoStream& s) {
  if (s.channel.size() == 3) return fmt::format("{}_{}_{}_{}", s.location, s.channel[0], s.channel[1], s.channel[2]);
  return fmt::format("{}_{}", s.location, s.channel);
}

Json json_formats() {
  Json f = Json::object();
  f["2"] = {{"mimetype", "application/vnd.fdsn.mseed"},
            {"subformat",
             {{"D", "data"},
              {"E", "event detection"},
              {"C", "calibration"},
              {"T", "timing exception"},
              {"L", "log"},
              {"O", "opaque"}}}};
  f["J"] = {{"mimetype", "application/json"}, {"subformat", {{"I", "seedlink-info"}, {"E", "seedlink-error"}}}};
  return f;
}

Json json_stations(const std::vector<InfoStation>& stations, bool with_streams) {
  Json list = Json::array();
  for (const auto& s : stations) {
    Json st = Json::object();
    st["id"] = s.network + "_" + s.station;
    st["description"] = s.description;
    st["begin_seq"] = s.begin_sequence;
    st["end_seq"] = s.end_sequence;
    st["backfill"] = s.backfill_seconds;
    st["start_seq"] = s.begin_sequence;
    if (with_streams) {
      Json streams = Json::array();
      for (const auto& m : s.streams) {
        Json sm = Json::object();
        sm["id"] = stream_id(m);
        sm["format"] = "2";
        sm["subformat"] = std::string(1, m.type);
        sm["origin"] = "native";
        sm["begin_time"] = iso_micro(m.begin);
        sm["end_time"] = iso_micro(m.end);
        sm["start_time"] = iso_micro(m.begin);
        streams.push_back(std::move(sm));
      }
      st["stream"] = std::move(streams);
    }
    list.push_back(std::move(st));
  }
  return list;
}

Json json_connections(const std::vector<InfoConnection>& connections) {
  Json clients = Json::array();
  for (const auto& c : connections) {
    Json j = Json::object();
    j["host"] = c.host;
    j["ip_address"] = c.host;
    j["client_port"] = std::to_string(c.port);  // strings, as ringserver writes and slinktool reads them
    j["server_port"] = std::to_string(c.server_port);
    j["type"] = c.transport;
    j["client_id"] = c.user_agent;
    j["connect_time"] = iso_seconds(c.connected);
    j["protocol_version"] = c.protocol_version;
    j["dialup_mode"] = c.dialup;
    j["end_of_data"] = c.end_of_data;
    if (c.current_sequence) j["current_seq"] = *c.current_sequence;
    j["transmit_packets"] = c.packets_sent;
    j["transmit_bytes"] = c.bytes_sent;
    if (!c.selectors.empty()) j["selector"] = c.selectors;
    Json stations = Json::array();
    for (const auto& r : c.stations) {
      Json s = Json::object();
      s["id"] = r.network + "_" + r.station;
      if (!r.selectors.empty()) s["selector"] = r.selectors;
      if (r.begin_sequence) s["start_packet_id"] = *r.begin_sequence;
      if (r.window_begin) s["start_time"] = iso_seconds(*r.window_begin);
      if (r.window_end) s["end_time"] = iso_seconds(*r.window_end);
      stations.push_back(std::move(s));
    }
    j["station"] = std::move(stations);
    clients.push_back(std::move(j));
  }
  Json out = Json::object();
  out["client"] = std::move(clients);
  out["client_count"] = connections.size();
  return out;
}

// ---- miniSEED text records ------------------------------------------------

void put_be16(char* p, uint16_t v) {
  p[0] = static_cast<char>(v >> 8);
  p[1] = static_cast<char>(v & 0xFF);
}

// "SLINFO *" (or "SLINFO  " for the last) and one 512-byte record of the
// INFO answer (record layout: ringserver's HandleInfo_v3).
void append_info_packet(std::string& out, std::string_view text, int sequence, bool error, const Civil& t,
                        int day_of_year, bool more_follow) {
  char r[kV3RecordSize] = {};
  const std::string seq = fmt::format("{:06}", sequence);
  std::memcpy(r, seq.data(), 6);
  r[6] = 'D';
  r[7] = ' ';
  std::memcpy(r + 8, "INFO ", 5);
  std::memcpy(r + 13, "  ", 2);
  std::memcpy(r + 15, error ? "ERR" : "INF", 3);
  std::memcpy(r + 18, "XX", 2);
  put_be16(r + 20, static_cast<uint16_t>(t.year));
  put_be16(r + 22, static_cast<uint16_t>(day_of_year));
  r[24] = static_cast<char>(t.hour);
  r[25] = static_cast<char>(t.minute);
  r[26] = static_cast<char>(t.second);
  put_be16(r + 28, static_cast<uint16_t>(t.nanos / 100000));
  put_be16(r + 30, static_cast<uint16_t>(text.size()));  // samples: one per text byte
  // 32-35 sample rate factor and multiplier 0 (no rate); 36-38 flags 0.
  r[39] = 1;                                             // number of blockettes
  put_be16(r + 44, static_cast<uint16_t>(kInfoDataOffset));
  put_be16(r + 46, 48);                                  // first blockette
  put_be16(r + 48, 1000);
  r[52] = 0;   // encoding: text
  r[53] = 1;   // word order: big-endian
  r[54] = 9;   // record length 2^9
  std::memcpy(r + kInfoDataOffset, text.data(), text.size());
  seisvault::seedlink::append_v3_info_header(out, more_follow);
  out.append(r, kV3RecordSize);
}

}  // namespace

std::optional<InfoLevel> parse_info_level(std::string_view word) {
  static constexpr std::pair<std::string_view, InfoLevel> kLevels[] = {
      {"ID", InfoLevel::kId},           {"CAPABILITIES", InfoLevel::kCapabilities},
      {"FORMATS", InfoLevel::kFormats}, {"STATIONS", InfoLevel::kStations},
      {"STREAMS", InfoLevel::kStreams}, {"CONNECTIONS", InfoLevel::kConnections}};
  for (const auto& [name, level] : kLevels) {
    if (name.size() == word.size() &&
        std::equal(name.begin(), name.end(), word.begin(), [](char a, char b) {
          return a == ((b >= 'a' && b <= 'z') ? static_cast<char>(b - 'a' + 'A') : b);
        })) {
      return level;
    }
  }
  return std::nullopt;
}

std::string info_xml(InfoLevel level, const InfoSnapshot& info) {
  XmlWriter w;
  open_root(w, info.server);
  switch (level) {
    case InfoLevel::kId:
    case InfoLevel::kFormats:
      w.close_empty();
      break;
    case InfoLevel::kCapabilities:
      w.close_open();
      for (const auto& c : info.server.capabilities) {
        w.open("capability").attr("name", c);
        w.close_empty();
      }
      w.end("seedlink");
      break;
    case InfoLevel::kStations:
    case InfoLevel::kStreams:
      w.close_open();
      for (const auto& s : info.stations) {
        open_station(w, s.network, s.station, s.description, s.begin_sequence, s.end_sequence);
        if (level == InfoLevel::kStations || s.streams.empty()) {
          w.close_empty();
          continue;
        }
        w.close_open();
        for (const auto& m : s.streams) write_stream(w, m);
        w.end("station");
      }
      w.end("seedlink");
      break;
    case InfoLevel::kConnections:
      w.close_open();
      write_connections(w, info);
      w.end("seedlink");
      break;
  }
  return w.take();
}

std::string info_xml_error(const InfoServer& server) {
  XmlWriter w;
  open_root(w, server);
  w.close_empty();
  return w.take();
}

std::string pack_v3_info(std::string_view xml, bool error, TimeNs now) {
  const Civil t = civil(now);
  const int day_of_year = static_cast<int>(days_from_civil(t.year, static_cast<unsigned>(t.month),
                                                           static_cast<unsigned>(t.day)) -
                                           days_from_civil(t.year, 1, 1)) + 1;
  const size_t records = std::max<size_t>(1, (xml.size() + kInfoTextPerRecord - 1) / kInfoTextPerRecord);
  constexpr size_t kPacketSize = seisvault::seedlink::kV3HeaderSize + kV3RecordSize;
  std::string out;
  out.reserve(records * kPacketSize);
  int sequence = 1;
  for (size_t i = 0; i < records; ++i) {
    const std::string_view text = xml.substr(std::min(xml.size(), i * kInfoTextPerRecord), kInfoTextPerRecord);
    append_info_packet(out, text, sequence, error, t, day_of_year, i + 1 < records);
    sequence = sequence >= kMaxRecordSequence ? 1 : sequence + 1;
  }
  return out;
}

std::string info_json(InfoLevel level, const InfoSnapshot& info) {
  Json j = json_root(info.server);
  switch (level) {
    case InfoLevel::kId:
      j["server_start"] = iso_seconds(info.server.started);
      break;
    case InfoLevel::kCapabilities:
      j["capability"] = info.server.capabilities;
      break;
    case InfoLevel::kFormats:
      j["format"] = json_formats();
      break;
    case InfoLevel::kStations:
    case InfoLevel::kStreams:
      j["station"] = json_stations(info.stations, level == InfoLevel::kStreams);
      break;
    case InfoLevel::kConnections:
      j["connections"] = json_connections(info.connections);
      break;
  }
  return dump(j);
}

std::string info_json_error(const InfoServer& server, std::string_view code, std::string_view message) {
  Json j = json_root(server);
  j["error"] = {{"code", std::string(code)}, {"message", std::string(message)}};
  return dump(j);
}

std::string pack_v4_info(std::string_view json, bool error) {
  std::string out;
  out.reserve(seisvault::seedlink::kV4FixedHeaderSize + json.size());
  seisvault::seedlink::append_v4_header(out, seisvault::seedlink::kFormatJson,
                                        error ? seisvault::seedlink::kSubformatError
                                              : seisvault::seedlink::kSubformatInfo,
                                        static_cast<uint32_t>(json.size()), 0, "");
  out += json;
  return out;
}

}  // namespace seisvault::server::seedlink
