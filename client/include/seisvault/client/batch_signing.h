// sign_batch: puts a station's signature on an IngestBatch
// (common's batch_signature.h gives the signed bytes; docs/provenance.md).
#pragma once

#include <string>

#include "seisvault/common/signing_keys.h"
#include "seisvault/common/time.h"
#include "seisvault/proto/ingest.pb.h"

namespace seisvault::client {

// Signs `batch` as it stands (protocol version, batch id, its records'
// sha256 fields in order) with `key` at `send_ns`, and sets its signature
// field. A record whose sha256 is not 32 bytes is signed as 32 zero bytes:
// the server refuses such a batch whatever its signature. `scratch` holds
// the signed message (its capacity is reused between calls).
void sign_batch(ingest::v1::IngestBatch& batch, const SigningKeyPair& key, TimeNs send_ns, std::string& scratch);

}  // namespace seisvault::client
