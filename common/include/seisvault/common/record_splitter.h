// Splitting a byte stream (a file, stdin, a growing datalogger file) into
// pieces that are each one miniSEED record or something that is not one.
//
// Nothing is dropped silently: every byte belongs to exactly one piece, and
// a piece that is not a record is still handed on, so that the server can
// reject it with a reason the operator sees. The splitter only finds the
// boundaries; it does not validate (ingest's RecordValidator does).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace seisvault {

enum class PieceKind : uint8_t {
  kRecord,     // starts with a miniSEED 2 fixed header; length from blockette 1000 or the next header
  kMiniSeed3,  // a miniSEED 3 record ("MS\x03" ...), length from its header
  kTruncated,  // a miniSEED 2 or 3 header whose record runs past the end of the data
  kNotData,    // bytes with no miniSEED header (noise, SEED control headers, trailing bytes)
};

std::string_view piece_kind_name(PieceKind kind);

struct RecordPiece {
  size_t offset = 0;  // from the start of the span given to next_piece()
  size_t length = 0;
  PieceKind kind = PieceKind::kNotData;
};

// Non-record pieces are cut at most this long, so that a large non-miniSEED
// file becomes a bounded number of bounded pieces.
inline constexpr size_t kMaxNotDataPiece = 8192;

// The piece at the start of `data`. `at_eof` says that no more bytes will
// follow `data`; when false, returns nullopt if the piece cannot be decided
// until more bytes arrive (a record not yet complete, or a header without
// blockette 1000 whose end is found only by seeing the next header).
// Returns nullopt for an empty `data`. Thread-safe.
std::optional<RecordPiece> next_piece(std::span<const uint8_t> data, bool at_eof);

}  // namespace seisvault
