// A ledger entry: what the store keeps of each committed batch, chained by
// hash (docs/provenance.md "The ledger" specifies the bytes; this is the
// reference codec, shared by the store that writes entries and the
// verifiers that read them).
//
// Encoding, every integer big-endian:
//   u8   format (1)
//   u8   kind (1: a station batch, 2: a station key event, 3: records
//        removed by retention)
//   u8   flags (bit 0: signed by the station)
//   u8   length L of the key id
//   32   the previous entry's hash (zeros for entry 1)
//   u64  entry number (1, 2, ...)
//   L    key id: the station's Ed25519 public key (32 bytes) for a signed
//        batch; the sender (its CURVE public key, Z85) for an unsigned one;
//        empty for a server running --insecure
//   u32  protocol version of the batch
//   u64  batch id
//   i64  send time (ns since 1970, the station's clock; 0 when unsigned)
//   i64  receive time (ns, the server's clock)
//   u32  record count n
//   n*32 the records' SHA-256, in the batch's order (for a signed batch:
//        the sha256 fields it signed)
//   ceil(n/8) bytes: record i stored under this entry when bit (i % 8) of
//        byte i / 8 is set (a record refused, or a duplicate of one stored
//        before, is not)
//   u8   signature length S (64, or 0 when unsigned), then S bytes
// A key event (kind 2: a station's key registered or revoked, written by
// the server when authorized_stations changes) has the same first six
// fields (flags bit 0: the key id is an Ed25519 signing key; otherwise a
// station's CURVE key, Z85, let in with allow-unsigned), then:
//   u8   event (1: registered, 2: revoked)
//   i64  when (ns since 1970, the server's clock)
//   u16  length, then the station's CURVE public key (Z85)
//   u16  length, then the NET.STA patterns it may write, space-separated
// A retention entry (kind 3: what one step of a retention pass removed from
// one channel, written in the same atomic write as the removal) has the
// first six fields (flags 0, no key id), then:
//   i64  when (ns since 1970, the server's clock)
//   i64  the cutoff: every record removed had ended before it
//   u16  length, then the channel's source id
//   u64  records removed that were stored before the ledger began
//   u32  m, then m times: u64 a ledger entry, u32 how many of the records
//        it stored were removed (entries in increasing order)
// The entry's hash is the SHA-256 of all of those bytes.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "seisvault/common/sha256.h"
#include "seisvault/common/status.h"
#include "seisvault/common/time.h"

namespace seisvault {

inline constexpr uint8_t kLedgerEntryFormat = 1;
inline constexpr uint8_t kLedgerKindBatch = 1;
inline constexpr uint8_t kLedgerKindKeyEvent = 2;
inline constexpr uint8_t kLedgerKindRetention = 3;
inline constexpr uint8_t kKeyRegistered = 1;
inline constexpr uint8_t kKeyRevoked = 2;

struct LedgerEntry {
  uint8_t kind = kLedgerKindBatch;
  bool is_signed = false;
  Sha256Digest previous_hash{};
  uint64_t number = 0;
  std::string key_id;
  uint32_t protocol_version = 0;
  uint64_t batch_id = 0;
  TimeNs send_ns = 0;
  TimeNs receive_ns = 0;
  std::vector<Sha256Digest> hashes;
  std::vector<bool> stored;  // parallel to hashes
  std::string signature;
  // Key events (kind 2): receive_ns is when; the fields of a batch above
  // (protocol version to signature) are unused.
  uint8_t key_event = 0;  // kKeyRegistered or kKeyRevoked
  std::string station_key;
  std::string station_patterns;
  // Retention (kind 3): receive_ns is when.
  TimeNs cutoff_ns = 0;
  std::string channel;
  uint64_t removed_unledgered = 0;
  std::vector<std::pair<uint64_t, uint32_t>> removed;  // (ledger entry, records removed), by entry
};

// The entry's bytes.
std::string encode_ledger_entry(const LedgerEntry& entry);

// Reads an entry back. Corruption saying what is wrong (truncated, trailing
// bytes, an unknown format or kind, a key id or signature of a bad size).
Result<LedgerEntry> decode_ledger_entry(std::string_view bytes);

// SHA-256 of an entry's bytes: what the next entry names as its previous.
Sha256Digest ledger_entry_hash(std::string_view bytes);

}  // namespace seisvault
