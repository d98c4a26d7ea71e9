// RecordStore: the only code that touches RocksDB.
//
// Stores miniSEED records byte-identical, with their SHA-256, end time,
// receive time and authenticated sender; keeps a channel catalog
// (source id <-> small integer id) and per-channel summaries; answers
// time-window reads, channel lists and availability.
//
// Layout (see docs/storage.md for the reasoning and the numbers):
//   records  CF: key = channel id (u32 BE) | block start time (i64, order-preserving BE) | block seq (u64 BE)
//                value = a block: the records of one channel that arrived in
//                one write, sorted by start time, each with its metadata,
//                and where their bytes are. A block never spans more than
//                kMaxBlockSpanNs.
//   segments/    (files, not a CF) the records' bytes, appended once, in
//                commit order, to files of StoreOptions::segment_mib.
//   long     CF: the same keys and blocks, one record per block: records that
//                alone span more than kMaxBlockSpanNs.
//   catalog  CF: "c"+source id -> channel id, "i"+id -> source id,
//                "s"+sender -> sender id, "j"+id -> sender.
//   summary  CF: "p" + page (u32 BE) -> the ChannelSummaries of 64 consecutive channel ids.
//   sequence CF: key = the first record sequence number of one write (u64 BE)
//                value = that write's commit time and the keys of its blocks, in
//                sequence order: the index from sequence number to record.
//   ledger   CF: "e" + entry number (u64 BE) -> a ledger entry (common's ledger_entry.h),
//                "k" + key id length (u8) + key id + batch id (u64 BE) -> entry number,
//                "h" + key id length (u8) + key id -> the highest batch id of a signing key,
//                "c" + entry count (u64 BE) -> the server's signed checkpoint of the head,
//                "r" + signed (u8) + key id length (u8) + key id -> the entry number of the
//                key's registration, while it is registered.
//   default  CF: schema version, next block and record sequence numbers,
//                "inventory/"+name -> loaded time (i64 BE) | StationXML document.
//
// Thread-safety: a RecordStore is safe for concurrent use. write() calls are
// serialized internally (one writer at a time); reads run concurrently with
// each other and with writes, each against a consistent snapshot (a long
// read_records() against a few, see there).
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "seisvault/common/status.h"
#include "seisvault/storage/availability.h"
#include "seisvault/storage/channel_info.h"
#include "seisvault/storage/channel_selection.h"
#include "seisvault/storage/inventory_document.h"
#include "seisvault/storage/key_registration.h"
#include "seisvault/storage/ledger_batch.h"
#include "seisvault/storage/new_record.h"
#include "seisvault/storage/store_engine_stats.h"
#include "seisvault/storage/store_health.h"
#include "seisvault/storage/store_options.h"
#include "seisvault/storage/stored_record.h"

namespace seisvault::storage {

// The schema this code writes and reads. A store of version 1 (one summary
// entry per channel), 2 (pages of 64-byte summaries, no long CF), 3 (no
// record sequence numbers), 4 (records' bytes inside RocksDB) or 5 (no
// ledger) is migrated when opened (records stored before 4 keep sequence
// number 0: found by time, not by sequence; records stored before 5 keep
// their bytes where they are; records stored before 6 have no ledger
// entry); opening a store of any other version fails with Incompatible rather
// than misreading it.
inline constexpr uint32_t kSchemaVersion = 6;

// The longest time a block of the records CF spans, from its first record's
// start to the latest end of any record in it: part of the schema (since
// version 3), not an option. A record that would stretch its block further
// starts a new block, so one record with a wrong time among good ones costs
// one more block, not a scan of the channel's whole history on every later
// read and duplicate check. A record that alone spans more (a 4096-byte
// record of 1 Hz data, 0.1 Hz state of health, a hostile end time) is a long
// record: alone in a block of the long CF, found through its own extent
// (ChannelSummary::max_long_extent_ns).
inline constexpr TimeNs kMaxBlockSpanNs = 3600 * kNanosPerSecond;

// An inclusive time window [begin_ns, end_ns].
struct TimeWindow {
  TimeNs begin_ns = kTimeMin;
  TimeNs end_ns = kTimeMax;
};

struct WriteStats {
  size_t stored = 0;
  size_t duplicates = 0;
  size_t blocks = 0;  // RocksDB entries written for the stored records
  size_t refused = 0; // records refused by a channel limit (kTooManyChannels, kTooManyNewChannels)
};

// How long records are kept, per network (retention).
struct RetentionPolicy {
  // Days of data kept for networks without an entry below; 0: for good.
  uint32_t default_days = 0;
  // Per network code (the NET of NET.STA.LOC.CHA): days; 0: for good.
  std::map<std::string, uint32_t, std::less<>> network_days;

