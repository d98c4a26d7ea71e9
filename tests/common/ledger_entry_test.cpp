#include <catch2/catch.hpp>

#include "seisvault/common/ledger_checkpoint.h"
#include "seisvault/common/ledger_entry.h"

using namespace seisvault;

namespace {

LedgerEntry sample(size_t records) {
  LedgerEntry e;
  e.is_signed = true;
  e.previous_hash.fill(0x5A);
  e.number = 42;
  e.key_id = std::string(32, 'k');
  e.protocol_version = 1;
  e.batch_id = 0x0102030405060708ull;
  e.send_ns = -5;
  e.receive_ns = 1'700'000'000'000'000'000;
  for (size_t i = 0; i < records; ++i) {
    Sha256Digest h{};
    h.fill(static_cast<uint8_t>(i));
    e.hashes.push_back(h);
    e.stored.push_back(i % 3 != 1);
  }
  e.signature = std::string(64, 's');
  return e;
}

}  // namespace

TEST_CASE("a ledger entry reads back as written, for any number of records", "[ledger]") {
  for (size_t n : {0, 1, 7, 8, 9, 500}) {
    const auto e = sample(n);
    const auto bytes = encode_ledger_entry(e);
    CHECK(bytes.size() == 4 + 32 + 8 + 32 + 4 + 8 + 8 + 8 + 4 + 32 * n + (n + 7) / 8 + 1 + 64);
    auto d = decode_ledger_entry(bytes);
    REQUIRE(d.ok());
    CHECK(d->number == 42);
    CHECK(d->previous_hash == e.previous_hash);
    CHECK(d->key_id == e.key_id);
    CHECK(d->batch_id == e.batch_id);
    CHECK(d->send_ns == -5);
    CHECK(d->receive_ns == e.receive_ns);
    CHECK(d->hashes == e.hashes);
    CHECK(d->stored == e.stored);
    CHECK(d->signature == e.signature);
    CHECK(encode_ledger_entry(*d) == bytes);
  }
  LedgerEntry unsigned_entry = sample(3);
  unsigned_entry.is_signed = false;
  unsigned_entry.signature.clear();
  unsigned_entry.key_id = "a CURVE key in Z85, 40 characters long..";
  auto d = decode_ledger_entry(encode_ledger_entry(unsigned_entry));
  REQUIRE(d.ok());
  CHECK_FALSE(d->is_signed);
  CHECK(d->key_id == unsigned_entry.key_id);
}

TEST_CASE("a damaged ledger entry is refused with what is wrong, never misread", "[ledger]") {
  const auto bytes = encode_ledger_entry(sample(9));
  // Every truncation, and a byte too many.
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    CHECK(decode_ledger_entry(std::string_view(bytes).substr(0, cut)).status().code() == StatusCode::kCorruption);
  }
  CHECK_THAT(decode_ledger_entry(bytes + "x").status().message(), Catch::Contains("after the signature"));
  auto bad_format = bytes;
  bad_format[0] = 9;
  CHECK_THAT(decode_ledger_entry(bad_format).status().message(), Catch::Contains("unknown format"));
  auto bad_kind = bytes;
  bad_kind[1] = 7;
  CHECK_THAT(decode_ledger_entry(bad_kind).status().message(), Catch::Contains("unknown kind"));
  // A bit set past the last record (9 records: bits 9-15 of the bitmap's second byte).
  auto stray = bytes;
  const size_t bitmap = 4 + 32 + 8 + 32 + 4 + 8 + 8 + 8 + 4 + 32 * 9;
  stray[bitmap + 1] = static_cast<char>(stray[bitmap + 1] | 0x80);
  CHECK_THAT(decode_ledger_entry(stray).status().message(), Catch::Contains("past the last record"));
  // The hash covers every byte.
  auto flipped = bytes;
  flipped[bytes.size() / 2] ^= 1;
  CHECK(ledger_entry_hash(flipped) != ledger_entry_hash(bytes));
}

