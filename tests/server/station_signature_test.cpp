// Station batch signatures at ingest, against a real seisvaultd (CURVE on
// loopback): a key with a signing key registered stores only batches that
// carry its valid signature; everything else is refused whole with
// BAD_SIGNATURE and a reason, and stores nothing. A key with no signing key
// stores only when its entry says allow-unsigned.
#include <catch2/catch.hpp>

#include <csignal>

#include <algorithm>
#include <fstream>

#include <grpcpp/grpcpp.h>
#include <thread>

#include "seisvault/common/batch_signature.h"
#include "seisvault/common/ledger_checkpoint.h"
#include "seisvault/common/ledger_entry.h"
#include "seisvault/common/signing_keys.h"
#include "seisvault/common/station_access_list.h"
#include "seisvault/proto/waveform.grpc.pb.h"
#include "seisvault/storage/record_store.h"
#include "seisvault/storage/store_verifier.h"
#include "support/process.h"
#include "support/server_data.h"
#include "support/server_process.h"
#include "support/temp_dir.h"
#include "support/test_station.h"

using namespace seisvault;
using namespace seisvault::test;
namespace v1 = seisvault::ingest::v1;
namespace wv = seisvault::waveform::v1;

namespace {

// Writes DIR/authorized_stations with these lines, after a first start made
// the server's keys.
void prepare(const std::filesystem::path& dir, const std::vector<StationAccessEntry>& entries) {
  {
    ServerProcess probe(dir);
    REQUIRE(probe.stop() == 0);
  }
  StationAccessList list;
  for (const auto& e : entries) list.upsert(e);
  REQUIRE(list.save(dir / "authorized_stations").ok());
}

void check_refused(const std::optional<v1::IngestAck>& ack, const std::string& why) {
  REQUIRE(ack);
  CHECK(ack->error() == v1::BAD_SIGNATURE);
  CHECK(ack->results_size() == 0);
  CHECK_THAT(ack->error_message(), Catch::Contains("nothing of this batch was stored") && Catch::Contains(why));
}

}  // namespace

TEST_CASE("a station with a signing key stores only batches carrying its valid signature", "[server][signature]") {
  TempDir tmp;
  const auto station = new_station_keys();
  const auto key = generate_signing_key_pair().value();
  const auto other = generate_signing_key_pair().value();
  prepare(tmp.path(), {{station.public_key, {"XX.SIG"}, "", signing_key_text(key.public_key), false}});
  ServerProcess server(tmp.path());
  const auto records = station_records("SIG", 3000);
  REQUIRE(records.size() >= 6);
  TestStation st(server.endpoint(), server.public_key(), station);

  // Unsigned.
  check_refused(st.call(TestStation::make_batch(1, {records[0]})), "this batch has no signature");
  // Signed by a key that is not the station's.
  auto foreign = TestStation::make_batch(2, {records[0]});
  TestStation::sign(foreign, other);
  check_refused(st.call(foreign), "the signing key registered for this station key is " +
                                      signing_key_text(key.public_key));
  // The station's key in the batch, but the signature made with another.
  auto forged = TestStation::make_batch(3, {records[0]});
  TestStation::sign(forged, other);
  forged.mutable_signature()->set_key(key.public_key.data(), key.public_key.size());
  check_refused(st.call(forged), "does not verify");
  // Signed, then a record replaced (bytes and hash together: each record
  // alone is sound, but not what the station signed).
  auto changed = TestStation::make_batch(4, {records[0], records[1]});
  TestStation::sign(changed, key);
  *changed.mutable_records(1) = TestStation::make_batch(0, {records[2]}).records(0);
  check_refused(st.call(changed), "does not verify");
  // Signed, then the batch id changed (a signature moved to another batch).
  auto moved = TestStation::make_batch(5, {records[0]});
  TestStation::sign(moved, key);
  moved.set_batch_id(6);
  check_refused(st.call(moved), "does not verify");
  // Signed, then the records reordered.
  auto reordered = TestStation::make_batch(7, {records[0], records[1]});
  TestStation::sign(reordered, key);
  reordered.mutable_records()->SwapElements(0, 1);
  check_refused(st.call(reordered), "does not verify");
  // A record whose sha256 is not 32 bytes cannot be covered.
  auto short_hash = TestStation::make_batch(8, {records[0]});
  short_hash.mutable_records(0)->set_sha256("abc");
  TestStation::sign(short_hash, key);
  check_refused(st.call(short_hash), "a sha256 of 3 bytes");

  // The station's own signature: stored.
  auto good = TestStation::make_batch(9, {records[3], records[4]});
  TestStation::sign(good, key, 1'700'000'000'000'000'000);
  auto ack = st.call(good);
  REQUIRE(ack);
  REQUIRE(ack->error() == v1::BATCH_ERROR_UNSPECIFIED);
  REQUIRE(ack->results_size() == 2);
  CHECK(ack->results(0).status() == v1::STORED);
  CHECK(ack->results(1).status() == v1::STORED);

  CHECK(server_stats(server).records_stored() == 2);  // nothing of the refused batches
  CHECK_THAT(server.log(), Catch::Contains("batch 1 refused: this station must sign its batches"));
  REQUIRE(server.stop() == 0);
  const auto stored = stored_records(tmp.path());
  CHECK(stored == std::multiset<std::vector<uint8_t>>{records[3], records[4]});
}

