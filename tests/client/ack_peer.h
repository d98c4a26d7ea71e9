// AckPeer: a small ingest peer for client-protocol tests. A real ZeroMQ
// ROUTER socket on 127.0.0.1 (with CURVE and a real ZAP handler when asked)
// that answers each IngestBatch the way seisvaultd's contract says, and can
// be told to misbehave: drop acks, answer out of order or twice, say
// SERVER_STOPPING, hold every ack back, refuse records or whole batches
// for transient reasons (INTERNAL, STORE_UNAVAILABLE, BUSY), and enforce
// its batch limits the way an old (per-record BATCH_TOO_LARGE) or a new
// (OVERSIZED_BATCH) server does.
//
// It is not a server: it "stores" records in a set of SHA-256s (so a
// resent record comes back DUPLICATE) and rejects a piece that
// next_piece() does not see as a miniSEED 2 record (NOT_MINISEED) or whose
// SHA-256 is wrong (HASH_MISMATCH). Runs on its own thread; stops and
// unbinds when destroyed.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "seisvault/common/curve_keys.h"

namespace seisvault::test {

struct AckPeerOptions {
  // Where to bind; "*" as the port picks a free one.
  std::string endpoint = "tcp://127.0.0.1:*";
  // CURVE with this server key pair, and a ZAP handler admitting only
  // `authorized` public keys (Z85). Off: plain (like seisvaultd --insecure).
  bool curve = false;
  CurveKeyPair server_keys;
  std::set<std::string> authorized;

  int drop_first = 0;      // store the first N batches but send no ack
  int stopping_first = 0;  // answer the first N batches with SERVER_STOPPING (not stored)
  bool ack_twice = false;  // send every ack twice
  size_t reorder = 0;      // hold acks until this many wait, then send them newest first
  bool hold_all = false;   // send no ack until release() is called
  uint32_t limit_records = 10000;  // Limits sent on every ack
  uint64_t limit_bytes = 16u << 20;

  // Limits enforced (0: those sent). A batch over them is refused whole,
  // nothing of it stored: kNone accepts it, kPerRecord answers every record
  // REJECTED BATCH_TOO_LARGE (servers before OVERSIZED_BATCH), kBatchError
  // answers OVERSIZED_BATCH.
  enum class Enforce { kNone, kPerRecord, kBatchError };
  Enforce enforce = Enforce::kNone;
  uint32_t enforce_records = 0;
  bool oversized_without_id = false;  // answer OVERSIZED_BATCH with batch_id 0 (frame refused unread)

  // The first N batches (counted as received, resends included) are
  // refused with `batch_error` (a seisvault.ingest.v1.BatchError number,
  // e.g. STORE_UNAVAILABLE = 4, BUSY = 6) and `retry_after_ms`; nothing of
  // them is stored. -1: every batch.
  int batch_error_first = 0;
  int batch_error = 0;
  uint32_t retry_after_ms = 0;

  // In the first N batches (counted as received), records at positions
  // i % transient_every == transient_offset are answered REJECTED with
  // `transient_reason` (a RejectCode number; INTERNAL = 16) and not stored.
  int transient_first = 0;
  size_t transient_every = 1;
  size_t transient_offset = 0;
  int transient_reason = 16;
};

class AckPeer {
 public:
  explicit AckPeer(AckPeerOptions options);
  ~AckPeer();
  AckPeer(const AckPeer&) = delete;
  AckPeer& operator=(const AckPeer&) = delete;

  // The bound endpoint, e.g. "tcp://127.0.0.1:41235".
  const std::string& endpoint() const { return endpoint_; }

  // Sends the acks held back by hold_all, and stops holding.
  void release() { release_ = true; }

  struct Seen {
    std::vector<uint64_t> batch_ids;      // every batch received, in order (resends included)
    std::vector<size_t> batch_records;    // records per batch received
    std::vector<size_t> batch_bytes;      // frame size per batch received
    uint64_t records_stored = 0;          // distinct records stored
    uint64_t store_attempts = 0;          // records answered STORED or DUPLICATE (so: stored at least once)
    uint64_t records_refused_transient = 0;  // records answered with a transient refusal (record or batch level)
    int zap_requests = 0;
    int zap_refusals = 0;
  };
  Seen seen() const;

 private:
  void run();

  AckPeerOptions options_;
  std::string endpoint_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> release_{false};
  std::atomic<bool> ready_{false};
  mutable std::mutex mutex_;
  Seen seen_;
  std::string bind_error_;
  std::thread thread_;
};

// A ZeroMQ endpoint nobody listens on: bound once on 127.0.0.1 to pick a
// free port, then closed.
std::string unused_endpoint();

}  // namespace seisvault::test
