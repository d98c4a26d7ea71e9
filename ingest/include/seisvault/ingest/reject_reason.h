// RejectReason: why a record was refused. The codes and their names are
// stable: stations, logs, metrics and the wire protocol use them.
#pragma once

#include <cstdint>
#include <string_view>

namespace seisvault::ingest {

enum class RejectReason : uint8_t {
  kNone = 0,
  kNotMiniSeed = 1,          // no miniSEED 2 fixed header (not miniSEED, or noise)
  kUnsupportedVersion = 2,   // miniSEED 3: this server stores miniSEED 2
  kTruncated = 3,            // fewer bytes than the header's record length, or than a header
  kRecordLengthMismatch = 4, // the buffer's length differs from the record length
  kBadBlockettes = 5,        // broken blockette chain
  kBadHeader = 6,            // another invalid fixed-header field (sample rate, data offset, ...)
  kUnsupportedEncoding = 7,  // an encoding libmseed cannot decode
  kDecodeFailed = 8,         // the data section does not decode to the header's sample count
  kSteimIntegrity = 9,       // Steim: last decoded sample differs from the reverse integration constant
  kInvalidTime = 10,         // a start-time field out of range
  kFutureTime = 11,          // starts further in the future than the configured margin
  kRecordTooLarge = 12,      // longer than the largest miniSEED record (1 MiB)
  kHashMismatch = 13,        // the SHA-256 sent with the record is not the SHA-256 of its bytes
  kNotAuthorized = 14,       // the sender's key may not write this NET.STA
  kBatchTooLarge = 15,       // the batch holds more records or bytes than the server accepts
  kInternal = 16,            // the server failed (e.g. the store); the record was not stored
};

inline constexpr int kRejectReasonCount = 17;

// "not_miniseed", "steim_integrity", ... ("none" for kNone).
std::string_view reject_reason_name(RejectReason reason);

}  // namespace seisvault::ingest
