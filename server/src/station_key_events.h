// Station key events: what seisvaultd writes to the ledger when the keys
// in authorized_stations change (docs/provenance.md "Key history"), so a
// verifier can tell whether a batch's signing key was registered for its
// station when the batch arrived.
//
// Called at start, before ingest begins, and on every SIGHUP around the
// list's reload: registrations are dated before the new list is put in
// force and revocations after, so a batch the server took under either
// list is judged by the list that took it.
#pragma once

#include <vector>

#include "seisvault/common/station_access_list.h"
#include "seisvault/common/status.h"
#include "seisvault/common/time.h"
#include "seisvault/storage/key_registration.h"
#include "seisvault/storage/record_store.h"

namespace seisvault::server {

// The keys `list` admits as registrations: a line's signing key, or its
// CURVE key when it says allow-unsigned; a line with neither stores
// nothing and registers nothing.
std::vector<storage::KeyRegistration> registrations_of(const StationAccessList& list);

// The events that take `registered` to `wanted`: each key of `wanted` not
// registered alike (new, or its station key or patterns changed) is
// registered at `registered_at`; each registered key `wanted` lacks is
// revoked at `revoked_at`.
std::vector<storage::KeyEvent> key_changes(const std::vector<storage::KeyRegistration>& registered,
                                           const std::vector<storage::KeyRegistration>& wanted, TimeNs registered_at,
                                           TimeNs revoked_at);

struct KeyChangeCounts {
  size_t registered = 0;
  size_t revoked = 0;
};

// Reads the store's registrations, writes the events that take them to
// `list`'s, and says how many of each it wrote.
Result<KeyChangeCounts> record_station_key_changes(storage::RecordStore& store, const StationAccessList& list,
                                                   TimeNs registered_at, TimeNs revoked_at);

}  // namespace seisvault::server
