#include "seisvault/common/record_splitter.h"

#include <libmseed.h>

#include <cstring>

#include "seisvault/common/libmseed_lock.h"

namespace seisvault {

std::string_view piece_kind_name(PieceKind kind) {
  switch (kind) {
    case PieceKind::kRecord: return "record";
    case PieceKind::kMiniSeed3: return "miniSEED 3 record";
    case PieceKind::kTruncated: return "truncated record";
    case PieceKind::kNotData: return "non-miniSEED bytes";
  }
  return "?";
}

namespace {

constexpr size_t kFixedHeader = 48;
constexpr size_t kV3FixedHeader = 40;

bool is_power_of_two_reclen(size_t n) { return n >= MINRECLEN && n <= MAXRECLEN && (n & (n - 1)) == 0; }

bool looks_like_v3(std::span<const uint8_t> d) {
  return d.size() >= 3 && d[0] == 'M' && d[1] == 'S' && d[2] == 3;
}

// A v2 fixed header (the same test libmseed applies) or the start of a v3 record.
bool header_at(std::span<const uint8_t> d) {
  if (looks_like_v3(d)) return true;
  if (d.size() < kFixedHeader) return false;
  const auto* p = reinterpret_cast<const char*>(d.data());
  return MS_ISVALIDHEADER(p);
}

// ms_detect reads up to 3 bytes past the length it is given while walking
// the blockette chain, so it is given 4 bytes less than there are.
int detect(std::span<const uint8_t> d) {
  const size_t limit = std::min<size_t>(d.size(), MAXRECLEN + kFixedHeader + 4);
  LibmseedLock lock;
  return ms_detect(reinterpret_cast<const char*>(d.data()), static_cast<int>(limit - 4));
}

}  // namespace

std::optional<RecordPiece> next_piece(std::span<const uint8_t> data, bool at_eof) {
  const size_t n = data.size();
  if (n == 0) return std::nullopt;

  if (looks_like_v3(data)) {
    if (n < kV3FixedHeader) {
      if (!at_eof) return std::nullopt;
      return RecordPiece{0, n, PieceKind::kTruncated};
    }
    uint16_t extra_len;
    uint32_t data_len;
    std::memcpy(&extra_len, data.data() + 34, 2);  // v3 is little-endian
    std::memcpy(&data_len, data.data() + 36, 4);
    const size_t total = kV3FixedHeader + data[33] + extra_len + size_t{data_len};
    if (total <= n) return RecordPiece{0, total, PieceKind::kMiniSeed3};
    if (!at_eof && total <= MAXRECLEN) return std::nullopt;
    return RecordPiece{0, n, PieceKind::kTruncated};
  }

  if (n < kFixedHeader + 4) {
    if (!at_eof) return std::nullopt;
    return RecordPiece{0, n, header_at(data) ? PieceKind::kTruncated : PieceKind::kNotData};
  }

  const int reclen = detect(data);
  if (reclen > 0) {
    const auto len = static_cast<size_t>(reclen);
    if (len < MINRECLEN || len > MAXRECLEN) {
      // A header whose blockette 1000 gives an impossible length: hand on its
      // first 128 bytes for the validator to reject, and resynchronize after.
      return RecordPiece{0, std::min<size_t>(n, MINRECLEN), PieceKind::kRecord};
    }
    if (len <= n) return RecordPiece{0, len, PieceKind::kRecord};
    if (!at_eof) return std::nullopt;
    return RecordPiece{0, n, PieceKind::kTruncated};
  }
  if (reclen == 0) {
    // A header without blockette 1000 and no next header in sight: at the
    // end of the data the record is what remains, if that is a valid length.
    if (!at_eof && n <= MAXRECLEN) return std::nullopt;
    if (is_power_of_two_reclen(n)) return RecordPiece{0, n, PieceKind::kRecord};
    return RecordPiece{0, std::min<size_t>(n, MAXRECLEN), PieceKind::kTruncated};
  }

  // Not a header: the piece runs to the next header (searched byte by byte,
  // so records at any offset are found), at most kMaxNotDataPiece long.
  const size_t limit = std::min(n, kMaxNotDataPiece);
  for (size_t i = 1; i < limit; ++i) {
    if (n - i < kFixedHeader && !looks_like_v3(data.subspan(i))) {
      if (!at_eof) {
        // Too few bytes left to tell whether a header starts here.
        return RecordPiece{0, i, PieceKind::kNotData};
      }
      continue;
    }
    if (header_at(data.subspan(i))) return RecordPiece{0, i, PieceKind::kNotData};
  }
  return RecordPiece{0, limit, PieceKind::kNotData};
}

}  // namespace seisvault
