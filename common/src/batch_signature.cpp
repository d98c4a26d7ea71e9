#include "seisvault/common/batch_signature.h"

namespace seisvault {

namespace {

void put_be(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

}  // namespace

void begin_batch_message(const BatchSigningFields& fields, uint32_t record_count, std::string& out) {
  out.clear();
  out.reserve(kBatchSignatureDomain.size() + 4 + 32 + 8 + 8 + 4 + size_t{32} * record_count);
  out.append(kBatchSignatureDomain);
  put_be(out, fields.protocol_version, 4);
  out.append(reinterpret_cast<const char*>(fields.key_id.data()), fields.key_id.size());
  put_be(out, fields.batch_id, 8);
  put_be(out, static_cast<uint64_t>(fields.send_time_ns), 8);
  put_be(out, record_count, 4);
}

void add_batch_hash(std::span<const uint8_t, 32> sha256, std::string& out) {
  out.append(reinterpret_cast<const char*>(sha256.data()), sha256.size());
}

std::string batch_signing_message(const BatchSigningFields& fields, std::span<const Sha256Digest> hashes) {
  std::string out;
  begin_batch_message(fields, static_cast<uint32_t>(hashes.size()), out);
  for (const auto& h : hashes) add_batch_hash(h, out);
  return out;
}

}  // namespace seisvault
