#include "ledger_checkpointer.h"

#include <spdlog/spdlog.h>

#include "seisvault/common/ledger_checkpoint.h"
#include "seisvault/common/thread_name.h"
#include "seisvault/common/time.h"

namespace seisvault::server {

LedgerCheckpointer::LedgerCheckpointer(storage::RecordStore& store, SigningKeyPair server_key,
                                       std::chrono::milliseconds interval)
    : store_(store), key_(std::move(server_key)), interval_(interval) {
  // The newest checkpoint kept before this start.
  auto st = store_.read_checkpoints([&](uint64_t count, std::string_view) {
    last_count_ = count;
    return true;
  });
  if (!st.ok()) spdlog::error("ledger checkpoints: {}", st.message());
  thread_ = std::thread([this] { run(); });
}

LedgerCheckpointer::~LedgerCheckpointer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  checkpoint();
}

uint64_t LedgerCheckpointer::made() const {
  std::lock_guard lock(mutex_);
  return made_;
}

void LedgerCheckpointer::run() {
  set_thread_name("sv-checkpoint");
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      if (wake_.wait_for(lock, interval_, [this] { return stopping_; })) return;
    }
    checkpoint();
  }
}

void LedgerCheckpointer::checkpoint() {
  std::lock_guard one(checkpoint_mutex_);
  const auto head = store_.ledger_head();
  if (head.count == 0 || head.count == last_count_) return;
  const auto bytes = make_checkpoint(key_, head.count, head.hash, now_ns());
  if (auto st = store_.put_checkpoint(head.count, bytes); !st.ok()) {
    spdlog::error("ledger checkpoint of {} entries not kept: {}", head.count, st.message());
    return;
  }
  last_count_ = head.count;
  std::lock_guard lock(mutex_);
  ++made_;
}

}  // namespace seisvault::server