TEST_CASE("a checkpoint is 172 bytes laid out as documented, and any change breaks its signature", "[ledger]") {
  const auto key = generate_signing_key_pair().value();
  Sha256Digest head{};
  head.fill(0x77);
  const auto c = make_checkpoint(key, 12, head, 1'700'000'000'000'000'000);
  REQUIRE(c.size() == 172);
  CHECK(c.substr(0, 28) == std::string("SeisVault ledger checkpoint\0", 28));
  CHECK(c.substr(28, 8) == std::string("\0\0\0\0\0\0\0\x0c", 8));
  CHECK(c.substr(36, 32) == std::string(32, '\x77'));
  CHECK(c.substr(76, 32) == std::string(reinterpret_cast<const char*>(key.public_key.data()), 32));
  auto d = decode_checkpoint(c);
  REQUIRE(d.ok());
  CHECK(d->count == 12);
  CHECK(d->head == head);
  CHECK(d->made_ns == 1'700'000'000'000'000'000);
  CHECK(d->server_key == key.public_key);
  CHECK(checkpoint_signature_ok(c));
  for (size_t i = 28; i < c.size(); i += 7) {
    auto changed = c;
    changed[i] ^= 1;
    CHECK_FALSE(checkpoint_signature_ok(changed));
  }
  CHECK(decode_checkpoint(c.substr(0, 171)).status().code() == StatusCode::kCorruption);
}

TEST_CASE("a key event entry is laid out as documented, reads back, and is refused when damaged", "[ledger]") {
  LedgerEntry e;
  e.kind = kLedgerKindKeyEvent;
  e.is_signed = true;
  e.previous_hash.fill(0x11);
  e.number = 7;
  e.key_id = std::string(32, 'k');
  e.key_event = kKeyRevoked;
  e.receive_ns = 0x0102030405060708;
  e.station_key = "curve";
  e.station_patterns = "XX.A XX.B*";
  const auto bytes = encode_ledger_entry(e);
  CHECK(bytes.size() == 4 + 32 + 8 + 32 + 1 + 8 + 2 + 5 + 2 + 10);
  CHECK(bytes.substr(0, 4) == std::string("\x01\x02\x01\x20", 4));
  CHECK(bytes.substr(76, 1 + 8 + 2) == std::string("\x02\x01\x02\x03\x04\x05\x06\x07\x08\x00\x05", 11));
  auto d = decode_ledger_entry(bytes);
  REQUIRE(d.ok());
  CHECK(d->kind == kLedgerKindKeyEvent);
  CHECK(d->key_event == kKeyRevoked);
  CHECK(d->receive_ns == e.receive_ns);
  CHECK(d->station_key == "curve");
  CHECK(d->station_patterns == "XX.A XX.B*");
  CHECK(encode_ledger_entry(*d) == bytes);
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    CHECK(decode_ledger_entry(std::string_view(bytes).substr(0, cut)).status().code() == StatusCode::kCorruption);
  }
  CHECK_THAT(decode_ledger_entry(bytes + "x").status().message(), Catch::Contains("after the key event"));
  auto bad_event = bytes;
  bad_event[76] = 3;
  CHECK_THAT(decode_ledger_entry(bad_event).status().message(), Catch::Contains("unknown key event"));
}

TEST_CASE("a retention entry reads back as written, and is refused when damaged", "[ledger]") {
  LedgerEntry e;
  e.kind = kLedgerKindRetention;
  e.previous_hash.fill(0x22);
  e.number = 9;
  e.receive_ns = 1'700'000'000'000'000'000;
  e.cutoff_ns = -3;
  e.channel = "XX.STA..HHZ";
  e.removed_unledgered = 5;
  e.removed = {{1, 10}, {4, 2}};
  const auto bytes = encode_ledger_entry(e);
  CHECK(bytes.size() == 4 + 32 + 8 + 8 + 8 + 2 + 11 + 8 + 4 + 2 * 12);
  auto d = decode_ledger_entry(bytes);
  REQUIRE(d.ok());
  CHECK(d->kind == kLedgerKindRetention);
  CHECK(d->cutoff_ns == -3);
  CHECK(d->channel == "XX.STA..HHZ");
  CHECK(d->removed_unledgered == 5);
  CHECK(d->removed == e.removed);
  CHECK(encode_ledger_entry(*d) == bytes);
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    CHECK(decode_ledger_entry(std::string_view(bytes).substr(0, cut)).status().code() == StatusCode::kCorruption);
  }
  CHECK_THAT(decode_ledger_entry(bytes + "x").status().message(), Catch::Contains("after the retention entry"));
}
