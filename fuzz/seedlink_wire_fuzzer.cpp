// libFuzzer target: the SeedLink packet framing shared by the server face and
// the bridge's client, parse_packet_header and the append_* encoders
// (common/include/seisvault/common/seedlink_wire.h). The client reads what a
// (possibly hostile) SeedLink server sends with parse_packet_header.
//
// Checks, on the input read as received bytes, for v3 and for v4 framing:
//   - kOk: 0 < header_size <= the input's size; the kind is one the version
//     allows (v3: data, INFO, END; v4: SE packet, END); a v3 sequence fits
//     24 bits; a v4 header is 17 bytes plus its station id;
//   - kBad comes with a reason; kNeedMore only for fewer bytes than the
//     longest header (17 + 255);
//   - the answer grows consistently with the bytes available: for every
//     prefix, kNeedMore until the answer is decided, then the same answer
//     (and for kOk the same header) for every longer prefix, and no kOk
//     before header_size bytes;
//   - a kOk header re-encoded with append_* is the input's header bytes:
//     always for v4 and END, for v3 data with its hex digits upper-cased
//     (the encoder writes upper case, the parser reads both), for v3 INFO
//     when bytes 6-7 are "  " or " *" (the parser only looks at byte 7, as
//     libslink does); and the re-encoded bytes parse to the same header.
// And the encoders on fields taken from the input: what append_v3_header,
// append_v3_info_header and append_v4_header write parses back (kOk, the
// whole header, the same fields; a station id cut to 255 bytes).
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "fuzz_check.h"
#include "seisvault/common/seedlink_wire.h"

namespace {

namespace sl = seisvault::seedlink;
using sl::HeaderParse;
using sl::PacketHeader;

constexpr size_t kLongestHeader = sl::kV4FixedHeaderSize + 255;

std::span<const uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string hex(std::span<const uint8_t> b) {
  std::string out;
  for (size_t i = 0; i < b.size() && i < 64; ++i) out += fmt::format("{:02X}", b[i]);
  if (b.size() > 64) out += "...";
  return out;
}

const char* name(HeaderParse p) {
  switch (p) {
    case HeaderParse::kOk: return "kOk";
    case HeaderParse::kNeedMore: return "kNeedMore";
    case HeaderParse::kBad: return "kBad";
  }
  return "?";
}

bool same_header(const PacketHeader& a, const PacketHeader& b) {
  return a.kind == b.kind && a.sequence == b.sequence && a.info_more == b.info_more && a.format == b.format &&
         a.subformat == b.subformat && a.payload_length == b.payload_length && a.station_id == b.station_id &&
         a.header_size == b.header_size;
}

char upper(char c) { return (c >= 'a' && c <= 'f') ? static_cast<char>(c - 'a' + 'A') : c; }

// parse_packet_header with the checks that hold for any input.
HeaderParse parse_checked(std::span<const uint8_t> data, bool v4, PacketHeader& h) {
  std::string error;
  const HeaderParse r = sl::parse_packet_header(data, v4, h, &error);
  PacketHeader quiet;
  const HeaderParse r2 = sl::parse_packet_header(data, v4, quiet, nullptr);  // no error string: no crash
  FUZZ_CHECK(r == r2, fmt::format("v{}: {} with an error string, {} without, for {}", v4 ? 4 : 3, name(r), name(r2),
                                  hex(data)));
  switch (r) {
    case HeaderParse::kOk:
      FUZZ_CHECK(same_header(h, quiet), "the same bytes give two headers");
      FUZZ_CHECK(h.header_size > 0 && h.header_size <= data.size(),
                 fmt::format("v{}: kOk with header_size {} for {} bytes", v4 ? 4 : 3, h.header_size, data.size()));
      if (h.kind == PacketHeader::Kind::kEnd) {
        FUZZ_CHECK(h.header_size == 3 && std::memcmp(data.data(), "END", 3) == 0, "END from other bytes");
      } else if (v4) {
        FUZZ_CHECK(h.kind == PacketHeader::Kind::kV4, "a v3 header in v4 framing");
        FUZZ_CHECK(h.header_size == sl::kV4FixedHeaderSize + h.station_id.size(),
                   fmt::format("v4 header_size {} with a {}-byte station id", h.header_size, h.station_id.size()));
      } else {
        FUZZ_CHECK(h.kind == PacketHeader::Kind::kV3Data || h.kind == PacketHeader::Kind::kV3Info,
                   "a v4 header in v3 framing");
        FUZZ_CHECK(h.header_size == sl::kV3HeaderSize, fmt::format("v3 header_size {}", h.header_size));
        FUZZ_CHECK(h.sequence <= sl::kV3SequenceMask, fmt::format("v3 sequence {:#x}", h.sequence));
      }
      break;
    case HeaderParse::kBad:
      FUZZ_CHECK(!error.empty(), fmt::format("v{}: kBad without a reason for {}", v4 ? 4 : 3, hex(data)));
      break;
    case HeaderParse::kNeedMore:
      FUZZ_CHECK(data.size() < kLongestHeader,
                 fmt::format("v{}: kNeedMore with {} bytes, more than any header", v4 ? 4 : 3, data.size()));
      break;
  }
  return r;
}

// The header bytes append_* writes for `h`.
std::string encode(const PacketHeader& h) {
  std::string out;
  switch (h.kind) {
    case PacketHeader::Kind::kV3Data: sl::append_v3_header(out, h.sequence); break;
    case PacketHeader::Kind::kV3Info: sl::append_v3_info_header(out, h.info_more); break;
    case PacketHeader::Kind::kV4:
      sl::append_v4_header(out, h.format, h.subformat, h.payload_length, h.sequence, h.station_id);
      break;
    case PacketHeader::Kind::kEnd: out = sl::kEndMarker; break;
  }
  return out;
}

void check_round_trip(std::span<const uint8_t> data, bool v4, const PacketHeader& h) {
  const std::string encoded = encode(h);
  const std::string_view original(reinterpret_cast<const char*>(data.data()), h.header_size);
  bool defined = true;
  std::string expected(original);
  if (h.kind == PacketHeader::Kind::kV3Data) {
    std::transform(expected.begin(), expected.end(), expected.begin(), upper);
  } else if (h.kind == PacketHeader::Kind::kV3Info) {
    defined = original[6] == ' ' && (original[7] == ' ' || original[7] == '*');
  }
  if (defined) {
    FUZZ_CHECK(encoded == expected, fmt::format("v{}: header {} re-encodes as {}", v4 ? 4 : 3,
                                                hex(data.first(h.header_size)), hex(bytes_of(encoded))));
  }
  PacketHeader back;
  const HeaderParse r = parse_checked(bytes_of(encoded), v4, back);
  FUZZ_CHECK(r == HeaderParse::kOk && same_header(back, h),
             fmt::format("v{}: the re-encoded header {} parses {}, not to the same header", v4 ? 4 : 3,
                         hex(bytes_of(encoded)), name(r)));
}

void check_stream(std::span<const uint8_t> data, bool v4) {
  PacketHeader whole;
  const HeaderParse final_result = parse_checked(data, v4, whole);
  if (final_result == HeaderParse::kOk) check_round_trip(data, v4, whole);

  // Every prefix, as the bytes arrive: kNeedMore, then one decided answer.
  bool decided = false;
  size_t decided_at = 0;
  HeaderParse first = HeaderParse::kNeedMore;
  PacketHeader first_header;
  const size_t last = std::min(data.size(), kLongestHeader + 1);
  for (size_t k = 0; k <= last; ++k) {
    PacketHeader h;
    const HeaderParse r = parse_checked(data.first(k), v4, h);
    if (!decided) {
      if (r == HeaderParse::kNeedMore) continue;
      decided = true;
      decided_at = k;
      first = r;
      first_header = h;
      continue;
    }
    FUZZ_CHECK(r == first, fmt::format("v{}: {} with {} bytes but {} with {} of {}", v4 ? 4 : 3, name(first),
                                       decided_at, name(r), k, hex(data)));
    if (r == HeaderParse::kOk) {
      FUZZ_CHECK(same_header(h, first_header), fmt::format("v{}: the header changes when more bytes arrive", v4 ? 4 : 3));
    }
  }
  if (decided) {
    FUZZ_CHECK(first == final_result, fmt::format("v{}: prefixes decide {}, the whole input {}", v4 ? 4 : 3,
                                                  name(first), name(final_result)));
    if (first == HeaderParse::kOk) FUZZ_CHECK(same_header(first_header, whole), "prefix and whole differ");
  } else {
    FUZZ_CHECK(final_result == HeaderParse::kNeedMore, "undecided prefixes, decided whole");
  }
}

uint64_t le(const uint8_t* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = n; i-- > 0;) v = (v << 8) | p[i];
  return v;
}

