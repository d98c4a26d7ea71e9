// libFuzzer target: next_piece (common/include/seisvault/common/record_splitter.h),
// which cuts whatever `seisvault push` reads (files, stdin, growing files)
// into records and non-record pieces before anything is validated.
//
// The input is split twice: whole (at_eof), and as a stream that grows in
// chunks (not at_eof until the last chunk), as a followed file does; the
// first byte picks the chunk size. Checks, both ways: every byte is in
// exactly one piece (nothing dropped, nothing repeated); a piece is never
// empty; a non-record piece is at most kMaxNotDataPiece bytes; a miniSEED 3
// piece starts with "MS\x03"; and a piece decided before the end of the
// stream is never longer than the bytes available.
#include <algorithm>
#include <cstdint>
#include <span>

#include <fmt/format.h>

#include "fuzz_check.h"
#include "seisvault/common/record_splitter.h"

namespace {

using seisvault::PieceKind;
using seisvault::RecordPiece;

void check_piece(const RecordPiece& p, std::span<const uint8_t> rest) {
  FUZZ_CHECK(p.offset == 0, fmt::format("piece at offset {}, not at the start", p.offset));
  FUZZ_CHECK(p.length > 0, "an empty piece");
  FUZZ_CHECK(p.length <= rest.size(), fmt::format("a piece of {} bytes out of {}", p.length, rest.size()));
  if (p.kind == PieceKind::kNotData) {
    FUZZ_CHECK(p.length <= seisvault::kMaxNotDataPiece, fmt::format("a non-record piece of {} bytes", p.length));
  }
  if (p.kind == PieceKind::kMiniSeed3) {
    FUZZ_CHECK(rest[0] == 'M' && rest[1] == 'S' && rest[2] == 3, "a miniSEED 3 piece without its signature");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> all(data, size);

  size_t at = 0;
  while (at < size) {
    const auto p = seisvault::next_piece(all.subspan(at), /*at_eof=*/true);
    FUZZ_CHECK(p.has_value(), fmt::format("no piece at offset {} of {} at the end of the data", at, size));
    check_piece(*p, all.subspan(at));
    at += p->length;
  }

  // As a stream: bytes become visible `chunk` at a time.
  const size_t chunk = size == 0 ? 1 : size_t{1} + data[0] * size_t{64};
  size_t visible = 0;
  at = 0;
  while (at < size) {
    visible = std::min(size, std::max(visible, at) + chunk);
    const bool eof = visible == size;
    for (;;) {
      const auto p = seisvault::next_piece(all.subspan(at, visible - at), eof);
      if (!p) {
        FUZZ_CHECK(!eof, fmt::format("no piece at offset {} at the end of the stream", at));
        break;
      }
      check_piece(*p, all.subspan(at, visible - at));
      at += p->length;
      if (at == visible) break;
    }
  }
  FUZZ_CHECK(at == size, fmt::format("the stream's pieces cover {} of {} bytes", at, size));
  return 0;
}
