// SeedLink packet framing, shared by the server face (server/) and the
// bridge's client (client/): the headers in front of every packet a SeedLink
// server sends once the client has said END (or FETCH), for protocol 3.1 and
// 4.0, and the three bytes that end a finished feed.
//
//   v3 data  "SL" + 6 uppercase hex digits (sequence mod 2^24) + a miniSEED 2
//            record (512 bytes for every client we serve; other servers may
//            send other lengths, which the record's own header tells)
//   v3 INFO  "SLINFO *" (more INFO packets follow) or "SLINFO  " (the last)
//            + a 512-byte miniSEED 2 record whose payload is XML text
//   v4       "SE" + format (1 char) + subformat (1 char) + payload length
//            (u32 LE) + sequence (u64 LE) + station id length (u8) + station
//            id ("NET_STA") + payload of that length
//   "END"    the feed is finished (FETCH caught up, a TIME window ended)
//
// Sources: INTEROP.md, the FDSN SeedLink 4 specification
// (docs.fdsn.org/projects/seedlink), ringserver's and libslink's framing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace seisvault::seedlink {

inline constexpr size_t kV3HeaderSize = 8;
inline constexpr size_t kV4FixedHeaderSize = 17;  // without the station id
inline constexpr size_t kV3RecordSize = 512;
inline constexpr uint64_t kV3SequenceMask = 0xFFFFFF;  // v3 sequences are 24 bits
inline constexpr std::string_view kEndMarker = "END";

// v4 payload formats and subformats (the spec's reserved pairs we use).
inline constexpr char kFormatMiniSeed2 = '2';
inline constexpr char kFormatMiniSeed3 = '3';
inline constexpr char kFormatJson = 'J';
inline constexpr char kSubformatData = 'D';
inline constexpr char kSubformatInfo = 'I';
inline constexpr char kSubformatError = 'E';

// Appends "SL" + the low 24 bits of `sequence` as 6 uppercase hex digits.
void append_v3_header(std::string& out, uint64_t sequence);
// Appends "SLINFO *" when more INFO packets follow, "SLINFO  " for the last.
void append_v3_info_header(std::string& out, bool more_follow);
// Appends a v4 header. `station_id` is "NET_STA" (at most 255 bytes; longer
// ids are cut, which never happens for SEED codes).
void append_v4_header(std::string& out, char format, char subformat, uint32_t payload_length, uint64_t sequence,
                      std::string_view station_id);

// What starts the bytes a client has received.
struct PacketHeader {
  enum class Kind : uint8_t {
    kV3Data,  // "SL" + hex sequence: a miniSEED 2 record follows (its length from its own header)
    kV3Info,  // "SLINFO": a 512-byte miniSEED 2 record follows
    kV4,      // "SE": payload_length bytes follow
    kEnd,     // "END": the feed is finished
  };
  Kind kind = Kind::kV3Data;
  uint64_t sequence = 0;       // v3 data: 24-bit; v4: 64-bit
  bool info_more = false;      // v3 INFO: another INFO packet follows
  char format = 0;             // v4
  char subformat = 0;          // v4
  uint32_t payload_length = 0; // v4 (v3: 0, the record tells)
  std::string station_id;      // v4: "NET_STA"
  size_t header_size = 0;      // bytes the header took
};

enum class HeaderParse : uint8_t { kOk, kNeedMore, kBad };

// Reads the header at the start of `data`. With v4 = false only v3 framing
// ("SL", "SLINFO", "END") is accepted; with v4 = true only "SE" and "END".
// kNeedMore when `data` is a prefix of a header; kBad (with a reason in
// `error`) when it cannot start one.
HeaderParse parse_packet_header(std::span<const uint8_t> data, bool v4, PacketHeader& out, std::string* error);

}  // namespace seisvault::seedlink
