#include "seisvault/common/ledger_checkpoint.h"

#include <algorithm>

#include <fmt/format.h>

namespace seisvault {

namespace {

void put_be(std::string& out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t get_be(std::string_view b, size_t at) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(b[at + i]);
  return v;
}

std::span<const uint8_t> bytes_of(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

}  // namespace

std::string make_checkpoint(const SigningKeyPair& server_key, uint64_t count, const Sha256Digest& head,
                            TimeNs made_ns) {
  std::string out;
  out.reserve(kCheckpointSize);
  out.append(kCheckpointDomain);
  put_be(out, count);
  out.append(reinterpret_cast<const char*>(head.data()), head.size());
  put_be(out, static_cast<uint64_t>(made_ns));
  out.append(reinterpret_cast<const char*>(server_key.public_key.data()), server_key.public_key.size());
  const auto sig = sign_message(server_key, bytes_of(out));
  out.append(reinterpret_cast<const char*>(sig.data()), sig.size());
  return out;
}

Result<LedgerCheckpoint> decode_checkpoint(std::string_view b) {
  if (b.size() != kCheckpointSize || b.substr(0, kCheckpointDomain.size()) != kCheckpointDomain) {
    return Status::corruption(fmt::format("a ledger checkpoint of {} bytes is not one", b.size()));
  }
  LedgerCheckpoint c;
  size_t at = kCheckpointDomain.size();
  c.count = get_be(b, at);
  at += 8;
  std::copy_n(b.begin() + static_cast<std::ptrdiff_t>(at), 32, c.head.begin());
  at += 32;
  c.made_ns = static_cast<TimeNs>(get_be(b, at));
  at += 8;
  std::copy_n(b.begin() + static_cast<std::ptrdiff_t>(at), 32, c.server_key.begin());
  at += 32;
  std::copy_n(b.begin() + static_cast<std::ptrdiff_t>(at), 64, c.signature.begin());
  return c;
}

bool checkpoint_signature_ok(std::string_view b) {
  auto c = decode_checkpoint(b);
  if (!c.ok()) return false;
  return verify_signature(c->server_key, bytes_of(b.substr(0, kCheckpointSize - 64)), c->signature);
}

}  // namespace seisvault
