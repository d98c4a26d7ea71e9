// Station batches for the ledger tests: records with what the ledger is
// given for them, written in one store write.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "seisvault/common/batch_signature.h"
#include "seisvault/storage/record_store.h"
#include "store_test_records.h"

namespace seisvault::storage_test {

struct TestBatch {
  std::vector<Rec> records;
  std::string key_id;
  bool is_signed = true;
  uint64_t batch_id = 0;
  TimeNs send_ns = 0;
  std::string hashes;     // 32 bytes per record
  std::string signature;  // 64 bytes when signed
};

// A batch of `records` under `key_id`. Signed with `key` when given (its
// public key is then the key id); otherwise, when `is_signed`, with a
// made-up signature (the store does not check it).
inline TestBatch batch_of(std::vector<Rec> records, std::string key_id, uint64_t batch_id, bool is_signed = true,
                          const SigningKeyPair* key = nullptr) {
  TestBatch b{std::move(records), std::move(key_id), is_signed, batch_id, 1000 + static_cast<TimeNs>(batch_id), {},
              {}};
  for (const auto& r : b.records) b.hashes.append(reinterpret_cast<const char*>(r.sha.data()), 32);
  if (key != nullptr) {
    b.key_id.assign(reinterpret_cast<const char*>(key->public_key.data()), 32);
    b.is_signed = true;
    std::vector<Sha256Digest> hs;
    for (const auto& r : b.records) hs.push_back(r.sha);
    const auto message = batch_signing_message({1, key->public_key, batch_id, b.send_ns}, hs);
    const auto sig = sign_message(*key, {reinterpret_cast<const uint8_t*>(message.data()), message.size()});
    b.signature.assign(reinterpret_cast<const char*>(sig.data()), sig.size());
  } else if (is_signed) {
    b.signature.assign(64, static_cast<char>(batch_id));
  }
  return b;
}

struct LedgerWrite {
  Status status;
  std::vector<WriteOutcome> outcomes;  // the batches' records, in order, then the loose ones
};

// One store write of the records of `batches` (each at its position in its
// batch), then `loose` records of no batch.
inline LedgerWrite write_batches(RecordStore& store, const std::vector<TestBatch>& batches,
                                 const std::vector<Rec>& loose = {}) {
  std::vector<NewRecord> in;
  std::vector<LedgerBatch> lb;
  for (size_t b = 0; b < batches.size(); ++b) {
    const auto& t = batches[b];
    LedgerBatch l;
    l.key_id = t.key_id;
    l.is_signed = t.is_signed;
    l.protocol_version = 1;
    l.batch_id = t.batch_id;
    l.send_ns = t.send_ns;
    l.receive_ns = 2000 + static_cast<TimeNs>(t.batch_id);
    l.hashes = {reinterpret_cast<const uint8_t*>(t.hashes.data()), t.hashes.size()};
    l.signature = {reinterpret_cast<const uint8_t*>(t.signature.data()), t.signature.size()};
    lb.push_back(l);
    for (size_t i = 0; i < t.records.size(); ++i) {
      auto n = as_new(t.records[i]);
      n.ledger_batch = static_cast<uint32_t>(b);
      n.batch_position = static_cast<uint32_t>(i);
      in.push_back(n);
    }
  }
  for (const auto& r : loose) in.push_back(as_new(r));
  LedgerWrite out;
  out.outcomes.assign(in.size(), WriteOutcome::kDuplicate);
  out.status = store.write(in, out.outcomes, true, nullptr, {}, lb);
  return out;
}

// A key event for signing key `key` (batches of write_batches() are
// received at 2000 + their batch id).
inline Status key_event(RecordStore& store, const SigningKeyPair& key, bool revoked, TimeNs at) {
  KeyEvent e;
  e.key.key_id.assign(reinterpret_cast<const char*>(key.public_key.data()), 32);
  e.key.is_signed = true;
  e.key.station_key = "station-curve-key";
  e.key.patterns = "XX.*";
  e.revoked = revoked;
  e.at = at;
  return store.record_key_events({&e, 1});
}

}  // namespace seisvault::storage_test