  uint32_t days_for(std::string_view network) const {
    const auto it = network_days.find(network);
    return it == network_days.end() ? default_days : it->second;
  }
  // Whether anything ever expires.
  bool enabled() const {
    if (default_days > 0) return true;
    for (const auto& [_, days] : network_days) {
      if (days > 0) return true;
    }
    return false;
  }
};

// What one RecordStore::expire() pass removed.
struct ExpireStats {
  uint64_t channels = 0;       // channels that lost records
  uint64_t blocks = 0;
  uint64_t records = 0;
  uint64_t bytes = 0;          // the records' bytes
  uint64_t segment_files = 0;  // segment files deleted, and their size
  uint64_t segment_bytes = 0;
  uint64_t sequence_entries_before = 0;  // the sequence index now starts here (0: untouched)
  double seconds = 0;          // the whole pass
  double longest_hold_ms = 0;  // the longest time writes waited for it
};

class RecordStore {
 public:
  // Opens (or creates) the store in `dir`. Errors: IoError when RocksDB cannot
  // open it (missing directory with create_if_missing=false, a lock held by
  // another process, ...), Incompatible when the schema version differs,
  // Corruption when the catalog is inconsistent.
  static Result<std::unique_ptr<RecordStore>> open(const std::filesystem::path& dir,
                                                   const StoreOptions& options = {});
  ~RecordStore();
  RecordStore(const RecordStore&) = delete;
  RecordStore& operator=(const RecordStore&) = delete;

  // Writes `records` in one atomic RocksDB write batch, together with any new
  // catalog entries and the updated channel summaries. outcomes[i] tells what
  // became of records[i]: kStored, or kDuplicate when the same bytes (same
  // channel, start time, length and SHA-256) are already stored or appear
  // earlier in `records`. Records with the same channel and start time but
  // different bytes are all stored. A record of a channel the store does not
  // know yet creates it, unless the channel limits refuse it
  // (kTooManyChannels, kTooManyNewChannels: not stored, and neither is any
  // other record of that channel in `records`; see StoreOptions). New
  // channels are admitted in the order of their first record in `records`.
  // Finding a record's channel and sender is a hash lookup that allocates
  // nothing for known ones.
  //
  // With sync=true the write returns after the WAL is on disk (fsync); with
  // sync=false it is in the OS page cache and sync_wal() makes it durable.
  // On error nothing of the batch is stored. outcomes.size() must equal
  // records.size().
  //
  // Every stored record gets a sequence number: unique, increasing with
  // each write (commit order), with no gap between two writes; within a
  // write, in the order of its blocks (by channel id, then start time).
  // When `sequences` is not empty (it must then be records.size() long),
  // sequences[i] is records[i]'s number when it was stored, 0 otherwise
  // (meaningful only when write() returns OK).
  //
  // Unavailable, without writing anything, while the store is not ok
  // (health()): free space below StoreOptions::min_free_bytes, a failed
  // write RocksDB has not yet recovered from, or a failed fsync. A write or
  // sync that fails moves the store to paused or failed and returns
  // Unavailable too; the message says why and what to do.
  //
  // The ledger (docs/provenance.md): `batches` are the station batches the
  // records come from (NewRecord::ledger_batch indexes them). Each batch
  // with at least one record in `records` gets a ledger entry in the same
  // atomic write, chained to the one before, and each record it stores
  // points to it. A signed batch whose id is at or below the highest its
  // key has stored, and which is not that stored batch again (the same
  // record hashes), stores nothing: its records are kReplayed.
  Status write(std::span<const NewRecord> records, std::span<WriteOutcome> outcomes, bool sync,
               WriteStats* stats = nullptr, std::span<uint64_t> sequences = {},
               std::span<const LedgerBatch> batches = {});

  // The ledger's head: how many entries it holds and the last one's hash
  // (zeros when empty).
  LedgerHead ledger_head() const;

  // Calls visit(number, bytes) for each ledger entry from `first` (1 is the
  // first) on, in order, until it returns false; `bytes` is the entry's
  // encoding (common's ledger_entry.h), valid during the call. Corruption
  // for an entry key out of place.
  Status read_ledger(uint64_t first, const std::function<bool(uint64_t, std::string_view)>& visit) const;

