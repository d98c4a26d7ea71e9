// The store's ledger (docs/provenance.md "The ledger"): an entry per batch
// in the write that stores its records, chained by hash, each stored record
// pointing to its entry; a signed batch under a spent id stores nothing.
#include <catch2/catch.hpp>

#include <cstring>
#include <map>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "seisvault/common/ledger_entry.h"
#include "seisvault/storage/record_store.h"
#include "ledger_batches.h"
#include "raw_store.h"
#include "store_test_records.h"
#include "support/temp_dir.h"

using namespace seisvault;
using namespace seisvault::storage;
using namespace seisvault::storage_test;

namespace {

std::vector<std::pair<uint64_t, std::string>> ledger_of(const RecordStore& store) {
  std::vector<std::pair<uint64_t, std::string>> out;
  REQUIRE(store.read_ledger(1, [&](uint64_t n, std::string_view bytes) {
                 out.emplace_back(n, std::string(bytes));
                 return true;
               }).ok());
  return out;
}

// Every record read back, by SHA-256: (ledger entry, position).
std::map<Sha256Digest, std::pair<uint64_t, uint32_t>> pointers(const RecordStore& store) {
  std::map<Sha256Digest, std::pair<uint64_t, uint32_t>> out;
  REQUIRE(store.read_records({}, {}, [&](const StoredRecord& r) {
                 Sha256Digest h;
                 std::copy(r.sha256, r.sha256 + 32, h.begin());
                 out[h] = {r.ledger_entry, r.batch_position};
                 return true;
               }).ok());
  return out;
}

}  // namespace

TEST_CASE("each batch gets a ledger entry in the write that stores it, chained by hash, and its records point to it",
          "[ledger]") {
  test::TempDir dir;
  auto store = open_store(dir.path());
  CHECK(store->ledger_head().count == 0);
  const std::string key_a(32, 'A');
  std::vector<Rec> a, b, c;
  for (int i = 0; i < 5; ++i) a.push_back(rec("XX.A..HHZ", kT0 + i * kSecond, 100, 100.0, 1));
  for (int i = 0; i < 3; ++i) b.push_back(rec("XX.B..HHZ", kT0 + i * kSecond, 100, 100.0, 2));
  for (int i = 0; i < 2; ++i) c.push_back(rec("XX.C..HHZ", kT0 + i * kSecond, 100, 100.0, 3));
  // Batch 2 repeats a record of batch 1: a duplicate, not stored by entry 2.
  b.push_back(a[0]);
  const auto loose = rec("XX.L..HHZ", kT0, 100, 100.0, 4);

  auto w1 = write_batches(*store, {batch_of(a, key_a, 7), batch_of(b, "curve-key-of-B", 3, false)}, {loose});
  REQUIRE(w1.status.ok());
  CHECK(count_of(w1.outcomes, WriteOutcome::kStored) == 9);
  CHECK(w1.outcomes[8] == WriteOutcome::kDuplicate);
  auto w2 = write_batches(*store, {batch_of(c, key_a, 8)});
  REQUIRE(w2.status.ok());

  const auto check_ledger = [&](const RecordStore& s) {
    const auto ledger = ledger_of(s);
    REQUIRE(ledger.size() == 3);
    Sha256Digest previous{};
    std::vector<LedgerEntry> entries;
    for (const auto& [n, bytes] : ledger) {
      auto e = decode_ledger_entry(bytes);
      REQUIRE(e.ok());
      CHECK(e->number == n);
      CHECK(e->previous_hash == previous);
      previous = ledger_entry_hash(bytes);
      entries.push_back(*e);
    }
    CHECK(s.ledger_head().count == 3);
    CHECK(s.ledger_head().hash == previous);
    // Entry 1: batch 7 of key A, signed, all five stored.
    CHECK(entries[0].key_id == key_a);
    CHECK(entries[0].is_signed);
    CHECK(entries[0].batch_id == 7);
    CHECK(entries[0].send_ns == 1007);
    CHECK(entries[0].receive_ns == 2007);
    CHECK(entries[0].signature == std::string(64, '\7'));
    CHECK(entries[0].hashes == hashes(a));
    CHECK(entries[0].stored == std::vector<bool>(5, true));
    // Entry 2: the unsigned batch; its last record was a duplicate.
    CHECK_FALSE(entries[1].is_signed);
    CHECK(entries[1].key_id == "curve-key-of-B");
    CHECK(entries[1].signature.empty());
    CHECK(entries[1].stored == std::vector<bool>{true, true, true, false});
    CHECK(entries[2].batch_id == 8);
    // Every stored record points to the entry and position that stored it;
    // the record of no batch to nothing.
    const auto p = pointers(s);
    REQUIRE(p.size() == 11);
    for (size_t i = 0; i < a.size(); ++i) CHECK(p.at(a[i].sha) == std::pair<uint64_t, uint32_t>{1, i});
    for (size_t i = 0; i < 3; ++i) CHECK(p.at(b[i].sha) == std::pair<uint64_t, uint32_t>{2, i});
    for (size_t i = 0; i < c.size(); ++i) CHECK(p.at(c[i].sha) == std::pair<uint64_t, uint32_t>{3, i});
    CHECK(p.at(loose.sha).first == 0);
  };
  check_ledger(*store);
  store.reset();
  store = open_store(dir.path());
  check_ledger(*store);
  // Appending after a reopen continues the chain.
  const auto before = store->ledger_head();
  REQUIRE(write_batches(*store, {batch_of({rec("XX.D..HHZ", kT0, 100, 100.0, 5)}, key_a, 9)}).status.ok());
  const auto ledger = ledger_of(*store);
  REQUIRE(ledger.size() == 4);
  CHECK(decode_ledger_entry(ledger[3].second)->previous_hash == before.hash);
}

