// LedgerCheckpointer: signs the ledger's head with the server's own key on
// a schedule and at shutdown (docs/provenance.md "Checkpoints").
//
// One thread: every `interval`, when the ledger has grown since the last
// checkpoint, a checkpoint of its head (common's ledger_checkpoint.h) is
// kept in the store. The destructor makes a last one, so that a server
// stopped cleanly leaves every entry under a signature.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "seisvault/common/signing_keys.h"
#include "seisvault/storage/record_store.h"

namespace seisvault::server {

class LedgerCheckpointer {
 public:
  // Starts the thread; `store` must outlive the checkpointer.
  LedgerCheckpointer(storage::RecordStore& store, SigningKeyPair server_key, std::chrono::milliseconds interval);
  ~LedgerCheckpointer();  // stops the thread, then a last checkpoint
  LedgerCheckpointer(const LedgerCheckpointer&) = delete;
  LedgerCheckpointer& operator=(const LedgerCheckpointer&) = delete;

  // Checkpoints made since start.
  uint64_t made() const;

 private:
  void run();
  // A checkpoint of the head now, unless it is the last one's.
  void checkpoint();

  storage::RecordStore& store_;
  const SigningKeyPair key_;
  const std::chrono::milliseconds interval_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  uint64_t last_count_ = 0;  // of the newest checkpoint kept
  uint64_t made_ = 0;
  std::mutex checkpoint_mutex_;  // one checkpoint at a time (the thread, the destructor)
  std::thread thread_;
};

}  // namespace seisvault::server
