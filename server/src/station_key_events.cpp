#include "station_key_events.h"

#include <string>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "seisvault/common/signing_keys.h"

namespace seisvault::server {

namespace {

// What tells two registrations' keys apart: the key id, and whether it
// is a signing key.
std::string identity(const storage::KeyRegistration& r) { return (r.is_signed ? "s" : "u") + r.key_id; }

}  // namespace

std::vector<storage::KeyRegistration> registrations_of(const StationAccessList& list) {
  std::vector<storage::KeyRegistration> out;
  std::unordered_set<std::string> seen;
  for (const auto& e : list.entries()) {
    storage::KeyRegistration r;
    r.station_key = e.public_key;
    r.patterns = fmt::format("{}", fmt::join(e.patterns, " "));
    if (!e.signing_key.empty()) {
      auto key = parse_signing_key_text(e.signing_key);
      if (!key.ok()) continue;  // the list's parser refuses such lines
      r.key_id.assign(reinterpret_cast<const char*>(key->data()), key->size());
      r.is_signed = true;
    } else if (e.allow_unsigned) {
      r.key_id = e.public_key;
    } else {
      continue;
    }
    // One signing key on two lines (two CURVE keys of one station) is
    // registered once: the first line's.
    if (seen.insert(identity(r)).second) out.push_back(std::move(r));
  }
  return out;
}

std::vector<storage::KeyEvent> key_changes(const std::vector<storage::KeyRegistration>& registered,
                                           const std::vector<storage::KeyRegistration>& wanted, TimeNs registered_at,
                                           TimeNs revoked_at) {
  std::unordered_map<std::string, const storage::KeyRegistration*> now;
  for (const auto& r : registered) now.emplace(identity(r), &r);
  std::unordered_set<std::string> kept;
  for (const auto& w : wanted) kept.insert(identity(w));
  std::vector<storage::KeyEvent> events;
  for (const auto& r : registered) {
    if (kept.count(identity(r)) == 0) events.push_back({r, true, revoked_at});
  }
  for (const auto& w : wanted) {
    const auto found = now.find(identity(w));
    if (found == now.end() || !(*found->second == w)) events.push_back({w, false, registered_at});
  }
  return events;
}

Result<KeyChangeCounts> record_station_key_changes(storage::RecordStore& store, const StationAccessList& list,
                                                   TimeNs registered_at, TimeNs revoked_at) {
  auto registered = store.registered_keys();
  if (!registered.ok()) return registered.status();
  const auto events = key_changes(*registered, registrations_of(list), registered_at, revoked_at);
  if (auto s = store.record_key_events(events); !s.ok()) return s;
  KeyChangeCounts counts;
  for (const auto& e : events) ++(e.revoked ? counts.revoked : counts.registered);
  return counts;
}

}  // namespace seisvault::server
