#include "seisvault/client/batch_signing.h"

#include <array>

#include "seisvault/common/batch_signature.h"

namespace seisvault::client {

void sign_batch(ingest::v1::IngestBatch& batch, const SigningKeyPair& key, TimeNs send_ns, std::string& scratch) {
  const BatchSigningFields fields{batch.protocol_version(), key.public_key, batch.batch_id(), send_ns};
  begin_batch_message(fields, static_cast<uint32_t>(batch.records_size()), scratch);
  static const std::array<uint8_t, 32> kNoHash{};
  for (const auto& r : batch.records()) {
    const auto* h = r.sha256().size() == 32 ? reinterpret_cast<const uint8_t*>(r.sha256().data()) : kNoHash.data();
    add_batch_hash(std::span<const uint8_t, 32>(h, 32), scratch);
  }
  const auto sig = sign_message(key, {reinterpret_cast<const uint8_t*>(scratch.data()), scratch.size()});
  auto* out = batch.mutable_signature();
  out->set_key(key.public_key.data(), key.public_key.size());
  out->set_send_time_ns(send_ns);
  out->set_signature(sig.data(), sig.size());
}

}  // namespace seisvault::client
