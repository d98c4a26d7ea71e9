// verify_store against tampering done behind the store's back (RocksDB and
// segment files edited directly): each kind is detected and reported with
// where and what; an untouched store verifies clean.
#include <catch2/catch.hpp>

#include <cstring>
#include <fstream>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <fmt/format.h>
#include <xxhash.h>

#include "ledger_batches.h"
#include "raw_store.h"
#include "seisvault/common/ledger_checkpoint.h"
#include "seisvault/common/ledger_entry.h"
#include "seisvault/storage/store_verifier.h"
#include "support/temp_dir.h"

using namespace seisvault;
using namespace seisvault::storage;
using namespace seisvault::storage_test;

namespace {

constexpr int kRecordsCf = kRawRecords, kLedgerCf = kRawLedger;

std::string entry_key(uint64_t n) {
  std::string k(9, 'e');
  for (int i = 0; i < 8; ++i) k[1 + i] = static_cast<char>((n >> (8 * (7 - i))) & 0xff);
  return k;
}

std::string checkpoint_key(uint64_t n) {
  auto k = entry_key(n);
  k[0] = 'c';
  return k;
}

struct Fixture {
  test::TempDir dir;
  SigningKeyPair station = generate_signing_key_pair().value();
  SigningKeyPair server = generate_signing_key_pair().value();
  std::vector<Rec> records;

  // The station's key registered (entry 1), three signed batches of 4
  // records (2-4), one unsigned batch of 2 (entry 5), and a checkpoint of
  // the head signed by the server.
  Fixture() {
    for (int i = 0; i < 14; ++i) records.push_back(rec(i < 8 ? "XX.A..HHZ" : "XX.B..HHZ", kT0 + i * kSecond, 100, 100.0, 1));
    auto store = open_store(dir.path());
    REQUIRE(key_event(*store, station, false, 0).ok());
    for (int b = 0; b < 3; ++b) {
      std::vector<Rec> part(records.begin() + 4 * b, records.begin() + 4 * b + 4);
      REQUIRE(write_batches(*store, {batch_of(part, "", 10 + b, true, &station)}).status.ok());
    }
    REQUIRE(write_batches(*store, {batch_of({records[12], records[13]}, "curve-key", 1, false)}).status.ok());
    const auto head = store->ledger_head();
    REQUIRE(head.count == 5);
    REQUIRE(store->put_checkpoint(5, make_checkpoint(server, 5, head.hash, kT0)).ok());
  }

