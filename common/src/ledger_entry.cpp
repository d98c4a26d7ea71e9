#include "seisvault/common/ledger_entry.h"

#include <fmt/format.h>

namespace seisvault {

namespace {

void put_be(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}
  bool has(size_t n) const { return b_.size() - at_ >= n; }
  uint64_t be(int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<uint8_t>(b_[at_++]);
    return v;
  }
  std::string_view take(size_t n) {
    auto v = b_.substr(at_, n);
    at_ += n;
    return v;
  }
  size_t left() const { return b_.size() - at_; }

 private:
  std::string_view b_;
  size_t at_ = 0;
};

}  // namespace

std::string encode_ledger_entry(const LedgerEntry& e) {
  std::string out;
  const size_t n = e.hashes.size();
  out.reserve(4 + 32 + 8 + e.key_id.size() + 4 + 8 + 8 + 8 + 4 + 32 * n + (n + 7) / 8 + 1 + e.signature.size());
  out.push_back(static_cast<char>(kLedgerEntryFormat));
  out.push_back(static_cast<char>(e.kind));
  out.push_back(static_cast<char>(e.is_signed ? 1 : 0));
  out.push_back(static_cast<char>(e.key_id.size()));
  out.append(reinterpret_cast<const char*>(e.previous_hash.data()), 32);
  put_be(out, e.number, 8);
  out.append(e.key_id);
  if (e.kind == kLedgerKindKeyEvent) {
    out.push_back(static_cast<char>(e.key_event));
    put_be(out, static_cast<uint64_t>(e.receive_ns), 8);
    put_be(out, e.station_key.size(), 2);
    out.append(e.station_key);
    put_be(out, e.station_patterns.size(), 2);
    out.append(e.station_patterns);
    return out;
  }
  if (e.kind == kLedgerKindRetention) {
    put_be(out, static_cast<uint64_t>(e.receive_ns), 8);
    put_be(out, static_cast<uint64_t>(e.cutoff_ns), 8);
    put_be(out, e.channel.size(), 2);
    out.append(e.channel);
    put_be(out, e.removed_unledgered, 8);
    put_be(out, e.removed.size(), 4);
    for (const auto& [entry, count] : e.removed) {
      put_be(out, entry, 8);
      put_be(out, count, 4);
    }
    return out;
  }
  put_be(out, e.protocol_version, 4);
  put_be(out, e.batch_id, 8);
  put_be(out, static_cast<uint64_t>(e.send_ns), 8);
  put_be(out, static_cast<uint64_t>(e.receive_ns), 8);
  put_be(out, n, 4);
  for (const auto& h : e.hashes) out.append(reinterpret_cast<const char*>(h.data()), 32);
  const size_t bitmap = out.size();
  out.append((n + 7) / 8, '\0');
  for (size_t i = 0; i < n && i < e.stored.size(); ++i) {
    if (e.stored[i]) out[bitmap + i / 8] = static_cast<char>(out[bitmap + i / 8] | (1 << (i % 8)));
  }
  out.push_back(static_cast<char>(e.signature.size()));
  out.append(e.signature);
  return out;
}