TEST_CASE("a signed batch under a spent id stores nothing, unless it is the stored batch again", "[ledger]") {
  test::TempDir dir;
  auto store = open_store(dir.path());
  const std::string key(32, 'K'), other(32, 'O');
  std::vector<Rec> first, second;
  for (int i = 0; i < 4; ++i) first.push_back(rec("XX.K..HHZ", kT0 + i * kSecond, 100, 100.0, 1));
  for (int i = 0; i < 4; ++i) second.push_back(rec("XX.K..HHZ", kT0 + (10 + i) * kSecond, 100, 100.0, 1));

  REQUIRE(write_batches(*store, {batch_of(first, key, 10)}).status.ok());
  CHECK(store->highest_batch_id(key) == 10);

  // The same batch again (a resend after a lost ack): its records are duplicates.
  auto again = write_batches(*store, {batch_of(first, key, 10)});
  REQUIRE(again.status.ok());
  CHECK(count_of(again.outcomes, WriteOutcome::kDuplicate) == 4);

  // Other records under a spent id (a replay with a changed batch, or an id
  // used twice): nothing stored.
  for (uint64_t id : {uint64_t{10}, uint64_t{9}, uint64_t{1}}) {
    auto replay = write_batches(*store, {batch_of(second, key, id)});
    REQUIRE(replay.status.ok());
    CHECK(count_of(replay.outcomes, WriteOutcome::kReplayed) == 4);
  }
  // The same records under an id above: stored. Another key's ids are its own;
  // unsigned batches have no replay rule.
  auto fresh = write_batches(*store, {batch_of(second, key, 11)});
  CHECK(count_of(fresh.outcomes, WriteOutcome::kStored) == 4);
  auto others = write_batches(
      *store, {batch_of({rec("XX.O..HHZ", kT0, 100, 100.0, 2)}, other, 1),
               batch_of({rec("XX.U..HHZ", kT0, 100, 100.0, 3)}, "unsigned-sender", 1, false),
               batch_of({rec("XX.U..HHZ", kT0 + kSecond, 100, 100.0, 3)}, "unsigned-sender", 1, false)});
  CHECK(count_of(others.outcomes, WriteOutcome::kStored) == 3);
  // Two different batches under one id in one write: the second is a replay.
  auto twice = write_batches(*store, {batch_of({rec("XX.K..HHZ", kT0 + 50 * kSecond)}, key, 20),
                                      batch_of({rec("XX.K..HHZ", kT0 + 51 * kSecond)}, key, 20)});
  CHECK(twice.outcomes == std::vector<WriteOutcome>{WriteOutcome::kStored, WriteOutcome::kReplayed});

  // The rule holds after a reopen.
  store.reset();
  store = open_store(dir.path());
  CHECK(store->highest_batch_id(key) == 20);
  auto after = write_batches(*store, {batch_of({rec("XX.K..HHZ", kT0 + 99 * kSecond)}, key, 12)});
  CHECK(after.outcomes == std::vector<WriteOutcome>{WriteOutcome::kReplayed});
  // A replayed batch has no ledger entry: entries are the stored batches only.
  const auto ledger = ledger_of(*store);
  CHECK(ledger.size() == 7);  // 10, 10 again, 11, O's 1, two unsigned, 20
}

