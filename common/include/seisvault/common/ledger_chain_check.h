// LedgerChainCheck: the checks of a ledger that need nothing but its
// entries, its checkpoints and public keys (docs/provenance.md
// "Verification"): every entry decodes, entries are numbered 1..N without
// a gap, each names the previous one's hash, every signed entry's station
// signature verifies over its batch, its key was registered when the
// server received the batch (the ledger's key events: a batch received
// after its key was revoked, or before it was registered, is reported),
// and every checkpoint is signed by the server's key and names the hash
// the chain has at its count. Shared by
// `seisvault verify` (a store on disk) and `seisvault query verify` (a
// ledger fetched from a server it need not trust).
//
// Use: construct with the checkpoints, add_entry() for each entry in order,
// then finish(). Problems go to the sink as they are found. Not
// thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "seisvault/common/ledger_entry.h"
#include "seisvault/common/sha256.h"
#include "seisvault/common/signing_keys.h"

namespace seisvault {

class LedgerChainCheck {
 public:
  // kind ("ledger-chain", "batch-signature", ...), where, what.
  using Sink = std::function<void(const std::string& kind, std::string where, std::string what)>;

  // `server_key`: the key checkpoints must be signed by (without it, each
  // checkpoint's own key is taken as given). `checkpoints`: (count, bytes).
  LedgerChainCheck(std::optional<SigningPublicKey> server_key,
                   std::vector<std::pair<uint64_t, std::string>> checkpoints, Sink sink);

  // Checks a part of a chain that begins at entry `first` (an export
  // bundle's): the first entry's previous hash is taken as it names it.
  // Call before the first add_entry().
  void start_at(uint64_t first) { expected_ = first; previous_known_ = first <= 1; }

  // Checks one entry; returns it decoded (valid until the next call), or
  // nullptr when it does not decode.
  const LedgerEntry* add_entry(uint64_t number, std::string_view bytes);
  // A key event from outside the entries checked (an export bundle's,
  // older than its part of the chain): used for the key rule, unlinked.
  Status add_key_event(std::string_view bytes);
  void finish();

  uint64_t entries() const { return entries_; }
  uint64_t signed_entries() const { return signed_; }
  uint64_t key_events() const { return key_events_; }
  uint64_t checkpoints() const { return checkpoints_.size(); }
  // Entries under the newest checkpoint that holds (0: none).
  uint64_t last_checkpoint_count() const { return last_checkpoint_count_; }
  const Sha256Digest& head() const { return previous_; }

 private:
  std::optional<SigningPublicKey> server_key_;
  std::vector<std::pair<uint64_t, std::string>> checkpoints_;
  Sink sink_;
  std::unordered_map<uint64_t, Sha256Digest> at_checkpoint_;  // count -> the chain's hash there
  std::unordered_map<uint64_t, bool> wanted_;
  struct KeyChange {
    TimeNs at;
    uint8_t event;  // kKeyRegistered, kKeyRevoked
    uint64_t entry;
  };
  struct SignedBatch {
    uint64_t entry;
    uint64_t batch_id;
    TimeNs received;
  };
  void take_key_event(const LedgerEntry& e);
  // Whether the key was registered at `t`; otherwise reports it (when
  // `report`).
  bool key_valid_at(const std::string& key, const SignedBatch& b, bool report);

  // Signing key -> its events in time order.
  std::unordered_map<std::string, std::vector<KeyChange>> key_changes_;
  // Batches whose key was not registered by the events seen so far (a key
  // event is written just after the list changes, so a batch may come
  // before it in the chain): checked again at finish().
  std::vector<std::pair<std::string, SignedBatch>> unsettled_;
  uint64_t key_events_ = 0;
  Sha256Digest previous_{};
  bool previous_known_ = true;
  uint64_t expected_ = 1;
  uint64_t entries_ = 0;
  uint64_t signed_ = 0;
  uint64_t last_checkpoint_count_ = 0;
  std::string message_;
  std::optional<LedgerEntry> last_;
};

// What is wrong with a record whose bytes hash to `hash` and that points
// to `position` of batch entry `entry` (`in` names that place: "ledger entry
// 7 position 3"), each a what of kind record-ledger-mismatch; empty when
// the entry holds that hash there and says it stored it. The rule that
// `seisvault verify`, the Verify RPC and `verify --bundle` apply to a record.
std::vector<std::string> record_entry_mismatches(const LedgerEntry& entry, uint32_t position, const Sha256Digest& hash,
                                                 const std::string& in);

// "ed25519:..." for a signed entry's key id, the text itself otherwise.
std::string ledger_key_text(const std::string& key_id, bool is_signed);

}  // namespace seisvault
