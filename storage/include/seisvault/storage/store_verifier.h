// verify_store: checks that a store holds what its stations sent, with
// nothing but the store and public keys (docs/provenance.md
// "Verification"). What `seisvault verify --data-dir` runs.
//
// Checks, in three passes:
//   1. the ledger: every entry decodes, entries are numbered 1..N without a
//      gap, each names the previous one's hash; every signed entry's station
//      signature verifies over its batch (batch_signature.h) with the key
//      it names, a key registered when the batch arrived (the ledger's key
//      events); every checkpoint verifies with the server's key and names
//      the hash the chain has at its count;
//   2. the records: each one's bytes hash to its stored SHA-256; a record
//      stored since the ledger began points to a ledger entry whose hash at
//      its position is that SHA-256 and which says it stored it, and no two
//      records point to the same place;
//   3. every record an entry said in pass 1 it stored was found, but for
//      those the ledger's retention entries say were removed (as many per
//      entry as they count).
// Problems are counted by kind, the first of each kind kept with where and
// what. Reads only (safe on a live store, though records written meanwhile
// may be reported as not yet in the ledger read earlier: verify a stopped
// server's directory or a backup).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "seisvault/common/ledger_entry.h"
#include "seisvault/common/sha256.h"
#include "seisvault/common/signing_keys.h"
#include "seisvault/common/status.h"
#include "seisvault/common/verify_problems.h"
#include "seisvault/storage/record_store.h"

namespace seisvault::storage {

struct VerifyOptions {
  // The server's signing key (DATA_DIR/server.sign.pub): checkpoints must be
  // signed by it. Without it, a checkpoint's own key is taken as given and
  // the report says so.
  std::optional<SigningPublicKey> server_key;
  // Called now and then with a line of progress (optional).
  std::function<void(const std::string&)> progress;
};

struct VerifyReport : VerifyProblems {
  uint64_t records = 0;                // read and re-hashed
  uint64_t records_before_ledger = 0;  // stored before the ledger began (no entry to check against)
  uint64_t ledger_entries = 0;
  uint64_t signed_entries = 0;
  uint64_t key_events = 0;  // station keys registered and revoked
  uint64_t retention_entries = 0;
  uint64_t records_expired = 0;  // removed by retention, as its entries say
  uint64_t checkpoints = 0;
  uint64_t last_checkpoint_count = 0;  // entries under the newest valid checkpoint
  bool server_key_given = false;
};

// Ledger entries as the records pointing to them need them: each read and
// decoded once, a bounded number kept (records come channel by channel,
// their batches spread over the ledger). Not thread-safe.
class LedgerEntryCache {
 public:
  explicit LedgerEntryCache(const RecordStore& store) : store_(store) {}
  // Entry `number`; nullptr when the ledger does not hold it or it does not
  // decode. Valid until the next call.
  const LedgerEntry* get(uint64_t number);

 private:
  const RecordStore& store_;
  std::unordered_map<uint64_t, std::optional<LedgerEntry>> entries_;
};

struct LedgerFinding {
  std::string kind;  // "record-not-in-ledger" or "record-ledger-mismatch"
  std::string what;
};

// What is wrong with stored record `r`, whose bytes hash to `actual`,
// against the ledger, in the order found (empty: nothing). A record with
// no entry is wrong only when stored since `ledger_since`
// (RecordStore::ledger_since_sequence). `entry` (optional) is set to the
// record's entry when the ledger holds it. What `seisvault verify` and the
// Verify RPC both check of a record.
std::vector<LedgerFinding> check_record_ledger(const StoredRecord& r, const Sha256Digest& actual,
                                               uint64_t ledger_since, LedgerEntryCache& entries,
                                               const LedgerEntry** entry = nullptr);

// Verifies `store` as above. The Status is not OK only when the store
// cannot be read at all; everything found wrong is in the report.
Result<VerifyReport> verify_store(const RecordStore& store, const VerifyOptions& options);

}  // namespace seisvault::storage
