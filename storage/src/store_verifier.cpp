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
                             report_.add(kind, std::move(where), std::move(what));
                           });
    auto st = store_.read_ledger(1, [&](uint64_t number, std::string_view bytes) {
      // Which records each entry stored, for pass 3 (a bit per record).
      if (const LedgerEntry* e = check.add_entry(number, bytes)) {
        if (e->kind == kLedgerKindRetention) {
          ++report_.retention_entries;
          report_.records_expired += e->removed_unledgered;
          for (const auto& [entry, count] : e->removed) {
            auto& r = removed_[entry];
            r.count += count;
            if (r.by == 0) r.by = number;
            report_.records_expired += count;
          }
        } else if (e->kind == kLedgerKindBatch) {
          stored_[number] = e->stored;
        }
      }
      if (number % 100000 == 0) progress(fmt::format("ledger: {} entries", number));
      return true;
    });
    if (!st.ok()) return st;
    check.finish();
    report_.ledger_entries = check.entries();
    report_.signed_entries = check.signed_entries();
    report_.key_events = check.key_events();
    report_.checkpoints = check.checkpoints();
    report_.last_checkpoint_count = check.last_checkpoint_count();
    return {};
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
          report_.add("record-hash", where,
                      fmt::format("its {} bytes hash to {}, the store has {} for them", r.bytes.size(), hex(actual),
                                  hex({r.sha256, 32})));
        }
        const LedgerEntry* e = nullptr;
        for (auto& f : check_record_ledger(r, actual, since, entries_, &e)) {
          report_.add(f.kind, where, std::move(f.what));
        }
        if (r.ledger_entry == 0 && r.sequence < since) ++report_.records_before_ledger;
        if (e == nullptr || r.batch_position >= e->hashes.size()) return true;
        const std::string in = fmt::format("ledger entry {} position {}", r.ledger_entry, r.batch_position);
        auto& found = found_[r.ledger_entry];
        if (found.size() < e->hashes.size()) found.resize(e->hashes.size());
        if (found[r.batch_position]) {
          report_.add("record-twice", where, fmt::format("a second record points to {}", in));
        }
        found[r.batch_position] = true;
        return true;
      });
      if (!st.ok()) {
        report_.add("record-unreadable", ch.source_id,
                    fmt::format("{} (the channel's records after that point were not checked)", st.message()));
      }
    }
    return {};
  }

  // Pass 3: what the ledger says was stored is there (from pass 1's
  // bitmaps; an entry is read again only to describe a missing record).
  Status check_coverage() {
    progress("checking that every record the ledger names is stored");
    std::vector<uint64_t> numbers;
    numbers.reserve(stored_.size());
    for (const auto& [number, _] : stored_) numbers.push_back(number);
    std::sort(numbers.begin(), numbers.end());
    for (uint64_t number : numbers) {
      const auto& stored = stored_.at(number);
      const auto found = found_.find(number);
      // Records retention removed (retention entries count them per entry)
      // are not missing: as many missing ones as it removed are accounted
      // for, a retention entry counting more than are missing is wrong.
      const auto removed = removed_.find(number);
      uint64_t excused = removed == removed_.end() ? 0 : removed->second.count;
      uint64_t missing = 0;
      for (size_t i = 0; i < stored.size(); ++i) {
        if (!stored[i] || (found != found_.end() && i < found->second.size() && found->second[i])) continue;
        ++missing;
        if (excused > 0) {
          --excused;
          continue;
        }
        const LedgerEntry* e = entries_.get(number);
        if (e == nullptr) continue;  // gone since pass 1
        report_.add("record-missing", fmt::format("ledger entry {} position {}", number, i),
                    fmt::format("batch {} of {} stored a record with SHA-256 {}, and the store no longer has it",
                                e->batch_id, ledger_key_text(e->key_id, e->is_signed), hex(e->hashes[i])));
      }
      if (excused > 0) {
        report_.add("retention-mismatch", fmt::format("ledger entry {}", removed->second.by),
                    fmt::format("retention entries say {} record(s) of ledger entry {} were removed, but {} of its "
                                "records are missing",
                                removed->second.count, number, missing));
      }
    }
    for (const auto& [number, r] : removed_) {
      if (stored_.count(number) == 0) {
        report_.add("retention-mismatch", fmt::format("ledger entry {}", r.by),
                    fmt::format("it says records of ledger entry {} were removed, which is no batch of the ledger",
                                number));
      }
    }
    return {};
  }

  const RecordStore& store_;
  const VerifyOptions& options_;
  VerifyReport report_;
  std::vector<std::pair<uint64_t, std::string>> checkpoints_;
  LedgerEntryCache entries_{store_};
  std::unordered_map<uint64_t, std::vector<bool>> stored_;  // entry -> positions it says it stored (pass 1)
  std::unordered_map<uint64_t, std::vector<bool>> found_;   // entry -> positions found among the records
  struct Removed {
    uint64_t count = 0;  // records of the entry retention removed
    uint64_t by = 0;     // the first retention entry saying so
  };
  std::unordered_map<uint64_t, Removed> removed_;  // batch entry -> what retention removed of it (pass 1)
};

}  // namespace

const LedgerEntry* LedgerEntryCache::get(uint64_t number) {
  if (auto it = entries_.find(number); it != entries_.end()) return it->second ? &*it->second : nullptr;
  if (entries_.size() > 4096) entries_.clear();
  std::optional<LedgerEntry> decoded;
  (void)store_.read_ledger(number, [&](uint64_t n, std::string_view bytes) {
    if (n == number) {
      if (auto e = decode_ledger_entry(bytes); e.ok()) decoded = std::move(*e);
    }
    return false;
  });
  auto [it, _] = entries_.emplace(number, std::move(decoded));
  return it->second ? &*it->second : nullptr;
}

std::vector<LedgerFinding> check_record_ledger(const StoredRecord& r, const Sha256Digest& actual,
                                               uint64_t ledger_since, LedgerEntryCache& entries,
                                               const LedgerEntry** entry) {
  std::vector<LedgerFinding> out;
  if (entry) *entry = nullptr;
  if (r.ledger_entry == 0) {
    if (r.sequence >= ledger_since) {
      out.push_back({"record-not-in-ledger",
                     fmt::format("stored after the ledger began (sequence {}), it points to no ledger entry",
                                 ledger_since)});
    }
    return out;
  }
  const LedgerEntry* e = entries.get(r.ledger_entry);
  if (entry) *entry = e;
  const std::string in = fmt::format("ledger entry {} position {}", r.ledger_entry, r.batch_position);
  if (e == nullptr) {
    out.push_back({"record-ledger-mismatch", fmt::format("it points to {}, which the ledger does not hold", in)});
    return out;
  }
  for (auto& what : record_entry_mismatches(*e, r.batch_position, actual, in)) {
    out.push_back({"record-ledger-mismatch", std::move(what)});
  }
  return out;
}

Result<VerifyReport> verify_store(const RecordStore& store, const VerifyOptions& options) {
  return Verifier(store, options).run();
}

}  // namespace seisvault::storage
