#include "seisvault/common/ledger_chain_check.h"

#include <algorithm>

#include <fmt/format.h>

#include "seisvault/common/batch_signature.h"
#include "seisvault/common/ledger_checkpoint.h"
#include "seisvault/common/ledger_entry.h"
#include "seisvault/common/time.h"

namespace seisvault {

std::string ledger_key_text(const std::string& key_id, bool is_signed) {
  if (is_signed && key_id.size() == 32) {
    SigningPublicKey k{};
    std::copy(key_id.begin(), key_id.end(), k.begin());
    return signing_key_text(k);
  }
  return key_id.empty() ? std::string("(no key: --insecure)") : key_id;
}

std::vector<std::string> record_entry_mismatches(const LedgerEntry& entry, uint32_t position, const Sha256Digest& hash,
                                                 const std::string& in) {
  std::vector<std::string> out;
  if (position >= entry.hashes.size()) {
    out.push_back(fmt::format("it points to {}, but that batch has {} records", in, entry.hashes.size()));
    return out;
  }
  if (entry.hashes[position] != hash) {
    out.push_back(fmt::format("its bytes hash to {}, but {} ({} batch {} of {}) holds {}: not what the station sent",
                              to_hex(hash), in, entry.is_signed ? "signed" : "unsigned", entry.batch_id,
                              ledger_key_text(entry.key_id, entry.is_signed), to_hex(entry.hashes[position])));
  }
  if (!entry.stored[position]) out.push_back(fmt::format("{} says that record was not stored by it", in));
  return out;
}

LedgerChainCheck::LedgerChainCheck(std::optional<SigningPublicKey> server_key,
                                   std::vector<std::pair<uint64_t, std::string>> checkpoints, Sink sink)
    : server_key_(server_key), checkpoints_(std::move(checkpoints)), sink_(std::move(sink)) {
  for (const auto& [count, _] : checkpoints_) wanted_[count] = true;
}

const LedgerEntry* LedgerChainCheck::add_entry(uint64_t number, std::string_view bytes) {
  const std::string where = fmt::format("ledger entry {}", number);
  if (number != expected_) {
    sink_("ledger-chain", where,
          number > expected_ ? fmt::format("entries {} to {} are missing", expected_, number - 1)
                             : fmt::format("entry {} comes again", number));
  }
  expected_ = number + 1;
  ++entries_;
  const Sha256Digest hash = ledger_entry_hash(bytes);
  if (wanted_.count(number) > 0) at_checkpoint_[number] = hash;
  auto decoded = decode_ledger_entry(bytes);
  const Sha256Digest previous = previous_;
  previous_ = hash;
  const bool previous_known = previous_known_;
  previous_known_ = true;
  if (!decoded.ok()) {
    sink_("ledger-entry-unreadable", where, decoded.status().message());
    last_.reset();
    return nullptr;
  }
  last_ = std::move(*decoded);
  const LedgerEntry* entry = &*last_;
  if (entry->number != number) sink_("ledger-chain", where, fmt::format("it says it is entry {}", entry->number));
  if (previous_known && entry->previous_hash != previous) {
    sink_("ledger-chain", where,
          fmt::format("it names {} as the previous entry's hash, but entry {} hashes to {}",
                      to_hex(entry->previous_hash), number - 1, to_hex(previous)));
  }
  if (entry->kind == kLedgerKindKeyEvent) {
    take_key_event(*entry);
    return entry;
  }
  if (!entry->is_signed) return entry;
  ++signed_;
  const SignedBatch batch{number, entry->batch_id, entry->receive_ns};
  if (!key_valid_at(entry->key_id, batch, false)) unsettled_.emplace_back(entry->key_id, batch);
  BatchSigningFields f{entry->protocol_version, {}, entry->batch_id, entry->send_ns};
  std::copy(entry->key_id.begin(), entry->key_id.end(), f.key_id.begin());
  begin_batch_message(f, static_cast<uint32_t>(entry->hashes.size()), message_);
  for (const auto& h : entry->hashes) add_batch_hash(h, message_);
  const std::span<const uint8_t> sig(reinterpret_cast<const uint8_t*>(entry->signature.data()),
                                     entry->signature.size());
  if (!verify_signature(f.key_id, {reinterpret_cast<const uint8_t*>(message_.data()), message_.size()}, sig)) {
    sink_("batch-signature", where,
          fmt::format("the station signature of batch {} does not verify with {}: the entry is not what the "
                      "station signed",
                      entry->batch_id, ledger_key_text(entry->key_id, true)));
  }
  return entry;
}

void LedgerChainCheck::take_key_event(const LedgerEntry& e) {
  ++key_events_;
  if (!e.is_signed) return;  // a CURVE key let in unsigned: no signatures to judge
  auto& changes = key_changes_[e.key_id];
  const KeyChange c{e.receive_ns, e.key_event, e.number};
  changes.insert(std::upper_bound(changes.begin(), changes.end(), c,
                                  [](const KeyChange& a, const KeyChange& b) { return a.at < b.at; }),
                 c);
}

Status LedgerChainCheck::add_key_event(std::string_view bytes) {
  auto e = decode_ledger_entry(bytes);
  if (!e.ok()) return e.status();
  if (e->kind != kLedgerKindKeyEvent) {
    return Status::invalid_argument(fmt::format("entry {} is not a key event", e->number));
  }
  take_key_event(*e);
  return {};
}

bool LedgerChainCheck::key_valid_at(const std::string& key, const SignedBatch& b, bool report) {
  const auto found = key_changes_.find(key);
  const KeyChange* last = nullptr;
  if (found != key_changes_.end()) {
    for (const auto& c : found->second) {
      if (c.at > b.received) break;
      last = &c;
    }
  }
  if (last != nullptr && last->event == kKeyRegistered) return true;
  if (!report) return false;
  const std::string where = fmt::format("ledger entry {}", b.entry);
  const std::string key_text = ledger_key_text(key, true);
  if (last == nullptr) {
    sink_("batch-key-unregistered", where,
          fmt::format("batch {}, received at {}, is signed by {}, which no key event registered before then",
                      b.batch_id, format_iso8601(b.received), key_text));
  } else {
    sink_("batch-after-revocation", where,
          fmt::format("batch {}, received at {}, is signed by {}, revoked at {} (ledger entry {})", b.batch_id,
                      format_iso8601(b.received), key_text, format_iso8601(last->at), last->entry));
  }
  return false;
}

void LedgerChainCheck::finish() {
  for (const auto& [key, batch] : unsettled_) key_valid_at(key, batch, true);
  unsettled_.clear();
  for (const auto& [count, bytes] : checkpoints_) {
    const std::string where = fmt::format("checkpoint of {} entries", count);
    auto c = decode_checkpoint(bytes);
    if (!c.ok()) {
      sink_("checkpoint-unreadable", where, c.status().message());
      continue;
    }
    if (!checkpoint_signature_ok(bytes)) {
      sink_("checkpoint-signature", where, "its signature does not verify: it was not made by the key it names");
      continue;
    }
    if (server_key_ && c->server_key != *server_key_) {
      sink_("checkpoint-signature", where,
            fmt::format("signed by {}, not by the server's key {}", signing_key_text(c->server_key),
                        signing_key_text(*server_key_)));
      continue;
    }
    if (c->count != count) {
      sink_("checkpoint-mismatch", where, fmt::format("it says it covers {} entries", c->count));
      continue;
    }
    const auto at = at_checkpoint_.find(count);
    if (at == at_checkpoint_.end()) {
      sink_("checkpoint-mismatch", where,
            fmt::format("the ledger holds {} entries, fewer than the checkpoint covers: entries were removed",
                        entries_));
      continue;
    }
    if (at->second != c->head) {
      sink_("checkpoint-mismatch", where,
            fmt::format("the server signed {} as the hash of entry {}, the ledger now has {}: the ledger was "
                        "changed after the checkpoint",
                        to_hex(c->head), count, to_hex(at->second)));
      continue;
    }
    last_checkpoint_count_ = std::max(last_checkpoint_count_, count);
  }
}

}  // namespace seisvault
