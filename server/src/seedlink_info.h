// SeedLink INFO answers: the v3 XML documents and the miniSEED records that
// carry them, and the v4 JSON documents and the packet that carries them,
// rendered from plain structs the server fills from the store and its live
// connections. No sockets, no store, no clock (times are passed in).
//
// v3 (XML in 512-byte miniSEED 2 text records)
//   info_xml(level, info) gives the document; pack_v3_info(xml, error, now)
//   the bytes the server writes. Shapes, as SeisComP seedlink writes them
//   (the reference implementation of v3 INFO) and as clients read them:
//     <?xml version="1.0"?>
//     <seedlink software="..." organization="..." started="2024/05/01 12:00:00.0000">
//     ID:           nothing inside
//     CAPABILITIES: <capability name="dialup"/> ... (ObsPy's easyseedlink
//                   reads these and needs "multistation" to SELECT at all)
//     STATIONS:     <station name="ANMO" network="IU" description="..."
//                    begin_seq="00A1B2" end_seq="00A1C0" stream_check="enabled"/>
//     STREAMS:      the same stations, each with
//                   <stream location="00" seedname="BHZ" type="D"
//                    begin_time="..." end_time="..." begin_recno="000000"
//                    end_recno="000000" gap_check="disabled" gap_treshold="0"/>
//                   ("gap_treshold" is spelled as SeisComP spells it)
//     CONNECTIONS:  the stations some connection requested (by exact network
//                   and station code), each with those connections:
//                   <connection host port ctime begin_seq current_seq
//                    sequence_gaps txcount totBytes begin_seq_valid realtime
//                    end_of_data> with <window begin_time end_time/> and
//                   <selector pattern="..."/> inside; connections that named
//                   no station (or only unknown ones or v4 wildcards) are
//                   listed under ringserver's pseudo-station network "SL",
//                   name "CLIENT", described by their user agent. A
//                   connection's txcount/totBytes are its totals, repeated
//                   under each station it requested.
//     error:        info_xml_error(): the bare <seedlink .../> element, sent
//                   as channel ERR (SeisComP's error_out) for a level that is
//                   unknown or refused.
//   Times are "YYYY/MM/DD hh:mm:ss.ffff" (UTC, 100 us ticks, truncated:
//   SeisComP's MONTHS_FMT). Sequence numbers are 24-bit, 6 uppercase hex
//   digits, as in v3 packet headers and DATA commands (SeisComP "%06X";
//   ringserver 2024+ writes decimal 64-bit numbers here, which v3 clients
//   cannot resume from). Values are XML-escaped; the document is plain
//   ASCII: other characters become &#xHHHH; references, bytes that are not
//   UTF-8 and characters XML 1.0 forbids become &#xFFFD; (ObsPy decodes the
//   payload as ASCII and drops anything else). No trailing newline.
//
//   pack_v3_info(): the XML cut into pieces of at most 456 bytes, each in a
//   512-byte miniSEED 2 record, big-endian: sequence number "000001"
//   counting up, quality 'D', network "XX", station "INFO", location
//   blank, channel "INF" (or "ERR" when `error`), start time `now`, number of
//   samples = text bytes in the record, sample rate factor and multiplier 0,
//   one blockette (1000 at offset 48: encoding 0 text, word order 1, length
//   2^9), data at offset 56, the rest NUL-padded (ringserver's
//   HandleInfo_v3). Each record is preceded by "SLINFO *", the last by
//   "SLINFO  ". An empty document still gives one record (0 samples), so a
//   client waiting for the terminating "SLINFO  " always gets it.
//
// v4 (one JSON packet)
//   info_json(level, info) gives the document; pack_v4_info(json, error) the
//   packet: "SE", format 'J', subformat 'I' (or 'E' for an error document),
//   payload length, sequence 0, empty station id, then the JSON (ringserver
//   sends INFO this way; the specification requires format J, subformat I
//   or E, one packet, no ERROR line). Shapes (the FDSN SeedLink 4 schema,
//   with ringserver's extra keys where slinktool reads them):
//     always        {"software": ..., "organization": ...}
//     ID            + "server_start": "2024-05-01T12:00:00Z"
//     CAPABILITIES  + "capability": [...]
//     FORMATS       + "format": {"2": {"mimetype": "application/vnd.fdsn.mseed",
//                     "subformat": {"D": "data", "E": ..., "C", "T", "L", "O"}},
//                     "J": {"mimetype": "application/json", "subformat":
//                     {"I": "seedlink-info", "E": "seedlink-error"}}}
//                     (SeisVault serves miniSEED 2 only; no "filter")
//     STATIONS      + "station": [{"id": "NET_STA", "description",
//                     "begin_seq", "end_seq", "backfill", "start_seq"}]
//     STREAMS       the stations, each + "stream": [{"id": "LOC_B_S_SS",
//                     "format": "2", "subformat": type, "origin": "native",
//                     "begin_time", "end_time", "start_time"}]
//     CONNECTIONS   + "connections": {"client": [...], "client_count": n}
//                     (ringserver's keys: host, ip_address, client_port,
//                     server_port, type, client_id, connect_time,
//                     protocol_version, dialup_mode, current_seq,
//                     transmit_packets, transmit_bytes, selector,
//                     station: [{id, selector, start_packet_id, start_time,
//                     end_time}])
//     error         info_json_error(): + "error": {"code", "message"}, code
//                     one of the spec's UNSUPPORTED, UNEXPECTED,
//                     UNAUTHORIZED, LIMIT, ARGUMENTS, AUTH (or ringserver's
//                     INTERNAL).
//   "start_seq" and "start_time" repeat "begin_seq" and "begin_time": the
//   specification names them begin_*, ringserver and slinktool start_*.
//   Times are ISO 8601 with microseconds and 'Z' (server_start,
//   connect_time and requested windows in whole seconds), as ringserver
//   writes them. Strings
//   that are not UTF-8 get U+FFFD; the JSON is ASCII (\u escapes).
//
// Sources checked (read, not copied): ringserver src/infoxml.c,
// src/infojson.c, src/slclient.c (HandleInfo_v3/v4, SendInfoRecord,
// SendPacket); SeisComP seedlink apps/seedlink/monitor.cc (InfoGenerator,
// getinfo of stations, streams and connections, error_out) and
// libs/slutils/qtime.cc (MONTHS_FMT); FDSN SeedLink 4 specification
// (FDSN/SeedLink docs/protocol.rst, seedlink.schema.json and samples);
// ObsPy clients/seedlink (easyseedlink capabilities, basic_client get_info:
// ./station[@network,@name]/stream[@location,@seedname], seedlinkconnection:
// INFO payload = the records' text joined, decoded as ASCII, NULs
// stripped); slinktool src/slinkinfo.c (the XML attributes and JSON keys it
// prints); libslink (v3 "SLINFO *"/"SLINFO  ", v4 J/I and J/E).
//
// Everything here is a pure function of its arguments; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "seisvault/common/time.h"

