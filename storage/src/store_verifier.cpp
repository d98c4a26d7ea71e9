#include "seisvault/storage/store_verifier.h"

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include <fmt/format.h>

#include "seisvault/common/ledger_chain_check.h"
#include "seisvault/common/ledger_entry.h"
#include "seisvault/common/time.h"

namespace seisvault::storage {

namespace {

std::string hex(std::span<const uint8_t> bytes) { return to_hex(bytes); }

class Verifier {
 public:
  Verifier(const RecordStore& store, const VerifyOptions& options) : store_(store), options_(options) {
    report_.server_key_given = options.server_key.has_value();
  }

  Result<VerifyReport> run() {
    if (auto st = read_checkpoints(); !st.ok()) return st;
    if (auto st = walk_ledger(); !st.ok()) return st;
    if (auto st = walk_records(); !st.ok()) return st;
    if (auto st = check_coverage(); !st.ok()) return st;
    return std::move(report_);
  }

 private:
  void problem(const std::string& kind, std::string where, std::string what) {
    if (report_.problems[kind]++ == 0) report_.first_problems.push_back({kind, std::move(where), std::move(what)});
  }
  void progress(const std::string& line) {
    if (options_.progress) options_.progress(line);
  }

  Status read_checkpoints() {
    return store_.read_checkpoints([&](uint64_t count, std::string_view bytes) {
      checkpoints_.emplace_back(count, std::string(bytes));
      return true;
    });
  }

  // Pass 1: the chain, the station signatures, the checkpoints
  // (common's LedgerChainCheck).
  Status walk_ledger() {
    progress("checking the ledger");
    LedgerChainCheck check(options_.server_key, checkpoints_,
                           [&](const std::string& kind, std::string where, std::string what) {
                             problem(kind, std::move(where), std::move(what));
                           });
    auto st = store_.read_ledger(1, [&](uint64_t number, std::string_view bytes) {
      check.add_entry(number, bytes);
      if (number % 100000 == 0) progress(fmt::format("ledger: {} entries", number));
      return true;
    });
    if (!st.ok()) return st;
    check.finish();
    report_.ledger_entries = check.entries();
    report_.signed_entries = check.signed_entries();
    report_.checkpoints = check.checkpoints();
    report_.last_checkpoint_count = check.last_checkpoint_count();
    return {};
  }

  // An entry, decoded once for the records that point to it (a bounded
  // cache: records come channel by channel).
  const LedgerEntry* entry(uint64_t number) {
    if (auto it = cache_.find(number); it != cache_.end()) return it->second ? &*it->second : nullptr;
    if (cache_.size() > 4096) cache_.clear();
    std::optional<LedgerEntry> decoded;
    (void)store_.read_ledger(number, [&](uint64_t n, std::string_view bytes) {
      if (n == number) {
        auto e = decode_ledger_entry(bytes);
        if (e.ok()) decoded = std::move(*e);
      }
      return false;
    });
    auto [it, _] = cache_.emplace(number, std::move(decoded));
    return it->second ? &*it->second : nullptr;
  }

  // Pass 2: every record, channel by channel (a channel that cannot be read
  // is reported, and the others are still checked).
  Status walk_records() {
    auto channels = store_.list_channels(ChannelSelection());
    if (!channels.ok()) return channels.status();
    const uint64_t since = store_.ledger_since_sequence();
    progress(fmt::format("checking the records of {} channels", channels->size()));
    for (const auto& ch : *channels) {
      auto st = store_.read_records(ChannelSelection::exact(ch.source_id), TimeWindow{}, [&](const StoredRecord& r) {
        ++report_.records;
        const std::string where = fmt::format("{} record at {} (sequence {})", r.source_id,
                                              format_iso8601(r.start_ns), r.sequence);
        const auto actual = sha256(r.bytes);
        if (std::memcmp(actual.data(), r.sha256, 32) != 0) {
          problem("record-hash", where,
                  fmt::format("its {} bytes hash to {}, the store has {} for them", r.bytes.size(), hex(actual),
                              hex({r.sha256, 32})));
        }
        if (r.ledger_entry == 0) {
          if (r.sequence >= since) {
            problem("record-not-in-ledger", where,
                    fmt::format("stored after the ledger began (sequence {}), it points to no ledger entry", since));
          } else {
            ++report_.records_before_ledger;
          }
          return true;
        }
        const LedgerEntry* e = entry(r.ledger_entry);
        const std::string in = fmt::format("entry {} position {}", r.ledger_entry, r.batch_position);
        if (e == nullptr) {
          problem("record-ledger-mismatch", where, fmt::format("it points to {}, which the ledger does not hold", in));
          return true;
        }
        if (r.batch_position >= e->hashes.size()) {
          problem("record-ledger-mismatch", where,
                  fmt::format("it points to {}, but that batch has {} records", in, e->hashes.size()));
          return true;
        }
        if (e->hashes[r.batch_position] != actual) {
          problem("record-ledger-mismatch", where,
                  fmt::format("its bytes hash to {}, but {} of the ledger ({} batch {} of {}) is {}: not what the "
                              "station sent",
                              hex(actual), in, e->is_signed ? "signed" : "unsigned", e->batch_id,
                              ledger_key_text(e->key_id, e->is_signed), hex(e->hashes[r.batch_position])));
        }
        if (!e->stored[r.batch_position]) {
          problem("record-ledger-mismatch", where, fmt::format("{} says that record was not stored by it", in));
        }
        auto& found = found_[r.ledger_entry];
        if (found.size() < e->hashes.size()) found.resize(e->hashes.size());
        if (found[r.batch_position]) {
          problem("record-twice", where, fmt::format("a second record points to {}", in));
        }
        found[r.batch_position] = true;
        return true;
      });
      if (!st.ok()) {
        problem("record-unreadable", ch.source_id,
                fmt::format("{} (the channel's records after that point were not checked)", st.message()));
      }
    }
    return {};
  }

  // Pass 3: what the ledger says was stored is there.
  Status check_coverage() {
    progress("checking that every record the ledger names is stored");
    return store_.read_ledger(1, [&](uint64_t number, std::string_view bytes) {
      auto e = decode_ledger_entry(bytes);
      if (!e.ok()) return true;  // reported in pass 1
      const auto found = found_.find(number);
      for (size_t i = 0; i < e->stored.size(); ++i) {
        if (!e->stored[i]) continue;
        if (found == found_.end() || i >= found->second.size() || !found->second[i]) {
          problem("record-missing", fmt::format("ledger entry {} position {}", number, i),
                  fmt::format("batch {} of {} stored a record with SHA-256 {}, and the store no longer has it",
                              e->batch_id, ledger_key_text(e->key_id, e->is_signed), hex(e->hashes[i])));
        }
      }
      return true;
    });
  }

  const RecordStore& store_;
  const VerifyOptions& options_;
  VerifyReport report_;
  std::vector<std::pair<uint64_t, std::string>> checkpoints_;
  std::unordered_map<uint64_t, std::optional<LedgerEntry>> cache_;
  std::unordered_map<uint64_t, std::vector<bool>> found_;  // entry -> positions found among the records
};

}  // namespace

Result<VerifyReport> verify_store(const RecordStore& store, const VerifyOptions& options) {
  return Verifier(store, options).run();
}

}  // namespace seisvault::storage