TEST_CASE("a schema-5 store (no ledger) is migrated when opened: its records read as before, new batches start the "
          "ledger",
          "[ledger][schema]") {
  test::TempDir dir;
  std::vector<Rec> old;
  for (int i = 0; i < 6; ++i) old.push_back(rec("XX.OLD..HHZ", kT0 + i * kSecond, 100, 100.0, 7));
  {
    auto store = open_store(dir.path());
    REQUIRE(write_batches(*store, {batch_of(old, std::string(32, 'S'), 5)}).status.ok());
  }
  {
    // Behind the store's back: blocks of format 3 (index entries without
    // their ledger fields), no ledger, schema version 5.
    RawStore raw(dir.path());
    rocksdb::WriteBatch wb;
    for (int cf : {kRawRecords, kRawLong}) {
      std::unique_ptr<rocksdb::Iterator> it(raw.db->NewIterator({}, raw.handles[cf]));
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        std::string v = it->value().ToString();
        REQUIRE(v[0] == 4);
        uint32_t count;
        std::memcpy(&count, v.data() + 4, 4);
        for (uint32_t i = count; i-- > 0;) v.erase(40 + size_t{i} * 84 + 72, 12);
        v[0] = 3;
        wb.Put(raw.handles[cf], it->key(), v);
      }
    }
    std::unique_ptr<rocksdb::Iterator> it(raw.db->NewIterator({}, raw.handles[kRawLedger]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) wb.Delete(raw.handles[kRawLedger], it->key());
    it.reset();
    wb.Put(raw.handles[kRawDefault], "schema_version", "5");
    rocksdb::WriteOptions wo;
    wo.sync = true;
    REQUIRE(raw.db->Write(wo, &wb).ok());
  }
  auto store = open_store(dir.path());
  CHECK(store->ledger_head().count == 0);
  const auto got = read(*store);
  REQUIRE(got.size() == old.size());
  for (size_t i = 0; i < old.size(); ++i) check_same(got[i], old[i]);
  for (const auto& [sha, pointer] : pointers(*store)) CHECK(pointer.first == 0);  // stored before the ledger
  const auto fresh = rec("XX.OLD..HHZ", kT0 + 60 * kSecond, 100, 100.0, 7);
  REQUIRE(write_batches(*store, {batch_of({fresh}, std::string(32, 'S'), 6)}).status.ok());
  CHECK(store->ledger_head().count == 1);
  CHECK(pointers(*store).at(fresh.sha).first == 1);
}

TEST_CASE("a ledger batch its entry could not hold is refused, and nothing of the write is stored", "[ledger]") {
  test::TempDir dir;
  auto store = open_store(dir.path());
  const auto r = rec("XX.BAD..HHZ", kT0, 100, 100.0, 3);
  auto short_key = batch_of({r}, std::string(31, 'K'), 1);
  auto unsigned_with_signature = batch_of({r}, "sender", 1, false);
  unsigned_with_signature.signature.assign(64, 's');
  auto long_key = batch_of({r}, std::string(256, 'L'), 1, false);
  for (const auto& b : {short_key, unsigned_with_signature, long_key}) {
    const auto w = write_batches(*store, {b});
    CHECK(w.status.code() == StatusCode::kInternal);
  }
  CHECK(read(*store).empty());
  CHECK(store->ledger_head().count == 0);
}

TEST_CASE("key events are chained with the batches and kept as the registered keys, across a reopen", "[ledger]") {
  test::TempDir dir;
  const auto a = generate_signing_key_pair().value(), b = generate_signing_key_pair().value();
  {
    auto store = open_store(dir.path());
    CHECK(store->registered_keys().value().empty());
    REQUIRE(key_event(*store, a, false, 100).ok());  // entry 1
    REQUIRE(write_batches(*store, {batch_of({rec("XX.A..HHZ", kT0, 100, 100.0, 1)}, "", 1, true, &a)}).status.ok());
    KeyEvent unsigned_station;
    unsigned_station.key = {"curve-z85-key", false, "curve-z85-key", "XX.B XX.C*"};
    unsigned_station.at = 200;
    REQUIRE(store->record_key_events({&unsigned_station, 1}).ok());  // entry 3
    REQUIRE(key_event(*store, b, false, 300).ok());                   // entry 4
    REQUIRE(key_event(*store, a, true, 400).ok());                    // entry 5
    CHECK(store->ledger_head().count == 5);
  }
  auto store = open_store(dir.path());
  const auto keys = store->registered_keys().value();
  REQUIRE(keys.size() == 2);
  std::vector<std::string> ids;
  for (const auto& k : keys) ids.push_back(k.key_id);
  CHECK(std::count(ids.begin(), ids.end(), "curve-z85-key") == 1);
  CHECK(std::count(ids.begin(), ids.end(), std::string(reinterpret_cast<const char*>(b.public_key.data()), 32)) == 1);
  for (const auto& k : keys) {
    if (!k.is_signed) CHECK(k == KeyRegistration{"curve-z85-key", false, "curve-z85-key", "XX.B XX.C*"});
  }
  const auto ledger = ledger_of(*store);
  REQUIRE(ledger.size() == 5);
  Sha256Digest previous{};
  for (const auto& [n, bytes] : ledger) {
    const auto e = decode_ledger_entry(bytes).value();
    CHECK(e.previous_hash == previous);
    previous = ledger_entry_hash(bytes);
    if (n == 2) continue;
    CHECK(e.kind == kLedgerKindKeyEvent);
    CHECK(e.key_event == (n == 5 ? kKeyRevoked : kKeyRegistered));
    CHECK(e.receive_ns == static_cast<TimeNs>(n == 3 ? 200 : n == 4 ? 300 : n == 5 ? 400 : 100));
  }
  // An event an entry cannot hold is refused, and nothing is written.
  KeyEvent bad;
  bad.key = {std::string(31, 'k'), true, "s", "XX.*"};
  CHECK(store->record_key_events({&bad, 1}).code() == StatusCode::kInvalidArgument);
  CHECK(store->ledger_head().count == 5);
}