  // Writes one ledger entry per key event (kind 2), chained after the
  // entries before, and keeps what registered_keys() returns, in one
  // synced write. InvalidArgument for a key, station key or patterns an
  // entry cannot hold.
  Status record_key_events(std::span<const KeyEvent> events);

  // The keys whose latest key event registered them (not revoked since).
  Result<std::vector<KeyRegistration>> registered_keys() const;

  // The highest batch id signing key `key_id` has stored; 0 when none.
  uint64_t highest_batch_id(std::string_view key_id) const;

  // The first record sequence number the ledger covers: every record
  // stored through write() with a batch from then on has a ledger entry
  // (the next sequence number when this code first opened the store).
  uint64_t ledger_since_sequence() const;

  // Keeps a checkpoint (common's ledger_checkpoint.h) of the ledger's first
  // `count` entries, durably (synced) before it returns.
  Status put_checkpoint(uint64_t count, std::string_view bytes);

  // Calls visit(count, bytes) for each checkpoint kept, in order of count,
  // until it returns false.
  Status read_checkpoints(const std::function<bool(uint64_t, std::string_view)>& visit) const;

  // Makes every write that has returned so far durable (fsync of the WAL).
  // A group-commit writer calls it once per interval, then acknowledges.
  // Unavailable when the store is failed, or paused by a failed write (what
  // was written before may then be lost with the log; RocksDB's recovery
  // flushes it, and a resend is answered DUPLICATE). A failed fsync is
  // fail-stop: the store is failed until it is reopened, because the kernel
  // may have dropped the unsynced pages and a later fsync could report
  // success without them.
  Status sync_wal();

  // Visits every record of the selected channels that overlaps `window`
  // (start <= window.end and end >= window.begin), channel by channel in
  // source-id order, and by start time within a channel (records with equal
  // start keep their arrival order). Records are byte-identical to what was
  // written. The visitor returns false to stop early. Errors: IoError or
  // Corruption from the database; an empty result is not an error.
  //
  // The visitor may block (a slow client): a read holds its snapshot and
  // iterator at most StoreOptions::max_read_snapshot_age, then lets them go
  // between two records and goes on with a fresh snapshot right after the
  // last record it delivered (per channel, in the order above). So a long
  // read never delivers a record twice, and never skips one that existed at
  // both snapshots; a record written in between may or may not appear (if it
  // does, it is in its place in the order). The channel list is taken once,
  // at the start: channels created during the read are not visited.
  Status read_records(const ChannelSelection& selection, TimeWindow window,
                      const std::function<bool(const StoredRecord&)>& visitor) const;

  // The sequence number the next stored record will get: every record with
  // a smaller number has been written (by a write() that returned; durable
  // only once the WAL is synced). 1 for a store that never stored a record
  // with a sequence number.
  uint64_t next_sequence() const;

  // The oldest sequence number the index still holds (the first record
  // stored since schema 4), or next_sequence() when there is none.
  Result<uint64_t> first_sequence() const;

  // Visits the records with sequence numbers in [from, until), in sequence
  // order, with StoredRecord::sequence set. Before reading a block,
  // want_channel(channel id, source id) is asked whether its channel is of
  // interest: blocks of other channels are skipped unread. The visitor
  // returns false to stop. One snapshot for the whole read: keep `until -
  // from` bounded (callers read in chunks). Records of blocks that are no
  // longer stored are skipped. Errors: IoError, Corruption.
  Status read_sequence(uint64_t from, uint64_t until,
                       const std::function<bool(uint32_t channel_id, std::string_view source_id)>& want_channel,
                       const std::function<bool(const StoredRecord&)>& visitor) const;

  // The first sequence number written at or after `commit_time` (wall
  // clock, when the write happened), or next_sequence() when none was.
  // A binary search over the index: exact when the clock never stepped
  // back between writes, close to it otherwise.
  Result<uint64_t> sequence_at(TimeNs commit_time) const;

  // The selected channels with their summaries, in source-id order.
  Result<std::vector<ChannelInfo>> list_channels(const ChannelSelection& selection) const;

  // Merged time spans per selected channel within `window` (records that
  // overlap the window are counted whole). tolerance_ns: see SpanMerger.
  // Channels without data in the window are left out.
  Result<std::vector<ChannelAvailability>> availability(const ChannelSelection& selection, TimeWindow window,
                                                        std::optional<TimeNs> tolerance_ns = {}) const;

