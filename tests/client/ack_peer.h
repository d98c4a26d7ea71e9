// AckPeer: a small ingest peer for client-protocol tests. A real ZeroMQ
// ROUTER socket on 127.0.0.1 (with CURVE and a real ZAP handler when asked)
// that answers each IngestBatch the way seisvaultd's contract says, and can
// be told to misbehave: drop acks, answer out of order or twice, say
// SERVER_STOPPING, hold every ack back.
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

}  // namespace seisvault::test