TEST_CASE("a key with no signing key stores only when its entry allows unsigned batches", "[server][signature]") {
  TempDir tmp;
  const auto old_entry = new_station_keys(), migrating = new_station_keys();
  prepare(tmp.path(), {{old_entry.public_key, {"XX.OLD"}, "written before stations signed"},
                       {migrating.public_key, {"XX.MIG"}, "", "", /*allow_unsigned=*/true}});
  ServerProcess server(tmp.path());
  // The operator hears of the key at start.
  CHECK_THAT(server.log(), Catch::Contains("1 station key(s)") && Catch::Contains("allow-unsigned") &&
                               Catch::Contains(old_entry.public_key));
  TestStation a(server.endpoint(), server.public_key(), old_entry);
  const auto old_records = station_records("OLD", 300);
  auto ack = a.call(TestStation::make_batch(1, {old_records[0]}));
  check_refused(ack, "no signing key registered");
  CHECK_THAT(ack->error_message(), Catch::Contains("--signing-key") && Catch::Contains("--allow-unsigned"));
  // A signature does not help a key the server has no signing key for.
  auto signed_anyway = TestStation::make_batch(2, {old_records[0]});
  TestStation::sign(signed_anyway, generate_signing_key_pair().value());
  check_refused(a.call(signed_anyway), "no signing key registered");

  TestStation m(server.endpoint(), server.public_key(), migrating);
  const auto mig_records = station_records("MIG", 300);
  ack = m.call(TestStation::make_batch(1, {mig_records[0]}));
  REQUIRE(ack);
  CHECK(ack->error() == v1::BATCH_ERROR_UNSPECIFIED);
  REQUIRE(ack->results_size() == 1);
  CHECK(ack->results(0).status() == v1::STORED);
  CHECK(server_stats(server).records_stored() == 1);
  REQUIRE(server.stop() == 0);
}

