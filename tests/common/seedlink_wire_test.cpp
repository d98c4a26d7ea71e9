// SeedLink packet framing: headers written and read back for v3 and v4,
// the END marker, partial input and bytes that cannot start a packet.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "seisvault/common/seedlink_wire.h"

using namespace seisvault::seedlink;

namespace {
std::span<const uint8_t> bytes(const std::string& s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }
}  // namespace

TEST_CASE("v3 headers carry the low 24 bits of the sequence as 6 uppercase hex digits", "[seedlink][wire]") {
  std::string out;
  append_v3_header(out, 0x1234ABCDEF);
  CHECK(out == "SLABCDEF");
  PacketHeader h;
  REQUIRE(parse_packet_header(bytes(out), false, h, nullptr) == HeaderParse::kOk);
  CHECK(h.kind == PacketHeader::Kind::kV3Data);
  CHECK(h.sequence == 0xABCDEF);
  CHECK(h.header_size == 8);
  for (size_t n = 0; n < out.size(); ++n) {
    CHECK(parse_packet_header(bytes(out.substr(0, n)), false, h, nullptr) == HeaderParse::kNeedMore);
  }
}

TEST_CASE("v3 INFO headers say whether more follow", "[seedlink][wire]") {
  for (bool more : {true, false}) {
    std::string out;
    append_v3_info_header(out, more);
    CHECK(out == (more ? "SLINFO *" : "SLINFO  "));
    PacketHeader h;
    REQUIRE(parse_packet_header(bytes(out), false, h, nullptr) == HeaderParse::kOk);
    CHECK(h.kind == PacketHeader::Kind::kV3Info);
    CHECK(h.info_more == more);
  }
}

TEST_CASE("v4 headers round-trip format, length, 64-bit sequence and station id", "[seedlink][wire]") {
  std::string out;
  append_v4_header(out, kFormatMiniSeed2, kSubformatData, 4096, 0xFFFFFFFFFFFFFFF0ull, "IU_ANMO");
  REQUIRE(out.size() == kV4FixedHeaderSize + 7);
  PacketHeader h;
  REQUIRE(parse_packet_header(bytes(out), true, h, nullptr) == HeaderParse::kOk);
  CHECK(h.kind == PacketHeader::Kind::kV4);
  CHECK(h.format == '2');
  CHECK(h.subformat == 'D');
  CHECK(h.payload_length == 4096);
  CHECK(h.sequence == 0xFFFFFFFFFFFFFFF0ull);
  CHECK(h.station_id == "IU_ANMO");
  CHECK(h.header_size == out.size());
  for (size_t n = 0; n < out.size(); ++n) {
    CHECK(parse_packet_header(bytes(out.substr(0, n)), true, h, nullptr) == HeaderParse::kNeedMore);
  }
}

TEST_CASE("END ends a feed in both versions; other bytes are refused with a reason", "[seedlink][wire]") {
  PacketHeader h;
  for (bool v4 : {false, true}) {
    REQUIRE(parse_packet_header(bytes("END"), v4, h, nullptr) == HeaderParse::kOk);
    CHECK(h.kind == PacketHeader::Kind::kEnd);
    CHECK(parse_packet_header(bytes("EN"), v4, h, nullptr) == HeaderParse::kNeedMore);
  }
  std::string why;
  CHECK(parse_packet_header(bytes("ERROR\r\n"), false, h, &why) == HeaderParse::kBad);
  CHECK_FALSE(why.empty());
  CHECK(parse_packet_header(bytes("SLXYZ123"), false, h, &why) == HeaderParse::kBad);
  CHECK(parse_packet_header(bytes("SL00"), true, h, &why) == HeaderParse::kBad);
  CHECK(parse_packet_header(bytes(std::string("\0\xff", 2)), false, h, &why) == HeaderParse::kBad);
}
