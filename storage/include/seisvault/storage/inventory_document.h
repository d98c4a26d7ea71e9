// InventoryDocument: one station-metadata document (FDSN StationXML) the
// operator loaded into the store.
//
// SeisVault stores waveforms, not instrument metadata: the operator supplies
// the network's StationXML (`seisvault inventory load`), the store keeps it
// verbatim under a name (the file's base name), and the FDSN station service
// filters it. The store does not look inside the document; what it holds was
// validated before it was put (server/src/station_inventory.h).
#pragma once

#include <string>

#include "seisvault/common/time.h"

namespace seisvault::storage {

struct InventoryDocument {
  std::string name;     // unique within a store; 1-255 bytes, no '/', no control characters
  std::string xml;      // the document, byte-identical to what was put
  TimeNs loaded_ns = 0; // when it was put (the putting host's wall clock)
};

// The largest document the store accepts (RecordStore::put_inventory). A
// whole national network with full responses is tens of MiB; the bound keeps
// one bad file from filling the write-ahead log and memory.
inline constexpr size_t kMaxInventoryBytes = size_t{256} << 20;

}  // namespace seisvault::storage