TEST_CASE("a signed batch under an id its key has spent stores nothing unless it is the stored batch again",
          "[server][signature][ledger]") {
  TempDir tmp;
  const auto station = new_station_keys();
  const auto key = generate_signing_key_pair().value();
  prepare(tmp.path(), {{station.public_key, {"XX.REP"}, "", signing_key_text(key.public_key), false}});
  ServerProcess server(tmp.path());
  const auto records = station_records("REP", 3000);
  REQUIRE(records.size() >= 6);
  TestStation st(server.endpoint(), server.public_key(), station);

  auto first = TestStation::make_batch(5, {records[0], records[1]});
  TestStation::sign(first, key, 100);
  auto ack = st.call(first);
  REQUIRE(ack);
  REQUIRE(ack->error() == v1::BATCH_ERROR_UNSPECIFIED);
  CHECK(ack->results(0).status() == v1::STORED);

  // The very batch again, as captured on the wire: nothing new.
  ack = st.call(first);
  REQUIRE(ack);
  REQUIRE(ack->error() == v1::BATCH_ERROR_UNSPECIFIED);
  CHECK(ack->results(0).status() == v1::DUPLICATE);
  CHECK(ack->results(1).status() == v1::DUPLICATE);

  // Validly signed, but under a spent id with other records: refused whole.
  for (uint64_t id : {uint64_t{5}, uint64_t{4}}) {
    auto reused = TestStation::make_batch(id, {records[2]});
    TestStation::sign(reused, key, 200);
    ack = st.call(reused);
    REQUIRE(ack);
    CHECK(ack->error() == v1::REPLAYED_BATCH);
    CHECK(ack->highest_batch_id() == 5);
    CHECK(ack->results_size() == 0);
    CHECK_THAT(ack->error_message(), Catch::Contains("at or below 5"));
  }
  auto next = TestStation::make_batch(6, {records[2]});
  TestStation::sign(next, key, 300);
  ack = st.call(next);
  REQUIRE(ack);
  REQUIRE(ack->error() == v1::BATCH_ERROR_UNSPECIFIED);
  CHECK(ack->results(0).status() == v1::STORED);

  // The rule survives a restart.
  REQUIRE(server.stop() == 0);
  ServerProcess again(tmp.path());
  TestStation st2(again.endpoint(), again.public_key(), station);
  auto old_id = TestStation::make_batch(3, {records[3]});
  TestStation::sign(old_id, key, 400);
  ack = st2.call(old_id);
  REQUIRE(ack);
  CHECK(ack->error() == v1::REPLAYED_BATCH);
  CHECK(ack->highest_batch_id() == 6);
  CHECK(server_stats(again).records_stored() == 3);
  REQUIRE(again.stop() == 0);
}

TEST_CASE("seisvaultd signs the ledger's head on its schedule and at shutdown, with its own key",
          "[server][signature][ledger]") {
  TempDir tmp;
  const auto station = new_station_keys();
  const auto key = generate_signing_key_pair().value();
  prepare(tmp.path(), {{station.public_key, {"XX.CKP"}, "", signing_key_text(key.public_key), false}});
  const auto records = station_records("CKP", 3000);
  REQUIRE(records.size() >= 5);
  {
    ServerProcess server(tmp.path(), "tcp://127.0.0.1:*", {"--checkpoint-interval-s", "0.2"});
    TestStation st(server.endpoint(), server.public_key(), station);
    for (uint64_t id = 1; id <= 3; ++id) {
      auto b = TestStation::make_batch(id, {records[id]});
      TestStation::sign(b, key, static_cast<int64_t>(id));
      auto ack = st.call(b);
      REQUIRE(ack);
      REQUIRE(ack->error() == v1::BATCH_ERROR_UNSPECIFIED);
      std::this_thread::sleep_for(std::chrono::milliseconds(500));  // a checkpoint falls between two batches
    }
    auto last = TestStation::make_batch(4, {records[4]});
    TestStation::sign(last, key, 4);
    REQUIRE(st.call(last));
    REQUIRE(server.stop() == 0);  // the last one, at shutdown, covers batch 4
  }
  const auto server_key = read_signing_public_file(tmp.path() / "server.sign.pub");
  REQUIRE(server_key.ok());
  auto store = storage::RecordStore::open(tmp.path() / "store", small_store_options());
  REQUIRE(store.ok());
  std::vector<uint64_t> counts;
  REQUIRE((*store)->read_checkpoints([&](uint64_t count, std::string_view bytes) {
                    counts.push_back(count);
                    CHECK(checkpoint_signature_ok(bytes));
                    CHECK(decode_checkpoint(bytes)->server_key == *server_key);
                    return true;
                  }).ok());
  REQUIRE(counts.size() >= 3);
  CHECK(counts.back() == 5);  // the station's key registered at start, then four batches
  CHECK((*store)->ledger_head().count == 5);
}

