// KeyRegistration and KeyEvent: a station key as the ledger's key events
// record it (common's ledger_entry.h, kind 2; docs/provenance.md "Key
// history"). The server writes an event whenever the keys it admits
// change, so a verifier can tell whether a batch's key was registered for
// its station when the server received the batch.
#pragma once

#include <string>

#include "seisvault/common/time.h"

namespace seisvault::storage {

struct KeyRegistration {
  // Signed: the station's Ed25519 public key (32 bytes). Unsigned: the
  // station's CURVE public key (Z85), let in with allow-unsigned.
  std::string key_id;
  bool is_signed = false;
  std::string station_key;  // the station's CURVE public key (Z85)
  std::string patterns;     // the NET.STA patterns it may write, space-separated

  bool operator==(const KeyRegistration&) const = default;
};

struct KeyEvent {
  KeyRegistration key;
  bool revoked = false;  // false: registered (or its station or patterns changed)
  TimeNs at = 0;         // the server's clock
};

}  // namespace seisvault::storage