Result<LedgerEntry> decode_ledger_entry(std::string_view bytes) {
  Reader in(bytes);
  LedgerEntry e;
  auto bad = [&](std::string_view what) {
    return Status::corruption(fmt::format("ledger entry of {} bytes: {}", bytes.size(), what));
  };
  if (!in.has(4 + 32 + 8)) return bad("truncated header");
  const auto format = in.be(1);
  if (format != kLedgerEntryFormat) return bad(fmt::format("unknown format {}", format));
  e.kind = static_cast<uint8_t>(in.be(1));
  if (e.kind != kLedgerKindBatch && e.kind != kLedgerKindKeyEvent && e.kind != kLedgerKindRetention) {
    return bad(fmt::format("unknown kind {}", e.kind));
  }
  const auto flags = in.be(1);
  if (flags > 1) return bad(fmt::format("unknown flags {:#x}", flags));
  e.is_signed = flags == 1;
  const size_t key_length = in.be(1);
  const auto prev = in.take(32);
  std::copy(prev.begin(), prev.end(), e.previous_hash.begin());
  e.number = in.be(8);
  if (e.kind == kLedgerKindKeyEvent) {
    if (!in.has(key_length + 1 + 8 + 2)) return bad("truncated key event");
    e.key_id = std::string(in.take(key_length));
    if (e.is_signed && e.key_id.size() != 32) return bad(fmt::format("a signing key of {} bytes", key_length));
    e.key_event = static_cast<uint8_t>(in.be(1));
    if (e.key_event != kKeyRegistered && e.key_event != kKeyRevoked) {
      return bad(fmt::format("unknown key event {}", e.key_event));
    }
    e.receive_ns = static_cast<TimeNs>(in.be(8));
    const size_t station_length = in.be(2);
    if (!in.has(station_length + 2)) return bad("truncated station key");
    e.station_key = std::string(in.take(station_length));
    const size_t patterns_length = in.be(2);
    if (!in.has(patterns_length)) return bad("truncated station patterns");
    e.station_patterns = std::string(in.take(patterns_length));
    if (in.left() != 0) return bad(fmt::format("{} bytes after the key event", in.left()));
    return e;
  }
  if (e.kind == kLedgerKindRetention) {
    if (e.is_signed || key_length != 0) return bad("a retention entry with a key");
    if (!in.has(8 + 8 + 2)) return bad("truncated retention entry");
    e.receive_ns = static_cast<TimeNs>(in.be(8));
    e.cutoff_ns = static_cast<TimeNs>(in.be(8));
    const size_t channel_length = in.be(2);
    if (!in.has(channel_length + 8 + 4)) return bad("truncated channel");
    e.channel = std::string(in.take(channel_length));
    e.removed_unledgered = in.be(8);
    const uint64_t m = in.be(4);
    if (in.left() / 12 < m) return bad(fmt::format("truncated in {} removed counts", m));
    e.removed.resize(m);
    for (auto& [entry, count] : e.removed) {
      entry = in.be(8);
      count = static_cast<uint32_t>(in.be(4));
    }
    if (in.left() != 0) return bad(fmt::format("{} bytes after the retention entry", in.left()));
    return e;
  }
  if (!in.has(key_length + 4 + 8 + 8 + 8 + 4)) return bad("truncated before the record hashes");
  e.key_id = std::string(in.take(key_length));
  if (e.is_signed && e.key_id.size() != 32) return bad(fmt::format("a signed entry's key id is {} bytes", key_length));
  e.protocol_version = static_cast<uint32_t>(in.be(4));
  e.batch_id = in.be(8);
  e.send_ns = static_cast<TimeNs>(in.be(8));
  e.receive_ns = static_cast<TimeNs>(in.be(8));
  const uint64_t n = in.be(4);
  if (in.left() / 32 < n || !in.has(32 * n + (n + 7) / 8 + 1)) return bad(fmt::format("truncated in {} record hashes", n));
  e.hashes.resize(n);
  for (auto& h : e.hashes) {
    const auto v = in.take(32);
    std::copy(v.begin(), v.end(), h.begin());
  }
  const auto bitmap = in.take((n + 7) / 8);
  e.stored.resize(n);
  for (size_t i = 0; i < n; ++i) e.stored[i] = (static_cast<uint8_t>(bitmap[i / 8]) >> (i % 8)) & 1;
  if (n % 8 != 0 && (static_cast<uint8_t>(bitmap.back()) >> (n % 8)) != 0) return bad("bits set past the last record");
  const size_t sig_length = in.be(1);
  if (!in.has(sig_length)) return bad("truncated signature");
  if (sig_length != (e.is_signed ? 64u : 0u)) return bad(fmt::format("a signature of {} bytes", sig_length));
  e.signature = std::string(in.take(sig_length));
  if (in.left() != 0) return bad(fmt::format("{} bytes after the signature", in.left()));
  return e;
}

Sha256Digest ledger_entry_hash(std::string_view bytes) {
  return sha256({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
}

}  // namespace seisvault