TEST_CASE("GetLedger and GetCheckpoints serve the chain and the server's checkpoints for a verifier",
          "[server][signature][ledger]") {
  TempDir tmp;
  const auto station = new_station_keys();
  const auto key = generate_signing_key_pair().value();
  prepare(tmp.path(), {{station.public_key, {"XX.LED"}, "", signing_key_text(key.public_key), false}});
  ServerProcess server(tmp.path(), "tcp://127.0.0.1:*", {"--checkpoint-interval-s", "0.2"});
  const auto records = station_records("LED", 12000);
  REQUIRE(records.size() >= 12);
  TestStation st(server.endpoint(), server.public_key(), station);
  for (uint64_t id = 1; id <= 5; ++id) {
    auto b = TestStation::make_batch(id, {records[2 * id], records[2 * id + 1]});
    TestStation::sign(b, key, static_cast<int64_t>(id));
    REQUIRE(st.call(b));
  }
  auto api = wv::Waveforms::NewStub(grpc::CreateChannel(server.api(), grpc::InsecureChannelCredentials()));
  const auto ledger = [&](uint64_t first, uint64_t last) {
    grpc::ClientContext ctx;
    wv::GetLedgerRequest req;
    req.set_first(first);
    req.set_last(last);
    auto reader = api->GetLedger(&ctx, req);
    std::vector<std::pair<uint64_t, std::string>> out;
    wv::LedgerEntries msg;
    while (reader->Read(&msg)) {
      CHECK(msg.head_count() == 6);
      for (const auto& e : msg.entries()) out.emplace_back(e.number(), e.entry());
    }
    const auto status = reader->Finish();
    return std::make_pair(status, out);
  };
  auto [status, all] = ledger(0, 0);
  REQUIRE(status.ok());
  REQUIRE(all.size() == 6);
  Sha256Digest previous{};
  std::string message;
  for (size_t i = 0; i < all.size(); ++i) {
    CHECK(all[i].first == i + 1);
    auto e = decode_ledger_entry(all[i].second);
    REQUIRE(e.ok());
    CHECK(e->previous_hash == previous);
    previous = ledger_entry_hash(all[i].second);
    if (i == 0) {
      // seisvaultd registered the station's key at start.
      CHECK(e->kind == kLedgerKindKeyEvent);
      CHECK(e->key_event == kKeyRegistered);
      CHECK(e->key_id == std::string(reinterpret_cast<const char*>(key.public_key.data()), 32));
      CHECK(e->station_key == station.public_key);
      CHECK(e->station_patterns == "XX.LED");
      continue;
    }
    CHECK(e->batch_id == i);
    // The station's signature checks out from the entry alone.
    BatchSigningFields f{e->protocol_version, key.public_key, e->batch_id, e->send_ns};
    CHECK(e->key_id == std::string(reinterpret_cast<const char*>(key.public_key.data()), 32));
    const auto m = batch_signing_message(f, e->hashes);
    CHECK(verify_signature(key.public_key, {reinterpret_cast<const uint8_t*>(m.data()), m.size()},
                           {reinterpret_cast<const uint8_t*>(e->signature.data()), e->signature.size()}));
  }
  auto [part_status, part] = ledger(2, 3);
  REQUIRE(part_status.ok());
  REQUIRE(part.size() == 2);
  CHECK(part[0].first == 2);
  CHECK(part[1].first == 3);
  CHECK(ledger(4, 2).first.error_code() == grpc::StatusCode::INVALID_ARGUMENT);

  // A checkpoint of all six comes within the interval.
  const auto server_key = read_signing_public_file(tmp.path() / "server.sign.pub").value();
  std::vector<std::pair<uint64_t, std::string>> checkpoints;
  REQUIRE(eventually(
      [&] {
        checkpoints.clear();
        grpc::ClientContext ctx;
        wv::GetCheckpointsRequest req;
        req.set_min_count(6);
        auto reader = api->GetCheckpoints(&ctx, req);
        wv::Checkpoint c;
        while (reader->Read(&c)) checkpoints.emplace_back(c.count(), c.checkpoint());
        return reader->Finish().ok() && !checkpoints.empty();
      },
      std::chrono::seconds(10)));
  const auto& [count, bytes] = checkpoints.back();
  CHECK(count == 6);
  CHECK(checkpoint_signature_ok(bytes));
  CHECK(decode_checkpoint(bytes)->server_key == server_key);
  CHECK(decode_checkpoint(bytes)->head == previous);
  REQUIRE(server.stop() == 0);
}

