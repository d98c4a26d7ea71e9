#include "seisvault/ingest/reject_reason.h"

namespace seisvault::ingest {

std::string_view reject_reason_name(RejectReason reason) {
  switch (reason) {
    case RejectReason::kNone: return "none";
    case RejectReason::kNotMiniSeed: return "not_miniseed";
    case RejectReason::kUnsupportedVersion: return "unsupported_version";
    case RejectReason::kTruncated: return "truncated";
    case RejectReason::kRecordLengthMismatch: return "record_length_mismatch";
    case RejectReason::kBadBlockettes: return "bad_blockettes";
    case RejectReason::kBadHeader: return "bad_header";
    case RejectReason::kUnsupportedEncoding: return "unsupported_encoding";
    case RejectReason::kDecodeFailed: return "decode_failed";
    case RejectReason::kSteimIntegrity: return "steim_integrity";
    case RejectReason::kInvalidTime: return "invalid_time";
    case RejectReason::kFutureTime: return "future_time";
    case RejectReason::kRecordTooLarge: return "record_too_large";
    case RejectReason::kHashMismatch: return "hash_mismatch";
    case RejectReason::kNotAuthorized: return "not_authorized";
    case RejectReason::kBatchTooLarge: return "batch_too_large";
    case RejectReason::kInternal: return "internal";
  }
  return "unknown";
}

}  // namespace seisvault::ingest
