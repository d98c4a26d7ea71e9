// What a station signs for a batch, and the check of it (docs/provenance.md
// "Batch signatures": this is its reference implementation).
//
// The signed message, all integers big-endian:
//   "SeisVault batch signature" and one zero byte   (26 bytes, the domain)
//   protocol version      u32
//   key id                32 bytes: the station's Ed25519 public key
//   batch id              u64
//   send time             i64, ns since 1970-01-01 UTC, the station's clock
//   record count          u32
//   the records' SHA-256  32 bytes each, in the batch's order
// The signature is Ed25519 (64 bytes) over those bytes. Binding the protocol
// version, the key and the batch id means a signature cannot be moved to
// another batch, key or protocol; the hashes bind the records' bytes and
// their order.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "seisvault/common/sha256.h"
#include "seisvault/common/signing_keys.h"

namespace seisvault {

inline constexpr std::string_view kBatchSignatureDomain{"SeisVault batch signature\0", 26};

struct BatchSigningFields {
  uint32_t protocol_version = 0;
  SigningPublicKey key_id{};
  uint64_t batch_id = 0;
  int64_t send_time_ns = 0;
};

// Builds the signed message into `out` (its capacity is reused). Records
// are added one at a time with add_batch_hash() after begin.
void begin_batch_message(const BatchSigningFields& fields, uint32_t record_count, std::string& out);
void add_batch_hash(std::span<const uint8_t, 32> sha256, std::string& out);

// The whole message at once.
std::string batch_signing_message(const BatchSigningFields& fields, std::span<const Sha256Digest> hashes);

}  // namespace seisvault
