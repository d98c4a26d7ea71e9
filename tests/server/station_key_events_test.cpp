// station_key_events.h: which key events take the ledger's registered keys
// to an authorized_stations list (the rotation end to end is in
// station_signature_test.cpp).
#include <catch2/catch.hpp>

#include "seisvault/common/signing_keys.h"
#include "seisvault/common/station_access_list.h"
#include "station_key_events.h"

using namespace seisvault;
using storage::KeyEvent;
using storage::KeyRegistration;

namespace {

std::string raw(const SigningPublicKey& k) { return {reinterpret_cast<const char*>(k.data()), k.size()}; }

const KeyEvent* find(const std::vector<KeyEvent>& events, const std::string& key_id) {
  for (const auto& e : events) {
    if (e.key.key_id == key_id) return &e;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("a list's keys are registered once each, changed ones again, removed ones revoked", "[server][ledger]") {
  const auto a = generate_signing_key_pair().value(), b = generate_signing_key_pair().value();
  const auto c = generate_signing_key_pair().value();
  const std::string curve_a(40, 'a'), curve_b(40, 'b'), curve_c(40, 'c'), curve_u(40, 'u'), curve_n(40, 'n');
  StationAccessList list;
  list.upsert({curve_a, {"XX.A"}, "", signing_key_text(a.public_key), false});
  list.upsert({curve_b, {"XX.B", "XX.B2"}, "", signing_key_text(b.public_key), false});
  list.upsert({curve_c, {"XX.A"}, "a second CURVE key of A's station, same signing key", signing_key_text(a.public_key),
               false});
  list.upsert({curve_u, {"XX.U"}, "", "", true});   // allow-unsigned: its CURVE key is registered
  list.upsert({curve_n, {"XX.N"}, "", "", false});  // neither: stores nothing, registers nothing
  const auto wanted = server::registrations_of(list);
  REQUIRE(wanted.size() == 3);
  CHECK(wanted[0] == KeyRegistration{raw(a.public_key), true, curve_a, "XX.A"});
  CHECK(wanted[1] == KeyRegistration{raw(b.public_key), true, curve_b, "XX.B XX.B2"});
  CHECK(wanted[2] == KeyRegistration{curve_u, false, curve_u, "XX.U"});

  // From an empty ledger: every key registered, at the registration time.
  auto events = server::key_changes({}, wanted, 100, 200);
  REQUIRE(events.size() == 3);
  for (const auto& e : events) {
    CHECK_FALSE(e.revoked);
    CHECK(e.at == 100);
  }
  // The same list again: nothing.
  CHECK(server::key_changes(wanted, wanted, 100, 200).empty());

  // B's patterns changed, A's signing key replaced by C's, U removed.
  StationAccessList next;
  next.upsert({curve_a, {"XX.A"}, "", signing_key_text(c.public_key), false});
  next.upsert({curve_b, {"XX.B"}, "", signing_key_text(b.public_key), false});
  events = server::key_changes(wanted, server::registrations_of(next), 100, 200);
  REQUIRE(events.size() == 4);
  const auto* revoked_a = find(events, raw(a.public_key));
  REQUIRE(revoked_a != nullptr);
  CHECK(revoked_a->revoked);
  CHECK(revoked_a->at == 200);
  const auto* revoked_u = find(events, curve_u);
  REQUIRE(revoked_u != nullptr);
  CHECK(revoked_u->revoked);
  const auto* registered_c = find(events, raw(c.public_key));
  REQUIRE(registered_c != nullptr);
  CHECK_FALSE(registered_c->revoked);
  CHECK(registered_c->at == 100);
  const auto* changed_b = find(events, raw(b.public_key));
  REQUIRE(changed_b != nullptr);
  CHECK_FALSE(changed_b->revoked);
  CHECK(changed_b->key.patterns == "XX.B");
}