// The encoders on fields from the input: the first 14 bytes are the v4
// sequence (8), payload length (4), format and subformat; the rest the
// station id (any length: the encoder cuts it to 255 bytes).
void check_encoders(std::span<const uint8_t> data) {
  if (data.size() < 14) return;
  const uint64_t sequence = le(data.data(), 8);
  const auto length = static_cast<uint32_t>(le(data.data() + 8, 4));
  const char format = static_cast<char>(data[12]);
  const char subformat = static_cast<char>(data[13]);
  const std::string_view id(reinterpret_cast<const char*>(data.data()) + 14, data.size() - 14);

  std::string out;
  sl::append_v4_header(out, format, subformat, length, sequence, id);
  PacketHeader h;
  HeaderParse r = parse_checked(bytes_of(out), true, h);
  FUZZ_CHECK(r == HeaderParse::kOk, fmt::format("append_v4_header wrote {}: {}", hex(bytes_of(out)), name(r)));
  FUZZ_CHECK(h.kind == PacketHeader::Kind::kV4 && h.header_size == out.size() && h.format == format &&
                 h.subformat == subformat && h.payload_length == length && h.sequence == sequence &&
                 h.station_id == id.substr(0, 255),
             fmt::format("append_v4_header's {} parses to other fields", hex(bytes_of(out))));

  out.clear();
  sl::append_v3_header(out, sequence);
  r = parse_checked(bytes_of(out), false, h);
  FUZZ_CHECK(r == HeaderParse::kOk && h.kind == PacketHeader::Kind::kV3Data && h.header_size == out.size() &&
                 h.sequence == (sequence & sl::kV3SequenceMask),
             fmt::format("append_v3_header({:#x}) wrote '{}', which parses {}", sequence, out, name(r)));

  for (const bool more : {false, true}) {
    out.clear();
    sl::append_v3_info_header(out, more);
    r = parse_checked(bytes_of(out), false, h);
    FUZZ_CHECK(r == HeaderParse::kOk && h.kind == PacketHeader::Kind::kV3Info && h.info_more == more &&
                   h.header_size == out.size(),
               fmt::format("append_v3_info_header({}) wrote '{}', which parses {}", more, out, name(r)));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> input(data, size);
  check_stream(input, false);
  check_stream(input, true);
  check_encoders(input);
  return 0;
}
