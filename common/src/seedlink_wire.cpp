#include "seisvault/common/seedlink_wire.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace seisvault::seedlink {
namespace {

void put_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

uint64_t get_le(const uint8_t* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

bool starts_with(std::span<const uint8_t> data, std::string_view prefix, bool& partial) {
  const size_t n = std::min(data.size(), prefix.size());
  partial = false;
  if (std::memcmp(data.data(), prefix.data(), n) != 0) return false;
  partial = n < prefix.size();
  return true;
}

int hex_value(uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

HeaderParse bad(std::string* error, std::string message) {
  if (error) *error = std::move(message);
  return HeaderParse::kBad;
}

}  // namespace

void append_v3_header(std::string& out, uint64_t sequence) {
  fmt::format_to(std::back_inserter(out), "SL{:06X}", sequence & kV3SequenceMask);
}

void append_v3_info_header(std::string& out, bool more_follow) { out += more_follow ? "SLINFO *" : "SLINFO  "; }

void append_v4_header(std::string& out, char format, char subformat, uint32_t payload_length, uint64_t sequence,
                      std::string_view station_id) {
  station_id = station_id.substr(0, 255);
  out += "SE";
  out.push_back(format);
  out.push_back(subformat);
  put_le(out, payload_length, 4);
  put_le(out, sequence, 8);
  out.push_back(static_cast<char>(station_id.size()));
  out += station_id;
}

HeaderParse parse_packet_header(std::span<const uint8_t> data, bool v4, PacketHeader& out, std::string* error) {
  if (data.empty()) return HeaderParse::kNeedMore;
  bool partial = false;
  if (starts_with(data, kEndMarker, partial)) {
    if (partial) return HeaderParse::kNeedMore;
    out = {};
    out.kind = PacketHeader::Kind::kEnd;
    out.header_size = kEndMarker.size();
    return HeaderParse::kOk;
  }
  if (v4) {
    if (!starts_with(data, "SE", partial)) {
      return bad(error, "a SeedLink 4 packet must start with \"SE\"");
    }
    if (data.size() < kV4FixedHeaderSize) return HeaderParse::kNeedMore;
    const size_t id_length = data[16];
    if (data.size() < kV4FixedHeaderSize + id_length) return HeaderParse::kNeedMore;
    out = {};
    out.kind = PacketHeader::Kind::kV4;
    out.format = static_cast<char>(data[2]);
    out.subformat = static_cast<char>(data[3]);
    out.payload_length = static_cast<uint32_t>(get_le(data.data() + 4, 4));
    out.sequence = get_le(data.data() + 8, 8);
    out.station_id.assign(reinterpret_cast<const char*>(data.data()) + kV4FixedHeaderSize, id_length);
    out.header_size = kV4FixedHeaderSize + id_length;
    return HeaderParse::kOk;
  }
  if (starts_with(data, "SLINFO", partial)) {
    if (data.size() < kV3HeaderSize) return HeaderParse::kNeedMore;
    out = {};
    out.kind = PacketHeader::Kind::kV3Info;
    out.info_more = data[7] == '*';
    out.header_size = kV3HeaderSize;
    return HeaderParse::kOk;
  }
  if (!starts_with(data, "SL", partial)) {
    return bad(error, "a SeedLink 3 packet must start with \"SL\"");
  }
  if (data.size() < kV3HeaderSize) {
    // "SL" followed by hex digits so far, or the start of "SLINFO".
    for (size_t i = 2; i < data.size(); ++i) {
      if (hex_value(data[i]) < 0 && !(i == 2 && data[i] == 'I')) {
        return bad(error, "a SeedLink 3 data packet's sequence must be 6 hex digits");
      }
    }
    return HeaderParse::kNeedMore;
  }
  uint64_t sequence = 0;
  for (size_t i = 2; i < kV3HeaderSize; ++i) {
    const int h = hex_value(data[i]);
    if (h < 0) return bad(error, "a SeedLink 3 data packet's sequence must be 6 hex digits");
    sequence = (sequence << 4) | static_cast<uint64_t>(h);
  }
  out = {};
  out.kind = PacketHeader::Kind::kV3Data;
  out.sequence = sequence;
  out.header_size = kV3HeaderSize;
  return HeaderParse::kOk;
}

}  // namespace seisvault::seedlink