  VerifyReport verify() {
    auto store = open_store(dir.path());
    VerifyOptions o;
    o.server_key = server.public_key;
    auto r = verify_store(*store, o);
    REQUIRE(r.ok());
    return *r;
  }
};

// The report's first problem of `kind`, which must be there.
const VerifyProblem& first(const VerifyReport& r, const std::string& kind) {
  INFO("kinds found: " << r.problems.size());
  for (const auto& p : r.first_problems) {
    if (p.kind == kind) return p;
  }
  FAIL("no problem of kind " << kind);
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("an untouched store verifies clean: records, ledger, signatures, checkpoint", "[verify]") {
  Fixture f;
  const auto r = f.verify();
  for (const auto& p : r.first_problems) INFO(p.kind << ": " << p.where << ": " << p.what);
  CHECK(r.ok());
  CHECK(r.records == 14);
  CHECK(r.ledger_entries == 5);
  CHECK(r.signed_entries == 3);
  CHECK(r.checkpoints == 1);
  CHECK(r.last_checkpoint_count == 5);
}

TEST_CASE("a stored SHA-256 changed behind the store's back is found", "[verify]") {
  Fixture f;
  {
    RawStore raw(f.dir.path());
    auto [key, value] = raw.first(kRecordsCf);
    value[40 + 40] ^= 1;  // the first record's stored SHA-256 (header 40, then at 40 in its index entry)
    raw.put(kRecordsCf, key, value);
  }
  const auto r = f.verify();
  CHECK(r.problems.at("record-hash") == 1);
  CHECK_THAT(first(r, "record-hash").where, Catch::Contains("XX.A..HHZ"));
}

TEST_CASE("a byte flipped in a segment file makes its records unreadable, and that is reported", "[verify]") {
  Fixture f;
  for (const auto& e : std::filesystem::directory_iterator(f.dir.path() / "segments")) {
    if (std::filesystem::file_size(e.path()) == 0) continue;
    std::fstream seg(e.path(), std::ios::in | std::ios::out | std::ios::binary);
    seg.seekp(100);
    char c = 0;
    seg.seekg(100);
    seg.get(c);
    seg.seekp(100);
    seg.put(static_cast<char>(c ^ 0x40));
  }
  const auto r = f.verify();
  CHECK(r.problems.count("record-unreadable") == 1);
  CHECK_THAT(first(r, "record-unreadable").what, Catch::Contains("checksum"));
}

TEST_CASE("a record replaced consistently (bytes, checksum and stored hash) is found by its ledger entry",
          "[verify]") {
  Fixture f;
  {
    RawStore raw(f.dir.path());
    auto [key, value] = raw.first(kRecordsCf);
    uint64_t segment = 0, offset = 0;
    std::memcpy(&segment, value.data() + 16, 8);
    std::memcpy(&offset, value.data() + 24, 8);
    uint32_t count = 0;
    std::memcpy(&count, value.data() + 4, 4);
    uint64_t length = 0;
    for (uint32_t i = 0; i < count; ++i) {
      uint32_t l = 0;
      std::memcpy(&l, value.data() + 40 + i * 84 + 36, 4);
      length += l;
    }
    const auto path = f.dir.path() / "segments" / fmt::format("{:020}.seg", segment);
    std::string payload(length, '\0');
    {
      std::ifstream in(path, std::ios::binary);
      in.seekg(static_cast<std::streamoff>(offset));
      REQUIRE(in.read(payload.data(), static_cast<std::streamsize>(length)));
    }
    payload[10] ^= 0x01;  // the first record's bytes
    uint32_t first_length = 0;
    std::memcpy(&first_length, value.data() + 40 + 36, 4);
    const auto sha = sha256({reinterpret_cast<const uint8_t*>(payload.data()), first_length});
    std::memcpy(value.data() + 40 + 40, sha.data(), 32);
    const uint64_t checksum = XXH3_64bits(payload.data(), payload.size());
    std::memcpy(value.data() + 32, &checksum, 8);
    {
      std::fstream out(path, std::ios::in | std::ios::out | std::ios::binary);
      out.seekp(static_cast<std::streamoff>(offset));
      out.write(payload.data(), static_cast<std::streamsize>(length));
    }
    raw.put(kRecordsCf, key, value);
  }
  const auto r = f.verify();
  CHECK(r.problems.count("record-hash") == 0);  // consistent with itself
  CHECK(r.problems.at("record-ledger-mismatch") == 1);
  CHECK_THAT(first(r, "record-ledger-mismatch").what, Catch::Contains("not what the station sent"));
}

TEST_CASE("a record deleted behind the store's back is missing from its ledger entry", "[verify]") {
  Fixture f;
  {
    RawStore raw(f.dir.path());
    raw.del(kRecordsCf, raw.first(kRecordsCf).first);
  }
  const auto r = f.verify();
  CHECK(r.problems.at("record-missing") >= 1);
  CHECK_THAT(first(r, "record-missing").where, Catch::Contains("ledger entry 2"));
  CHECK_THAT(first(r, "record-missing").what, Catch::Contains("batch 10"));
}

TEST_CASE("a ledger entry altered, removed or moved breaks the chain and is reported", "[verify]") {
  SECTION("altered: a record hash of entry 3 changed") {
    Fixture f;
    {
      RawStore raw(f.dir.path());
      auto e = raw.get(kLedgerCf, entry_key(3));
      auto decoded = decode_ledger_entry(e).value();
      decoded.hashes[1][0] ^= 1;
      raw.put(kLedgerCf, entry_key(3), encode_ledger_entry(decoded));
    }
    const auto r = f.verify();
    CHECK_THAT(first(r, "batch-signature").where, Catch::Equals("ledger entry 3"));
    CHECK_THAT(first(r, "ledger-chain").where, Catch::Equals("ledger entry 4"));
    CHECK(r.problems.at("record-ledger-mismatch") == 1);
  }
  SECTION("removed: entry 3 deleted") {
    Fixture f;
    {
      RawStore raw(f.dir.path());
      raw.del(kLedgerCf, entry_key(3));
    }
    const auto r = f.verify();
    CHECK_THAT(first(r, "ledger-chain").what, Catch::Contains("entries 3 to 3 are missing"));
    CHECK(r.problems.at("record-ledger-mismatch") == 4);  // its records point to nothing
  }
  SECTION("reordered: entries 2 and 3 swapped") {
    Fixture f;
    {
      RawStore raw(f.dir.path());
      const auto third = raw.get(kLedgerCf, entry_key(3)), fourth = raw.get(kLedgerCf, entry_key(4));
      raw.put(kLedgerCf, entry_key(3), fourth);
      raw.put(kLedgerCf, entry_key(4), third);
    }
    const auto r = f.verify();
    CHECK(r.problems.at("ledger-chain") >= 2);
    CHECK_THAT(first(r, "ledger-chain").what, Catch::Contains("says it is entry 4"));
  }
}

TEST_CASE("the last entry rewritten with its chain intact is caught by the server's checkpoint", "[verify]") {
  Fixture f;
  {
    RawStore raw(f.dir.path());
    // Entry 5 is unsigned (no station signature to break) and last (no
    // later link to break): only the checkpoint can tell.
    auto decoded = decode_ledger_entry(raw.get(kLedgerCf, entry_key(5))).value();
    decoded.receive_ns += 1;
    raw.put(kLedgerCf, entry_key(5), encode_ledger_entry(decoded));
  }
  const auto r = f.verify();
  CHECK(r.problems.size() == 1);
  CHECK_THAT(first(r, "checkpoint-mismatch").what, Catch::Contains("changed after the checkpoint"));
}

TEST_CASE("a forged checkpoint is refused: another key's, or a signature that does not verify", "[verify]") {
  Fixture f;
  const auto head = open_store(f.dir.path())->ledger_head();
  SECTION("signed by a key that is not the server's") {
    {
      RawStore raw(f.dir.path());
      raw.put(kLedgerCf, checkpoint_key(5), make_checkpoint(generate_signing_key_pair().value(), 5, head.hash, kT0));
    }
    const auto r = f.verify();
    CHECK_THAT(first(r, "checkpoint-signature").what, Catch::Contains("not by the server's key"));
  }
  SECTION("the server's key named, the bytes changed after signing") {
    {
      RawStore raw(f.dir.path());
      auto c = make_checkpoint(f.server, 5, head.hash, kT0);
      c[28 + 8 + 8 + 32 - 1] ^= 1;  // the time
      raw.put(kLedgerCf, checkpoint_key(5), c);
    }
    const auto r = f.verify();
    CHECK_THAT(first(r, "checkpoint-signature").what, Catch::Contains("does not verify"));
  }
  SECTION("covering more entries than the ledger holds") {
    {
      RawStore raw(f.dir.path());
      raw.put(kLedgerCf, checkpoint_key(9), make_checkpoint(f.server, 9, head.hash, kT0));
    }
    const auto r = f.verify();
    CHECK_THAT(first(r, "checkpoint-mismatch").what, Catch::Contains("entries were removed"));
  }
}

TEST_CASE("key history: a batch received after its key was revoked, or before it was registered, is reported",
          "[verify]") {
  Fixture f;
  SECTION("revoked after the batches it signed: they stay valid") {
    REQUIRE(key_event(*open_store(f.dir.path()), f.station, true, 2000 + 12 + 1).ok());
    const auto r = f.verify();
    for (const auto& p : r.first_problems) INFO(p.kind << ": " << p.where << ": " << p.what);
    CHECK(r.ok());
  }
  SECTION("a batch signed with the key after its revocation") {
    {
      // What a server (or an intruder writing through its store) would have
      // to do to keep data of a stolen, revoked key.
      auto store = open_store(f.dir.path());
      REQUIRE(key_event(*store, f.station, true, 2000 + 15).ok());  // entry 6
      const auto late = rec("XX.A..HHZ", kT0 + 100 * kSecond, 100, 100.0, 1);
      REQUIRE(write_batches(*store, {batch_of({late}, "", 20, true, &f.station)}).status.ok());  // entry 7
    }
    const auto r = f.verify();
    CHECK(r.problems.size() == 1);
    CHECK(r.problems.at("batch-after-revocation") == 1);
    const auto& p = first(r, "batch-after-revocation");
    CHECK(p.where == "ledger entry 7");
    CHECK_THAT(p.what, Catch::Contains("batch 20") && Catch::Contains("revoked at") &&
                           Catch::Contains("(ledger entry 6)") && Catch::Contains(signing_key_text(f.station.public_key)));
  }
  SECTION("a batch of a key no event registered") {
    const auto stranger = generate_signing_key_pair().value();
    {
      auto store = open_store(f.dir.path());
      const auto r = rec("XX.A..HHZ", kT0 + 100 * kSecond, 100, 100.0, 1);
      REQUIRE(write_batches(*store, {batch_of({r}, "", 1, true, &stranger)}).status.ok());  // entry 6
    }
    const auto r = f.verify();
    CHECK(r.problems.size() == 1);
    CHECK(first(r, "batch-key-unregistered").where == "ledger entry 6");
  }
  SECTION("registered again after a revocation: batches after it are valid") {
    {
      auto store = open_store(f.dir.path());
      REQUIRE(key_event(*store, f.station, true, 2000 + 15).ok());
      REQUIRE(key_event(*store, f.station, false, 2000 + 18).ok());
      const auto late = rec("XX.A..HHZ", kT0 + 100 * kSecond, 100, 100.0, 1);
      REQUIRE(write_batches(*store, {batch_of({late}, "", 20, true, &f.station)}).status.ok());
    }
    const auto r = f.verify();
    for (const auto& p : r.first_problems) INFO(p.kind << ": " << p.where << ": " << p.what);
    CHECK(r.ok());
  }
}

TEST_CASE("a record added behind the store's back, pointing to no ledger entry, is reported", "[verify]") {
  Fixture f;
  {
    // A write of the store API without a batch: what an intruder with the
    // store's library (and not the stations' keys) could add.
    auto store = open_store(f.dir.path());
    write_ok(*store, {rec("XX.EVIL..HHZ", kT0, 100, 100.0, 9)});
  }
  const auto r = f.verify();
  CHECK(r.problems.at("record-not-in-ledger") == 1);
  CHECK_THAT(first(r, "record-not-in-ledger").where, Catch::Contains("XX.EVIL..HHZ"));
}

TEST_CASE("records removed by retention are accounted for by its ledger entries; a record deleted besides is still "
          "missing",
          "[verify][retention]") {
  test::TempDir dir;
  const auto station = generate_signing_key_pair().value();
  const auto server = generate_signing_key_pair().value();
  constexpr TimeNs kDay = 86400 * kSecond;
  {
    auto store = open_store(dir.path());
    REQUIRE(key_event(*store, station, false, 0).ok());
    // Three days of two channels, a record an hour, one signed batch a day.
    for (int day = 0; day < 3; ++day) {
      std::vector<Rec> part;
      for (int h = 0; h < 24; ++h) {
        for (const char* id : {"XX.A..HHZ", "XX.B..HHZ"}) {
          part.push_back(rec(id, kT0 + day * kDay + h * 3600 * kSecond, 100, 100.0, static_cast<uint32_t>(day * 100 + h)));
        }
      }
      REQUIRE(write_batches(*store, {batch_of(part, "", 1 + static_cast<uint64_t>(day), true, &station)}).status.ok());
    }
    RetentionPolicy policy;
    policy.default_days = 1;
    auto expired = store->expire(policy, kT0 + 3 * kDay);
    REQUIRE(expired.ok());
    CHECK(expired->records == 96);  // days 0 and 1 ended before the cutoff
    const auto head = store->ledger_head();
    REQUIRE(head.count == 1 + 3 + 2);  // one retention entry per channel
    std::vector<std::string> channels;
    uint64_t counted = 0;
    REQUIRE(store->read_ledger(5, [&](uint64_t, std::string_view bytes) {
                   const auto e = decode_ledger_entry(bytes).value();
                   CHECK(e.kind == kLedgerKindRetention);
                   CHECK(e.cutoff_ns == kT0 + 2 * kDay);
                   CHECK(e.removed_unledgered == 0);
                   REQUIRE(e.removed.size() == 2);  // batches of day 0 and day 1
                   CHECK(e.removed[0] == std::pair<uint64_t, uint32_t>{2, 24});
                   CHECK(e.removed[1] == std::pair<uint64_t, uint32_t>{3, 24});
                   channels.push_back(e.channel);
                   for (const auto& [_, n] : e.removed) counted += n;
                   return true;
                 }).ok());
    CHECK(channels == std::vector<std::string>{"XX.A..HHZ", "XX.B..HHZ"});
    CHECK(counted == 96);
    REQUIRE(store->put_checkpoint(head.count, make_checkpoint(server, head.count, head.hash, kT0)).ok());
  }
  const auto verify = [&] {
    auto store = open_store(dir.path());
    VerifyOptions o;
    o.server_key = server.public_key;
    return verify_store(*store, o).value();
  };
  auto r = verify();
  for (const auto& p : r.first_problems) INFO(p.kind << ": " << p.where << ": " << p.what);
  CHECK(r.ok());
  CHECK(r.retention_entries == 2);
  CHECK(r.records_expired == 96);
  CHECK(r.records == 48);

  // A kept record deleted behind the store's back: missing, retention or not.
  {
    RawStore raw(dir.path());
    raw.del(kRecordsCf, raw.first(kRecordsCf).first);
  }
  r = verify();
  CHECK(r.problems.at("record-missing") >= 1);
  CHECK_THAT(first(r, "record-missing").where, Catch::Contains("ledger entry 4"));  // day 2's batch
  CHECK(r.problems.count("retention-mismatch") == 0);
}