  // Whether writes are taken now, and why not (see store_health.h).
  // Thread-safe; cheap (no I/O).
  StoreHealth health() const;

  // When paused: looks whether the cause has cleared (free space back above
  // the reserve; RocksDB recovered from the failed write, asking it to
  // resume at most once a second) and takes writes again if so. When ok:
  // refreshes the free space shown by health(). A failed store stays
  // failed. Returns the health after. Thread-safe; may wait for a write in
  // progress, and for RocksDB's recovery (a flush of the memtables).
  StoreHealth try_resume();

  // RocksDB's figures on the store's size, memory, compactions and write
  // stalls (store_engine_stats.h). Thread-safe; no I/O: RocksDB's in-memory
  // properties, about 70 us in all (mostly its per-level compaction
  // figures), fit for every /metrics scrape, not for a hot path.
  StoreEngineStats engine_stats() const;

  // Retention: removes the records of each channel that ended more than
  // policy.days_for(its network) days before `now`, by whole blocks and
  // ranges (a RocksDB DeleteRange per channel and step, never record by
  // record): a block goes once every record in it has ended before the
  // cutoff (blocks span at most kMaxBlockSpanNs, so data goes within about
  // an hour of its time). Channel summaries lose what was removed (counts,
  // bytes, first start) in the same atomic write; a channel left empty
  // disappears from list_channels(). The sequence index loses the writes
  // committed before the longest retention (kept whole while any network
  // keeps data for good). Segment files no remaining block names are
  // deleted, after the deletions are durable: that is when the space comes
  // back. Writes wait for it only a bounded step at a time (at most 4,096
  // blocks of one channel per step). Each step writes, in the same atomic
  // write, a ledger entry of what it removed (kind 3: the channel, the
  // cutoff, and how many records of each ledger entry went), so a verifier
  // tells removals from losses. Safe while writes and reads go on (a
  // read meeting a block whose segment was deleted skips it). One pass at
  // a time; backup() waits for it. When `cancel` is given and becomes true,
  // the pass stops at its next step (what it removed so far is consistent
  // and durable once the WAL is synced; the next pass goes on).
  Result<ExpireStats> expire(const RetentionPolicy& policy, TimeNs now, const std::atomic<bool>* cancel = nullptr);

  // Writes a consistent copy of the store into `dest`, a directory that
  // must not exist yet (its parent must): what every write that had
  // returned when the copy began stored, openable with open(dest) as a
  // store of its own. RocksDB's checkpoint (table files hard-linked when
  // `dest` is on the same file system, copied otherwise; the memtables
  // flushed first) and the segment files (full ones hard-linked or copied,
  // the active one copied up to its end). Runs while writes and reads go
  // on; retention waits for it. Everything is synced before it returns.
  // InvalidArgument when `dest` exists; IoError from the file system.
  struct BackupStats {
    uint64_t segment_files = 0;
    uint64_t segment_bytes = 0;
    uint64_t linked_segment_files = 0;  // hard links (no copy)
  };
  Result<BackupStats> backup(const std::filesystem::path& dest) const;

  const std::filesystem::path& dir() const;

  // The options the store was opened with (as normalized at open: e.g.
  // block_max_records at least 1), for callers that name a limit in a
  // message. Never changes.
  const StoreOptions& options() const;

  // Station metadata (inventory_document.h): documents the operator loaded,
  // kept verbatim by name in the default column family. The store neither
  // parses nor validates them; the caller validates before it puts.
  //
  // put_inventory: stores `xml` under `name`, replacing a document of that
  // name, with loaded_ns = now; returns after the write is on disk (synced).
  // InvalidArgument for a bad name (empty, over 255 bytes, '/', control
  // characters) or a document over kMaxInventoryBytes; Unavailable when the
  // store takes no writes (health()); IoError from the database.
  Status put_inventory(std::string_view name, std::string_view xml);
  // Removes the document `name` (synced). NotFound when there is none;
  // Unavailable and IoError as put_inventory.
  Status remove_inventory(std::string_view name);
  // Every document, sorted by name, read from one consistent snapshot. An
  // empty list when none was loaded. Corruption when a stored entry has a
  // bad shape; IoError from the database.
  Result<std::vector<InventoryDocument>> read_inventory() const;

 private:
  struct Impl;
  explicit RecordStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace seisvault::storage