namespace seisvault::server::seedlink {

enum class InfoLevel : uint8_t {
  kId,            // v3 and v4
  kCapabilities,  // v3; v4 answers too (ringserver does), though the v4 spec dropped it
  kFormats,       // v4 only
  kStations,
  kStreams,
  kConnections,   // servers show it to trusted clients only: the caller decides
};

// "ID", "CAPABILITIES", "FORMATS", "STATIONS", "STREAMS", "CONNECTIONS" in any
// case; nullopt for anything else (including GAPS and ALL, which SeisVault
// does not offer: answer those with an error document).
std::optional<InfoLevel> parse_info_level(std::string_view word);

// The legacy (lower-case) v3 capability names ringserver lists for INFO
// CAPABILITIES; a default for InfoServer::capabilities.
inline constexpr std::array<std::string_view, 8> kV3Capabilities = {
    "dialup",           "multistation",  "window-extraction", "info:id",
    "info:capabilities", "info:stations", "info:streams",      "info:connections"};

struct InfoServer {
  // The first line of the HELLO answer without its CRLF, e.g.
  // "SeedLink v4.0 (SeisVault/0.3) :: SLPROTO:4.0 SLPROTO:3.1 ...": both
  // specifications call for "software as in HELLO".
  std::string software;
  // The second line of the HELLO answer (station or data centre name).
  std::string organization;
  // When the server started.
  TimeNs started = 0;
  // What INFO CAPABILITIES lists (v3 <capability name=...>, v4 "capability").
  std::vector<std::string> capabilities;
};

struct InfoStream {
  std::string location;  // "" when blank
  std::string channel;   // SEED channel code, e.g. "BHZ"
  char type = 'D';       // SeedLink type letter, see record_type() in miniseed_repack.h
  TimeNs begin = 0;      // start of the oldest record held
  TimeNs end = 0;        // end of the newest record held (time after its last sample)
};

struct InfoStation {
  std::string network;
  std::string station;
  std::string description;
  // First sequence number available, and the next one to be assigned (the
  // last available + 1): SeisComP's and the v4 schema's begin_seq/end_seq.
  // v3 shows the low 24 bits.
  uint64_t begin_sequence = 0;
  uint64_t end_sequence = 0;
  // v4 "backfill": seconds a client should wait for gaps to fill; -1
  // undefined, 0 when data arrive strictly in time order.
  int64_t backfill_seconds = -1;
  std::vector<InfoStream> streams;  // shown by STREAMS only, in this order
};

// One station a connection asked for (v3 STATION sta net, v4 STATION NET_STA
// with wildcards), with what it asked about it.
struct InfoConnectionStation {
  std::string network;                     // may hold wildcards (v4)
  std::string station;                     // may hold wildcards (v4)
  std::vector<std::string> selectors;      // as the client sent them
  std::optional<uint64_t> begin_sequence;  // sequence given to DATA/FETCH
  std::optional<TimeNs> window_begin;      // time window, when one was asked
  std::optional<TimeNs> window_end;
};

struct InfoConnection {
  std::string host;          // client address, e.g. "192.0.2.7" or "2001:db8::7"
  uint16_t port = 0;         // client port
  uint16_t server_port = 0;  // our port it connected to
  std::string transport = "SeedLink";  // ringserver's "type", e.g. "SeedLink:TLS"
  TimeNs connected = 0;
  std::string user_agent;        // v4 USERAGENT, "" when none
  std::string protocol_version;  // "3.1" or "4.0"
  bool dialup = false;           // FETCH (dial-up) rather than DATA (real time)
  bool end_of_data = false;      // a dial-up or time window feed has ended
  std::optional<uint64_t> current_sequence;  // the next sequence number it will be sent
  uint64_t packets_sent = 0;
  uint64_t bytes_sent = 0;
  std::vector<std::string> selectors;           // SELECTs given before any STATION
  std::vector<InfoConnectionStation> stations;  // in the order requested
};

// What an INFO answer may show; each level reads only its part.
struct InfoSnapshot {
  InfoServer server;
  std::vector<InfoStation> stations;  // in the order to show (e.g. sorted by network, station)
  std::vector<InfoConnection> connections;
};

// v3. kFormats has no v3 document: info_xml() then returns the ID document;
// answer it with info_xml_error() and pack_v3_info(xml, true, now).
std::string info_xml(InfoLevel level, const InfoSnapshot& info);
std::string info_xml_error(const InfoServer& server);
// The exact bytes to write: one or more "SLINFO *"/"SLINFO  " + 512-byte
// record packets (see above). `now` stamps the records.
std::string pack_v3_info(std::string_view xml, bool error, TimeNs now);

// v4.
std::string info_json(InfoLevel level, const InfoSnapshot& info);
std::string info_json_error(const InfoServer& server, std::string_view code, std::string_view message);
// The exact bytes to write: one "SE" packet, format 'J', subformat 'I' or
// 'E'. A document longer than 4 GiB cannot be framed: the caller limits
// what it lists long before that.
std::string pack_v4_info(std::string_view json, bool error);

}  // namespace seisvault::server::seedlink
