#include "validation_worker.h"

#include <cstring>

#include <fmt/format.h>

namespace seisvault::ingest {

namespace {

std::string_view net_sta_field(std::string_view source_id, int field) {
  size_t b = 0;
  for (int i = 0; i < field; ++i) b = source_id.find('.', b) + 1;
  return source_id.substr(b, source_id.find('.', b) - b);
}

}  // namespace

void ValidationWorker::validate(InFlightBatch& b) {
  const auto& options = p_.options;
  const auto list = p_.access.current();
  const bool key_listed = options.insecure || list->is_listed(b.sender);
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
                          b.hashes[b.accepted_index[k]], b.receive_ns, b.sender});
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
