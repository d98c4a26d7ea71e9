// RejectReason: why a record was refused, defined once.
//
// SEISVAULT_REJECT_REASONS below is the one list of reasons: their numbers
// (the wire protocol's seisvault.ingest.v1.RejectCode, which
// tests/ingest/reject_reason_test.cpp holds to this list), their names in
// logs, metrics and GetStats ("not_miniseed"; the protocol's enum spells
// them in capitals), and whether a station should keep and resend a record
// refused for that reason. Codes and names are stable: stations, logs and
// dashboards use them.
//
// Permanent reasons say the record itself is wrong (or not this key's to
// write): resending it would be refused again, so a station drops it, counts
// it and reports it. Transient reasons say the server could not take it this
// time: the station keeps it and resends it later.
#pragma once

#include <cstdint>
#include <string_view>

namespace seisvault {

// X(enumerator, number, name, transient, meaning)
#define SEISVAULT_REJECT_REASONS(X)                                                                                   \
  X(kNone, 0, "none", false, "not rejected")                                                                          \
  X(kNotMiniSeed, 1, "not_miniseed", false, "no miniSEED 2 fixed header (not miniSEED, or noise)")                   \
  X(kUnsupportedVersion, 2, "unsupported_version", false, "miniSEED 3: this server stores miniSEED 2")                \
  X(kTruncated, 3, "truncated", false, "fewer bytes than the header's record length, or than a header")              \
  X(kRecordLengthMismatch, 4, "record_length_mismatch", false, "the buffer's length differs from the record length") \
  X(kBadBlockettes, 5, "bad_blockettes", false, "a broken blockette chain")                                           \
  X(kBadHeader, 6, "bad_header", false, "another invalid fixed-header field (sample rate, data offset, ...)")         \
  X(kUnsupportedEncoding, 7, "unsupported_encoding", false, "an encoding the server cannot decode")                   \
  X(kDecodeFailed, 8, "decode_failed", false, "the data section does not decode to the header's sample count")       \
  X(kSteimIntegrity, 9, "steim_integrity", false,                                                                     \
    "Steim: the last decoded sample differs from the reverse integration constant")                                  \
  X(kInvalidTime, 10, "invalid_time", false, "a start-time field out of range")                                       \
  X(kFutureTime, 11, "future_time", false, "starts further in the future than the configured margin")                 \
  X(kRecordTooLarge, 12, "record_too_large", false, "longer than the largest miniSEED record (1 MiB)")                \
  X(kHashMismatch, 13, "hash_mismatch", false, "the SHA-256 sent with the record is not the SHA-256 of its bytes")   \
  X(kNotAuthorized, 14, "not_authorized", false, "the sender's key may not write this NET.STA")                       \
  X(kBatchTooLarge, 15, "batch_too_large", true, "the batch holds more records or bytes than the server accepts")     \
  X(kInternal, 16, "internal", true, "the server failed (e.g. the store); the record was not stored")                 \
  X(kTooManyChannels, 17, "too_many_channels", false,                                                                 \
    "the record would add a channel to a station that already has as many as the server allows")                      \
  X(kNewChannelBudget, 18, "new_channel_budget", true,                                                                \
    "the sender created as many new channels in the last hour as the server allows; resend later")

enum class RejectReason : uint8_t {
#define SEISVAULT_REJECT_ENUM(e, n, name, transient, meaning) e = n,
  SEISVAULT_REJECT_REASONS(SEISVAULT_REJECT_ENUM)
#undef SEISVAULT_REJECT_ENUM
};

// One more than the largest number: arrays indexed by reason have this size.
inline constexpr int kRejectReasonCount = 19;

// "not_miniseed", "steim_integrity", ... ("none" for kNone, "unknown" for a
// number that is not a reason).
std::string_view reject_reason_name(RejectReason reason);
// The same for a wire number (seisvault.ingest.v1.RejectCode).
std::string_view reject_reason_name(uint32_t code);

// What the reason means, for a person (documentation, --help).
std::string_view reject_reason_meaning(RejectReason reason);

// Whether a record refused for this reason should be kept and resent (see
// above). Numbers this program does not know are transient: a newer
// server's new reason must not make an older station drop data.
bool reject_reason_is_transient(uint32_t code);

}  // namespace seisvault
