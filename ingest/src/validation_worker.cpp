#include "validation_worker.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "seisvault/common/batch_signature.h"

namespace seisvault::ingest {

namespace {

std::string_view net_sta_field(std::string_view source_id, int field) {
  size_t b = 0;
  for (int i = 0; i < field; ++i) b = source_id.find('.', b) + 1;
  return source_id.substr(b, source_id.find('.', b) - b);
}

}  // namespace

std::string ValidationWorker::check_signature(const InFlightBatch& b, const StationAccessEntry* entry) {
  if (p_.options.insecure || entry == nullptr) return {};
  const auto& sig = b.batch.signature;
  if (entry->signing_key.empty()) {
    if (entry->allow_unsigned) return {};
    return "this station key has no signing key registered in the server's authorized_stations, and is not allowed "
           "to send unsigned batches: the operator runs seisvault authorize with the station's --signing-key "
           "(PREFIX.sign.pub from seisvault keygen), or --allow-unsigned while the station cannot sign";
  }
  if (!sig.present || sig.signature.empty()) {
    return "this station must sign its batches (its key has a signing key registered), and this batch has no "
           "signature: update the station's seisvault push, and give it its signing key PREFIX.sign beside "
           "PREFIX.key";
  }
  auto registered = parse_signing_key_text(entry->signing_key);
  if (!registered.ok()) return "the station's registered signing key cannot be read: " + registered.status().message();
  if (sig.key.size() != registered->size() || !std::equal(sig.key.begin(), sig.key.end(), registered->begin())) {
    SigningPublicKey sent{};
    std::copy_n(sig.key.begin(), std::min(sig.key.size(), sent.size()), sent.begin());
    return fmt::format("the batch is signed by {}, but the signing key registered for this station key is {}",
                       sig.key.size() == sent.size() ? signing_key_text(sent) : fmt::format("a {}-byte key", sig.key.size()),
                       entry->signing_key);
  }
  BatchSigningFields fields{b.batch.protocol_version, *registered, b.batch.batch_id, sig.send_time_ns};
  begin_batch_message(fields, static_cast<uint32_t>(b.batch.records.size()), message_);
  for (size_t i = 0; i < b.batch.records.size(); ++i) {
    const auto hash = b.batch.records[i].sha256;
    if (hash.size() != 32) {
      return fmt::format("record {} has a sha256 of {} bytes, not 32: the batch signature cannot cover it", i,
                         hash.size());
    }
    add_batch_hash(std::span<const uint8_t, 32>(hash.data(), 32), message_);
  }
  if (!verify_signature(*registered, {reinterpret_cast<const uint8_t*>(message_.data()), message_.size()},
                        sig.signature)) {
    return fmt::format("the batch's signature does not verify against the station's signing key {} (a batch changed "
                       "on the way, or signed over other fields: docs/provenance.md)",
                       entry->signing_key);
  }
  return {};
}

void ValidationWorker::validate(InFlightBatch& b) {
  const auto& options = p_.options;
  const auto list = p_.access.current();
  const auto* entry = options.insecure ? nullptr : list->find(b.sender);
  const bool key_listed = options.insecure || entry != nullptr;
  if (auto refused = check_signature(b, entry); !refused.empty()) {
    b.error = v1::BAD_SIGNATURE;
    b.error_message = fmt::format("nothing of this batch was stored: {}", refused);
    p_.stats.batches_bad_signature.fetch_add(1, std::memory_order_relaxed);
    p_.signature_log.log("station key {}: batch {} refused: {}", b.sender, b.batch.batch_id, refused);
    return;
  }
  b.is_signed = !options.insecure && entry != nullptr && !entry->signing_key.empty();
  const auto n = b.batch.records.size();
  b.verdicts.resize(n);
  b.validated.reserve(n);
  b.accepted_index.reserve(n);
  const TimeNs now = now_ns();
  uint64_t bytes = 0;
  b.hashes.resize(n);
  for (size_t i = 0; i < n; ++i) {
    b.hashes[i] = sha256(b.batch.records[i].mseed);
  }
  for (size_t i = 0; i < n; ++i) {
    const auto& rec = b.batch.records[i];
    auto& verdict = b.verdicts[i];
    const auto mseed = rec.mseed;
    bytes += mseed.size();
    auto reject = [&](RejectReason reason, std::string message) {
      verdict.status = v1::REJECTED;
      verdict.reason = reason;
      verdict.message = std::move(message);
      p_.rejections.count(reason, verdict.message);
    };
    if (!key_listed) {
      reject(RejectReason::kNotAuthorized, "this station key is no longer in the server's authorized-stations list");
      continue;
    }
    const auto& digest = b.hashes[i];
    if (rec.sha256.size() != digest.size() || std::memcmp(rec.sha256.data(), digest.data(), digest.size()) != 0) {
      reject(RejectReason::kHashMismatch,
             fmt::format("the SHA-256 sent with the record ({}) is not the SHA-256 of its {} bytes ({})",
                         to_hex(rec.sha256), mseed.size(), to_hex(digest)));
      continue;
    }
    // The validator holds the libmseed lock for this record's libmseed
    // calls only: no batch makes other stations' records wait.
    auto v = validator_.validate(mseed, now);
    if (!v.ok()) {
      reject(v.reason, std::move(v.message));
      continue;
    }
    const auto id = v.record.source_id();
    if (!options.insecure && !list->may_write(b.sender, net_sta_field(id, 0), net_sta_field(id, 1))) {
      reject(RejectReason::kNotAuthorized,
             fmt::format("station key may not write {}.{}", net_sta_field(id, 0), net_sta_field(id, 1)));
      continue;
    }
    verdict.status = v1::STORED;  // until the committer says otherwise
    verdict.reason = RejectReason::kNone;
    b.validated.push_back(v.record);
    b.accepted_index.push_back(static_cast<uint32_t>(i));
  }
  p_.stats.bytes_received.fetch_add(bytes, std::memory_order_relaxed);
  b.accepted.reserve(b.validated.size());
  for (size_t k = 0; k < b.validated.size(); ++k) {
    const auto& r = b.validated[k];
    b.accepted.push_back({r.source_id(), r.start_ns, r.end_ns, r.sample_rate, r.sample_count, r.bytes,
                          b.hashes[b.accepted_index[k]], b.receive_ns, b.sender, storage::kNoLedgerBatch,
                          b.accepted_index[k]});
  }
  if (!b.accepted.empty()) {
    // What the ledger keeps of the batch: the hashes the station signed
    // (each checked to be 32 bytes with the signature), or the computed ones.
    b.ledger_hashes.resize(32 * n);
    for (size_t i = 0; i < n; ++i) {
      const auto& sent = b.batch.records[i].sha256;
      const uint8_t* h = b.is_signed ? sent.data() : b.hashes[i].data();
      std::memcpy(b.ledger_hashes.data() + 32 * i, h, 32);
    }
  }
}

void ValidationWorker::run() {
  BatchPtr b;
  for (;;) {
    if (!p_.validate_queue.wait_dequeue_timed(b, std::chrono::milliseconds(100))) {
      if (p_.workers_done.load()) return;
      continue;
    }
    p_.stats.validate_queue_batches.fetch_sub(1, std::memory_order_relaxed);
    validate(*b);
    p_.stats.commit_queue_batches.fetch_add(1, std::memory_order_relaxed);
    p_.commit_queue.enqueue(std::move(b));
  }
}

}  // namespace seisvault::ingest