TEST_CASE("a station's signing key replaced on SIGHUP: the ledger records both events, the old key's later batches "
          "are refused, and everything it signed before still verifies",
          "[server][signature][ledger][verify]") {
  TempDir tmp;
  const auto station = new_station_keys();
  const auto old_key = generate_signing_key_pair().value();
  const auto new_key = generate_signing_key_pair().value();
  prepare(tmp.path(), {{station.public_key, {"XX.ROT"}, "", signing_key_text(old_key.public_key), false}});
  const auto records = station_records("ROT", 3000);
  REQUIRE(records.size() >= 4);
  {
    ServerProcess server(tmp.path());
    TestStation st(server.endpoint(), server.public_key(), station);
    auto first = TestStation::make_batch(1, {records[0]});
    TestStation::sign(first, old_key, 1);
    auto ack = st.call(first);
    REQUIRE(ack);
    REQUIRE(ack->error() == v1::BATCH_ERROR_UNSPECIFIED);

    StationAccessList list;
    list.upsert({station.public_key, {"XX.ROT"}, "key rotated", signing_key_text(new_key.public_key), false});
    REQUIRE(list.save(tmp.path() / "authorized_stations").ok());
    server.process().signal(SIGHUP);
    REQUIRE(eventually(
        [&] { return server.log().find("SIGHUP: ledger: 1 station key(s) registered, 1 revoked") != std::string::npos; },
        std::chrono::seconds(10)));

    auto late = TestStation::make_batch(2, {records[1]});
    TestStation::sign(late, old_key, 2);
    check_refused(st.call(late), "the signing key registered for this station key is " +
                                     signing_key_text(new_key.public_key));
    auto rotated = TestStation::make_batch(2, {records[2]});
    TestStation::sign(rotated, new_key, 3);
    ack = st.call(rotated);
    REQUIRE(ack);
    REQUIRE(ack->error() == v1::BATCH_ERROR_UNSPECIFIED);
    CHECK(ack->results(0).status() == v1::STORED);
    REQUIRE(server.stop() == 0);
  }
  uint64_t head = 0;
  {
    auto store = storage::RecordStore::open(tmp.path() / "store", small_store_options());
    REQUIRE(store.ok());
    head = (*store)->ledger_head().count;
    CHECK(head == 5);  // old key registered, batch 1, old key revoked, new key registered, batch 2
    const auto keys = (*store)->registered_keys().value();
    REQUIRE(keys.size() == 1);
    CHECK(keys[0].key_id == std::string(reinterpret_cast<const char*>(new_key.public_key.data()), 32));
    CHECK(keys[0].station_key == station.public_key);
    storage::VerifyOptions o;
    o.server_key = read_signing_public_file(tmp.path() / "server.sign.pub").value();
    const auto report = storage::verify_store(**store, o).value();
    for (const auto& p : report.first_problems) INFO(p.kind << ": " << p.where << ": " << p.what);
    CHECK(report.ok());
    CHECK(report.key_events == 3);
    CHECK(report.signed_entries == 2);
  }
  // A restart with the list unchanged writes no event.
  const auto events_logged = [&] {
    const auto log = read_text(tmp.path() / "seisvaultd.log");
    size_t n = 0;
    for (auto at = log.find("station key(s) registered"); at != std::string::npos;
         at = log.find("station key(s) registered", at + 1)) {
      ++n;
    }
    return n;
  };
  const size_t logged_before = events_logged();
  {
    ServerProcess again(tmp.path());
    REQUIRE(again.stop() == 0);
  }
  CHECK(events_logged() == logged_before);
  auto store = storage::RecordStore::open(tmp.path() / "store", small_store_options());
  REQUIRE(store.ok());
  CHECK((*store)->ledger_head().count == head);
}
