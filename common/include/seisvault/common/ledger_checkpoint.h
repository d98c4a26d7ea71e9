// A ledger checkpoint: the server's signature of the ledger's head
// (docs/provenance.md "Checkpoints" specifies the bytes; this is the
// reference codec).
//
//   28   "SeisVault ledger checkpoint" and one zero byte (the domain)
//   u64  entry count: the checkpoint covers entries 1..count
//   32   the hash of entry `count` (ledger_entry.h)
//   i64  when it was made (ns since 1970, the server's clock)
//   32   the server's Ed25519 public key (DATA_DIR/server.sign.pub)
//   64   Ed25519 signature, by that key, of the 108 bytes before it
// Integers big-endian; 172 bytes in all.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "seisvault/common/sha256.h"
#include "seisvault/common/signing_keys.h"
#include "seisvault/common/status.h"
#include "seisvault/common/time.h"

namespace seisvault {

inline constexpr std::string_view kCheckpointDomain{"SeisVault ledger checkpoint\0", 28};
inline constexpr size_t kCheckpointSize = 28 + 8 + 32 + 8 + 32 + 64;

struct LedgerCheckpoint {
  uint64_t count = 0;
  Sha256Digest head{};
  TimeNs made_ns = 0;
  SigningPublicKey server_key{};
  Signature signature{};
};

// Signs a checkpoint of (count, head) at `made_ns` with the server's key.
std::string make_checkpoint(const SigningKeyPair& server_key, uint64_t count, const Sha256Digest& head, TimeNs made_ns);

// Reads a checkpoint. Corruption for a wrong size or domain. The signature
// is not checked here: checkpoint_signature_ok().
Result<LedgerCheckpoint> decode_checkpoint(std::string_view bytes);

// Whether the checkpoint's signature verifies with its own server key.
// (Whether that key is the server's is for the verifier to know.)
bool checkpoint_signature_ok(std::string_view bytes);

}  // namespace seisvault
