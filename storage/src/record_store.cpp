#include "seisvault/storage/record_store.h"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <limits>
#include <map>
#include <mutex>
#include <queue>
#include <shared_mutex>
#include <unordered_map>

#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/listener.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/sst_file_manager.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/utilities/options_util.h>
#include <rocksdb/write_batch.h>

#include <spdlog/spdlog.h>

#include "block_format.h"
#include "keys.h"
#include "seisvault/common/ledger_entry.h"
#include "seisvault/common/string_map.h"
#include "segment_files.h"
#include "store_file_system.h"
#include "store_log.h"
#include "write_index.h"

namespace seisvault::storage {

namespace {

constexpr const char* kRecordsCf = "records";
constexpr const char* kCatalogCf = "catalog";
constexpr const char* kSummaryCf = "summary";
constexpr const char* kLongCf = "long";
constexpr const char* kSequenceCf = "sequence";
constexpr const char* kLedgerCf = "ledger";
constexpr const char* kSegmentsDir = "segments";

// RocksDB's informational log of a read-only open: nowhere (the store's
// directory is not to change).
class SilentLog : public rocksdb::Logger {
 public:
  using rocksdb::Logger::Logv;
  void Logv(const char*, va_list) override {}
};

// Station metadata documents live in the default CF under this prefix
// ("inventory/" + name -> loaded time | document). No schema change: a store
// of any version holds none until one is put, and a program that knows
// nothing of them never reads these keys.
constexpr std::string_view kInventoryPrefix = "inventory/";

// How often the free space is looked at while the store takes writes.
constexpr auto kSpaceCheckInterval = std::chrono::milliseconds(100);
// How often a store paused by a write error asks RocksDB to resume.
constexpr auto kResumeInterval = std::chrono::seconds(1);

// Free bytes for an unprivileged writer on the filesystem holding `dir`;
// nullopt when it cannot be told.
std::optional<uint64_t> free_bytes(const std::filesystem::path& dir) {
  struct statvfs st {};
  if (::statvfs(dir.c_str(), &st) != 0) return std::nullopt;
  return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

std::string mib(uint64_t bytes) { return fmt::format("{:.0f} MiB", static_cast<double>(bytes) / (1 << 20)); }

// Tells the store when RocksDB has recovered from a background error on its
// own (after a full disk, RocksDB's SstFileManager polls for free space and
// resumes the database).
class RecoveryListener : public rocksdb::EventListener {
 public:
  void OnErrorRecoveryEnd(const rocksdb::BackgroundErrorRecoveryInfo& info) override {
    if (info.new_bg_error.ok()) recovered.store(true);
  }
  std::atomic<bool> recovered{false};
};

Status from_rocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return {};
  if (s.IsCorruption()) return Status::corruption(fmt::format("{}: {}", what, s.ToString()));
  return Status::io_error(fmt::format("{}: {}", what, s.ToString()));
}

rocksdb::Slice slice(std::string_view v) { return {v.data(), v.size()}; }
std::string_view view(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

TimeNs sat_sub(TimeNs a, TimeNs b) {
  TimeNs r;
  if (__builtin_sub_overflow(a, b, &r)) return b > 0 ? kTimeMin : kTimeMax;
  return r;
}

// ChannelSummary <-> 72 bytes, little-endian. A summary with no records
// (all zeros) is an empty slot of a summary page.
void encode_summary(const ChannelSummary& s, char* out) {
  const int64_t fields[] = {s.first_start_ns,
                            s.last_end_ns,
                            s.last_start_ns,
                            static_cast<int64_t>(s.record_count),
                            static_cast<int64_t>(s.byte_count),
                            std::bit_cast<int64_t>(s.sample_rate),
                            s.last_receive_ns,
                            s.max_extent_ns,
                            s.max_long_extent_ns};
  static_assert(sizeof fields == keys::kSummarySize);
  std::memcpy(out, fields, sizeof fields);
}

// Reads a summary of schema 3 (72 bytes) or of schemas 1 and 2 (64 bytes:
// without max_long_extent_ns, which is then 0: those stores kept every
// record in the records CF).
bool decode_summary(std::string_view v, ChannelSummary& s) {
  if (v.size() != keys::kSummarySize && v.size() != keys::kSummarySizeV2) return false;
  int64_t f[9] = {};
  std::memcpy(f, v.data(), v.size());
  s.first_start_ns = f[0];
  s.last_end_ns = f[1];
  s.last_start_ns = f[2];
  s.record_count = static_cast<uint64_t>(f[3]);
  s.byte_count = static_cast<uint64_t>(f[4]);
  s.sample_rate = std::bit_cast<double>(f[5]);
  s.last_receive_ns = f[6];
  s.max_extent_ns = f[7];
  s.max_long_extent_ns = f[8];
  return true;
}

// How far a record reaches past its start. A record whose end lies before
// its start (the validator never hands one over) counts as reaching its
// start, so that a block's extent always covers its records' starts too.
TimeNs record_span(TimeNs start, TimeNs end) { return std::max<TimeNs>(0, sat_sub(end, start)); }
TimeNs record_reach(TimeNs start, TimeNs end) { return std::max(start, end); }

// Records that alone span more than kMaxBlockSpanNs live in the long CF.
bool is_long_record(TimeNs start, TimeNs end) { return record_span(start, end) > kMaxBlockSpanNs; }

// NET.STA of a source id (ids are escaped: a '.' only separates codes).
std::string_view station_of(std::string_view source_id) {
  const auto net = source_id.find('.');
  if (net == std::string_view::npos) return source_id;
  return source_id.substr(0, source_id.find('.', net + 1));
}

// A monotonic clock read without a system call and cheaper than
// steady_clock (a few ms coarse): read once per record delivered by a read,
// against limits of tens of ms and more.
int64_t coarse_now_ns() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return int64_t{ts.tv_sec} * kNanosPerSecond + ts.tv_nsec;
}

std::string encode_u32(uint32_t v) {
  std::string s(4, '\0');
  keys::put_u32_be(reinterpret_cast<uint8_t*>(s.data()), v);
  return s;
}

// Whether files in `dir` can be opened with O_DIRECT (tmpfs, for one, cannot).
bool supports_direct_io(const std::filesystem::path& dir) {
  const auto probe = dir / ".direct-io-probe";
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_DIRECT | O_CLOEXEC, 0600);
  if (fd >= 0) ::close(fd);
  std::error_code ec;
  std::filesystem::remove(probe, ec);
  return fd >= 0;
}

// Column-family options, chosen for the access pattern:
//  - records: written in large batches, read by seeking to (channel, time)
//    and scanning forward. Keys share a 4-byte channel prefix, so a prefix
//    bloom filter lets a scan skip SST files without that channel. Values are
//    Steim-compressed waveforms that general-purpose compression cannot
//    shrink, so compression is off (it would only cost CPU). Large memtables
//    keep write amplification near 2 (WAL + one flush) during ingest bursts.
//  - catalog, summary: tiny, point lookups: whole-key bloom filters.
// The memtable insert hint of the records and long CFs: the channel id of a
// block key, and no hint for any other key. RocksDB before 9.2 looks up the
// hint of a range deletion's start key too and uses it in the range
// tombstones' own skiplist (rocksdb#12558, #5118): Debian's 7.8 then aborts
// in InlineSkipList::Insert, or puts later keys in the wrong list. Retention
// starts its range deletions at the bare 4-byte channel prefix, which sorts
// before every block key of the channel and is outside this domain, so range
// tombstones never touch a hint.
class BlockKeyHint final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "seisvault.BlockKeyHint"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return {key.data(), keys::kChannelPrefixSize};
  }
  bool InDomain(const rocksdb::Slice& key) const override { return key.size() == keys::kRecordKeySize; }
};

rocksdb::ColumnFamilyOptions records_cf_options(const StoreOptions& o,
                                                const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions cf;
  cf.write_buffer_size = o.memtable_mib << 20;
  cf.max_write_buffer_number = std::max(2, o.max_memtables);
  cf.min_write_buffer_number_to_merge = 1;
  cf.compression = rocksdb::kNoCompression;
  cf.bottommost_compression = rocksdb::kNoCompression;
  cf.prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(keys::kChannelPrefixSize));
  cf.memtable_prefix_bloom_size_ratio = 0.02;
  // Inserts with a per-channel hint: RocksDB remembers where the last key of
  // each channel went in the (one, ordered) skiplist, and a channel's blocks
  // mostly arrive in time order, so an insert starts next to its place
  // instead of searching from the top through every channel's entries
  // (without it the committer costs 3.35 instead of 2.3 us per record,
  // bench_ingest --sustained). Only for block keys: see BlockKeyHint.
  cf.memtable_insert_with_hint_prefix_extractor = std::make_shared<BlockKeyHint>();
  // Universal compaction: every channel's new data lands in every flush (keys
  // interleave by channel), so leveled compaction would rewrite most of a
  // level on each L0 compaction. Universal compaction merges whole sorted
  // runs instead, writing each byte fewer times (at the cost of more space
  // while a merge runs).
  cf.compaction_style = rocksdb::kCompactionStyleUniversal;
  cf.compaction_options_universal.size_ratio = 10;
  cf.compaction_options_universal.min_merge_width = 4;
  cf.compaction_options_universal.max_size_amplification_percent = 200;
  cf.level0_file_num_compaction_trigger = 4;
  cf.level0_slowdown_writes_trigger = 20;
  cf.level0_stop_writes_trigger = 40;
  rocksdb::BlockBasedTableOptions t;
  t.block_cache = cache;
  t.block_size = 64 * 1024;
  t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  t.whole_key_filtering = false;  // never a point lookup of a full key
  t.cache_index_and_filter_blocks = true;
  t.pin_l0_filter_and_index_blocks_in_cache = true;
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  return cf;
}

// The long CF holds records that alone span more than kMaxBlockSpanNs, one
// per block: low-rate channels with large records, and bad clocks. Little
// data, read like the records CF (prefix scans per channel), so the same
// table layout with a small memtable.
rocksdb::ColumnFamilyOptions long_cf_options(const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions cf;
  cf.write_buffer_size = 16 << 20;
  cf.compression = rocksdb::kNoCompression;
  cf.bottommost_compression = rocksdb::kNoCompression;
  cf.prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(keys::kChannelPrefixSize));
  cf.memtable_prefix_bloom_size_ratio = 0.02;
  rocksdb::BlockBasedTableOptions t;
  t.block_cache = cache;
  t.block_size = 64 * 1024;
  t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  t.whole_key_filtering = false;
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  return cf;
}

rocksdb::ColumnFamilyOptions small_cf_options(const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions cf;
  cf.write_buffer_size = 16 << 20;
  rocksdb::BlockBasedTableOptions t;
  t.block_cache = cache;
  t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  return cf;
}

// The summary CF's pages are rewritten by every write that touches their
// channels: the same keys again and again. A per-key insert hint puts each
// new version next to the previous one without a search through every page's.
rocksdb::ColumnFamilyOptions summary_cf_options(const std::shared_ptr<rocksdb::Cache>& cache) {
  auto cf = small_cf_options(cache);
  cf.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(keys::kSummaryPageKeySize));
  return cf;
}

// A block read from the records or long CF, kept while its records wait in the merge heap.
struct LoadedBlock {
  std::string value;
  std::string payload;  // format 3: read from its segment
  BlockView view;
  uint64_t seq = 0;
  uint32_t pending = 0;
};

// Where a record stands in a channel's read order: (start, block seq, index
// in block). Blocks are immutable, so a position names one record for good.
struct RecordPos {
  TimeNs start;
  uint64_t seq;
  uint32_t index;
  auto operator<=>(const RecordPos&) const = default;
};

struct PendingRecord {
  RecordPos pos;
  LoadedBlock* block;
  bool operator>(const PendingRecord& o) const { return pos > o.pos; }
};

// A new-channel token bucket of one sender (StoreOptions::max_new_channels_per_sender_per_hour).
struct ChannelBucket {
  double tokens = 0;
  int64_t refilled_ns = 0;  // steady clock
};

// A channel first seen in the write in progress: its id, or 0 and why it was refused.
struct BatchChannel {
  uint32_t id = 0;
  WriteOutcome refusal = WriteOutcome::kStored;
};

// What blocks still name of one segment file (keys::segment_use_key).
struct SegmentUse {
  uint64_t records = 0;
  uint64_t bytes = 0;
};

std::string encode_segment_use(const SegmentUse& u) {
  std::string v(16, '\0');
  keys::put_u64_be(reinterpret_cast<uint8_t*>(v.data()), u.records);
  keys::put_u64_be(reinterpret_cast<uint8_t*>(v.data()) + 8, u.bytes);
  return v;
}

// "IU" of "IU.ANMO.00.BHZ".
std::string_view network_of(std::string_view source_id) { return source_id.substr(0, source_id.find('.')); }

struct NewChannel {
  std::string name;
  uint32_t id;
  std::string_view sender;  // into the write's records
};

}  // namespace

struct RecordStore::Impl {
  std::filesystem::path dir;
  StoreOptions options;
  // The file system and environment RocksDB runs on (store_file_system.h),
  // and RocksDB's log (store_log.h). Declared before db: they outlive it.
  std::shared_ptr<WalGuard> wal_guard = std::make_shared<WalGuard>();
  std::unique_ptr<rocksdb::Env> env;
  std::shared_ptr<RecoveryListener> listener = std::make_shared<RecoveryListener>();
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;  // owned; destroyed before db
  rocksdb::ColumnFamilyHandle* meta = nullptr;
  rocksdb::ColumnFamilyHandle* records = nullptr;
  rocksdb::ColumnFamilyHandle* catalog = nullptr;
  rocksdb::ColumnFamilyHandle* summary = nullptr;
  rocksdb::ColumnFamilyHandle* long_records = nullptr;
  rocksdb::ColumnFamilyHandle* sequence = nullptr;
  rocksdb::ColumnFamilyHandle* ledger = nullptr;
  // The records' bytes (schema 5, segment_files.h). Appends under write_mutex.
  std::unique_ptr<SegmentFiles> segments;
  // Held by backup() and by retention's removal of segments: a backup
  // never links or copies a segment while it is deleted.
  mutable std::mutex maintenance_mutex;

  // The catalog in memory. Ids never change once assigned, so readers may
  // see more channels than their snapshot holds; those simply have no data.
  mutable std::shared_mutex catalog_mutex;
  std::map<std::string, uint32_t, std::less<>> channel_ids;  // sorted by source id
  std::unordered_map<uint32_t, std::string_view> channel_names;  // views into channel_ids' keys
  std::unordered_map<uint32_t, std::string> sender_names;

  // Writer state, guarded by write_mutex. channel_ids, channel_names and sender_names
  // change only under it too, so the writer reads them without the catalog
  // lock.
  std::mutex write_mutex;
  std::unordered_map<std::string_view, uint32_t> channel_index;  // views into channel_ids' keys
  std::unordered_map<std::string_view, uint32_t> sender_ids;     // views into sender_names
  std::unordered_map<uint32_t, ChannelSummary> summaries;
  std::map<uint64_t, SegmentUse> segment_use;  // segment -> what blocks still name of it
  // Per channel: writes of a block starting before the channel's latest
  // start (out of order: it may land among blocks retention is removing).
  std::unordered_map<uint32_t, uint64_t> out_of_order_writes;
  StringMap<uint32_t> station_channels;         // NET.STA -> channels in the catalog
  StringMap<ChannelBucket> new_channel_buckets;  // sender -> new-channel budget
  uint32_t next_channel_id = 1;
  uint32_t next_sender_id = 1;
  uint64_t next_seq = 1;
  // The next record sequence number: written by the writer under
  // write_mutex, read by anyone.
  std::atomic<uint64_t> next_record_seq{1};
  // The ledger's head and each signing key's highest batch id: written
  // under write_mutex and ledger_mutex (write(), record_key_events(), the
  // expire steps), so read under either.
  mutable std::mutex ledger_mutex;
  LedgerHead ledger_head;
  uint64_t ledger_since_seq = 1;
  std::unordered_map<std::string, uint64_t> highest_batch;
  // Per write, per batch: refused as a replay, and its entry number (0: none).
  std::vector<uint8_t> batch_replayed;
  std::vector<uint64_t> batch_entry;
  // Reused between writes so that a steady stream of batches does not allocate.
  std::vector<uint32_t> record_channel;
  std::vector<uint32_t> record_sender;
  std::vector<uint32_t> order;
  std::unordered_map<std::string_view, BatchChannel> batch_channels;  // views into the records
  std::unordered_map<std::string_view, uint32_t> batch_senders;
  std::vector<NewChannel> new_channels;
  std::vector<std::pair<std::string, uint32_t>> new_senders;
  std::string block_buffer;
  std::string payload_buffer;  // the write's records' bytes, appended to the active segment at once
  std::string page_buffer;
  std::string index_buffer;
  rocksdb::WriteBatch batch;

  // Health (store_health.h). `health` is guarded by health_mutex (read by
  // any thread); the rest by write_mutex.
  mutable std::mutex health_mutex;
  StoreHealth health;
  // kWriteError: RocksDB failed a write; kSegmentError: an append to a
  // segment failed (nothing of that write reached RocksDB).
  enum class Pause { kNone, kReserve, kWriteError, kSegmentError } pause = Pause::kNone;
  std::chrono::steady_clock::time_point next_space_check{};
  std::chrono::steady_clock::time_point next_resume{};
  bool recovered_since_failure = false;

  // Keeps the default column family's memtable from being empty (store_file_system.h):
  // when an append to the log fails, RocksDB's recovery retires that log
  // only if its flush has a memtable to switch. Under write_mutex.
  void keep_memtable_nonempty();

  // Refuses a write when the store is not ok, looking at the free space
  // first when it is due. Under write_mutex.
  Status check_writable();
  // Pauses the store when the free space is below the reserve; false then.
  bool check_reserve(std::chrono::steady_clock::time_point now);
  // Free space again above the reserve, or RocksDB recovered: back to ok.
  void try_resume_locked();
  void refresh_free_space(std::chrono::steady_clock::time_point now);
  void set_state(StoreState state, std::string message);
  // An append to a segment failed (or a new one could not be made): nothing
  // of the write is stored; paused until try_resume_locked() retries.
  Status segment_failed(const Status& cause);
  StoreState state() const;
  Status unavailable() const;

  ~Impl() {
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    handles.clear();
  }

  Status load();
  Status load_ledger();
  // The entry number of (key id, batch id), if the ledger has one.
  Result<uint64_t> ledger_entry_of(std::string_view key_id, uint64_t batch_id) const;
  // Marks write()'s batches that are replays (batch_replayed).
  Status find_replays(std::span<const LedgerBatch> batches);
  // Chains `e` after `head` (its number and the previous entry's hash),
  // adds it to `wb` and moves `head` on to it. The writers (under
  // write_mutex, which every change of ledger_head holds) start from
  // ledger_head as it is.
  void chain_ledger_entry(rocksdb::WriteBatch& wb, LedgerEntry& e, LedgerHead& head) const;
  // One bounded step of expire() for one channel: how many blocks it
  // removed (fewer than kExpireStepBlocks: the channel is done). Reads the
  // expired blocks without the write lock, then takes it to write the
  // deletion (scanning again under it if the channel took an out-of-order
  // write meanwhile).
  // Writes, in the same batch, a ledger entry of what it removed (kind 3).
  Result<size_t> expire_step(uint32_t channel_id, std::string_view channel, TimeNs cutoff, ExpireStats& stats);
  struct ExpireScan;
  // The expired blocks of one step, and what they hold.
  Status scan_expired(uint32_t channel_id, const ChannelSummary& s, TimeNs cutoff, ExpireScan& out) const;
  // The start of the channel's first block at or after `from` in `cf`.
  std::optional<TimeNs> first_block_start(rocksdb::ColumnFamilyHandle* cf, uint32_t channel_id,
                                          std::string_view from) const;
  Status migrate_summaries(uint32_t from_version);
  // Whether a record of the new channel `source_id` from `sender` may create
  // it: kStored (counted), or the refusal.
  WriteOutcome admit_channel(std::string_view source_id, std::string_view sender, int64_t now);
  // Undoes admit_channel() for a channel whose write failed.
  void unadmit_channel(std::string_view source_id, std::string_view sender);
  // Puts into `wb` every summary page holding a channel of `updated` (sorted
  // by channel id): `summaries` with `updated` laid over it.
  void put_summary_pages(rocksdb::WriteBatch& wb, std::span<const std::pair<uint32_t, ChannelSummary>> updated,
                         std::string& buffer) const;
  void encode_page(uint32_t page, std::span<const std::pair<uint32_t, ChannelSummary>> updated, std::string& out) const;
  // Whether `r` is stored already; opens the iterators it needs on first use.
  Result<bool> is_stored_duplicate(std::unique_ptr<rocksdb::Iterator>& main_it,
                                   std::unique_ptr<rocksdb::Iterator>& long_it, uint32_t channel_id,
                                   const ChannelSummary& s, const NewRecord& r) const;
  std::vector<std::pair<uint32_t, std::string>> selected_channels(const ChannelSelection& sel) const;
  // A format-3 block's payload, read from its segment into `payload` and
  // attached to `view`; nothing to do for older formats. NotFound when the
  // segment is gone (retention removed the block meanwhile).
  Status load_payload(BlockView& view, std::string& payload) const;
  Result<bool> read_summary(const rocksdb::Snapshot* snap, uint32_t channel_id, ChannelSummary& out) const;
  // visit(const BlockEntry&, const RecordPos&) -> bool (false: stop).
  // after: when set, only records past that position are visited.
  template <class Visit>
  Status scan_channel(const rocksdb::Snapshot* snap, uint32_t channel_id, std::string_view source_id,
                      const ChannelSummary& s, TimeWindow w, const std::optional<RecordPos>& after,
                      Visit&& visit) const;
};

RecordStore::RecordStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RecordStore::~RecordStore() = default;
const std::filesystem::path& RecordStore::dir() const { return impl_->dir; }

namespace {

// Blocks of one channel removed per expire step: the longest writes wait
// for retention (a few milliseconds).
constexpr size_t kExpireStepBlocks = 4096;
constexpr TimeNs kNanosPerDay = TimeNs{86400} * kNanosPerSecond;

}  // namespace

std::optional<TimeNs> RecordStore::Impl::first_block_start(rocksdb::ColumnFamilyHandle* cf, uint32_t channel_id,
                                                           std::string_view from) const {
  rocksdb::ReadOptions ro;
  ro.prefix_same_as_start = true;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, cf));
  it->Seek(slice(from));
  keys::DecodedRecordKey k;
  if (!it->Valid() || !keys::decode_record_key(view(it->key()), k) || k.channel_id != channel_id) return std::nullopt;
  return k.start;
}

struct RecordStore::Impl::ExpireScan {
  struct Range {
    rocksdb::ColumnFamilyHandle* cf = nullptr;
    std::string end;  // exclusive: just after the last expired key
  };
  std::vector<Range> ranges;
  std::map<uint64_t, SegmentUse> freed;
  size_t blocks = 0;
  uint64_t records = 0;
  uint64_t bytes = 0;
  std::map<uint64_t, uint32_t> by_entry;  // ledger entry -> its records among them
  uint64_t unledgered = 0;                // records of no entry (stored before the ledger)
};

Status RecordStore::Impl::scan_expired(uint32_t channel_id, const ChannelSummary& s, TimeNs cutoff,
                                       ExpireScan& out) const {
  out = ExpireScan{};
  const auto begin = keys::record_key(channel_id, kTimeMin, 0);
  BlockView block;
  // A block of a CF goes when its key time plus the channel's extent in
  // that CF (the farthest any record of a block reaches past its key) is
  // before the cutoff: every record in it has ended by then.
  for (auto [cf, extent] : {std::pair{records, s.max_extent_ns}, std::pair{long_records, s.max_long_extent_ns}}) {
    if (cf == long_records && extent == 0) continue;  // no long records
    const TimeNs limit = sat_sub(cutoff, extent);
    if (out.blocks >= kExpireStepBlocks || s.first_start_ns >= limit) continue;
    const auto end = keys::record_key(channel_id, limit, 0);
    rocksdb::Slice upper(reinterpret_cast<const char*>(end.data()), end.size());
    rocksdb::ReadOptions ro;
    ro.iterate_upper_bound = &upper;
    ro.prefix_same_as_start = true;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, cf));
    std::string last;
    for (it->Seek(slice(keys::as_view(begin))); it->Valid() && out.blocks < kExpireStepBlocks; it->Next()) {
      if (auto st = block.parse(view(it->value())); !st.ok()) {
        return Status::corruption(fmt::format("{} (channel {}, while expiring)", st.message(), channel_id));
      }
      uint64_t bytes = 0;
      for (uint32_t i = 0; i < block.size(); ++i) {
        const auto e = block.entry(i);
        bytes += e.length;
        if (e.ledger_entry != 0) {
          ++out.by_entry[e.ledger_entry];
        } else {
          ++out.unledgered;
        }
      }
      if (block.payload_elsewhere()) {
        auto& f = out.freed[block.payload_location().segment];
        f.records += block.size();
        f.bytes += bytes;
      }
      out.records += block.size();
      out.bytes += bytes;
      ++out.blocks;
      last.assign(it->key().data(), it->key().size());
    }
    if (!it->status().ok()) return from_rocks(it->status(), "expiring records");
    if (!last.empty()) out.ranges.push_back({cf, last + '\0'});  // the smallest key after the last one
  }
  return {};
}

Result<size_t> RecordStore::Impl::expire_step(uint32_t channel_id, std::string_view channel, TimeNs cutoff,
                                              ExpireStats& stats) {
  ExpireScan scan;
  std::unique_lock lock(write_mutex);
  auto held = std::chrono::steady_clock::now();
  // Blocks never change and only retention removes them, so the expired
  // range read without the lock is what is there when the lock is taken
  // again, unless a write put a block among them meanwhile: only a block
  // starting before the channel's latest start can (out_of_order_writes).
  // Then the range is read again, under the lock.
  for (int attempt = 0;; ++attempt) {
    if (state() == StoreState::kFailed) return unavailable();
    const auto found = summaries.find(channel_id);
    if (found == summaries.end() || found->second.record_count == 0) return size_t{0};
    const ChannelSummary seen = found->second;
    const uint64_t generation = out_of_order_writes[channel_id];
    const bool locked_scan = attempt >= 2;
    if (!locked_scan) lock.unlock();
    auto st = scan_expired(channel_id, seen, cutoff, scan);
    if (!locked_scan) {
      lock.lock();
      held = std::chrono::steady_clock::now();
    }
    if (!st.ok()) return st;
    if (locked_scan || out_of_order_writes[channel_id] == generation) break;
  }
  if (scan.blocks == 0) return size_t{0};

  // Range deletions start at the bare channel prefix (BlockKeyHint).
  std::string range_begin(4, '\0');
  keys::put_u32_be(reinterpret_cast<uint8_t*>(range_begin.data()), channel_id);
  rocksdb::WriteBatch wb;
  for (const auto& r : scan.ranges) wb.DeleteRange(r.cf, slice(range_begin), slice(r.end));
  // The first block left: after the deleted range in each CF (the batch is
  // not written yet, so look past it).
  std::optional<TimeNs> first_left;
  const auto begin = keys::record_key(channel_id, kTimeMin, 0);
  for (auto* cf : {records, long_records}) {
    std::string from(keys::as_view(begin));
    for (const auto& r : scan.ranges) {
      if (r.cf == cf) from = r.end;
    }
    const auto left = first_block_start(cf, channel_id, from);
    if (left && (!first_left || *left < *first_left)) first_left = left;
  }
  const ChannelSummary before = summaries[channel_id];
  ChannelSummary after = before;
  after.record_count = before.record_count - std::min(before.record_count, scan.records);
  after.byte_count = before.byte_count - std::min(before.byte_count, scan.bytes);
  if (first_left) {
    after.first_start_ns = *first_left;
  } else {  // nothing left: the channel has no data (its extents stay)
    after = ChannelSummary{};
    after.max_extent_ns = before.max_extent_ns;
    after.max_long_extent_ns = before.max_long_extent_ns;
  }
  const std::pair<uint32_t, ChannelSummary> updated{channel_id, after};
  put_summary_pages(wb, {&updated, 1}, page_buffer);
  std::map<uint64_t, SegmentUse> use_after;
  for (const auto& [segment, f] : scan.freed) {
    SegmentUse u = segment_use.count(segment) ? segment_use[segment] : SegmentUse{};
    u.records -= std::min(u.records, f.records);
    u.bytes -= std::min(u.bytes, f.bytes);
    use_after[segment] = u;
    wb.Put(meta, slice(keys::segment_use_key(segment)), slice(encode_segment_use(u)));
  }
  // The ledger says what went, chained after the entries before.
  LedgerEntry removal;
  removal.kind = kLedgerKindRetention;
  removal.receive_ns = now_ns();
  removal.cutoff_ns = cutoff;
  removal.channel = std::string(channel);
  removal.removed_unledgered = scan.unledgered;
  removal.removed.assign(scan.by_entry.begin(), scan.by_entry.end());
  LedgerHead head = ledger_head;
  chain_ledger_entry(wb, removal, head);
  if (auto s = db->Write({}, &wb); !s.ok()) return from_rocks(s, "expiring records");
  {
    std::lock_guard ledger_lock(ledger_mutex);
    ledger_head = head;
  }
  summaries[channel_id] = after;
  for (const auto& [segment, u] : use_after) segment_use[segment] = u;
  stats.blocks += scan.blocks;
  stats.records += scan.records;
  stats.bytes += scan.bytes;
  stats.longest_hold_ms = std::max(
      stats.longest_hold_ms, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - held).count());
  return scan.blocks;
}

Result<ExpireStats> RecordStore::expire(const RetentionPolicy& policy, TimeNs now, const std::atomic<bool>* cancel) {
  Impl& m = *impl_;
  ExpireStats out;
  if (!policy.enabled()) return out;
  const auto cancelled = [cancel] { return cancel != nullptr && cancel->load(); };
  const auto started = std::chrono::steady_clock::now();
  std::lock_guard maintenance(m.maintenance_mutex);

  // 1. Blocks, channel by channel, a bounded step at a time under the write lock.
  for (const auto& [id, name] : m.selected_channels(ChannelSelection())) {
    const uint32_t days = policy.days_for(network_of(name));
    if (days == 0) continue;
    const TimeNs cutoff = sat_sub(now, TimeNs{days} * kNanosPerDay);
    bool touched = false;
    for (;;) {
      if (cancelled()) break;
      auto step = m.expire_step(id, name, cutoff, out);
      if (!step.ok()) return step.status();
      if (*step == 0) break;
      touched = true;
      if (*step < kExpireStepBlocks) break;
    }
    if (touched) ++out.channels;
  }
  // 2. The deletions are durable before any file goes.
  if (out.blocks > 0) {
    if (auto st = sync_wal(); !st.ok()) return st;
  }

  // 3. The sequence index: writes committed before the longest retention,
  // unless some network keeps its data for good.
  uint32_t longest = policy.default_days;
  for (const auto& [_, days] : policy.network_days) longest = days == 0 || longest == 0 ? 0 : std::max(longest, days);
  if (longest > 0) {
    auto first_kept = sequence_at(sat_sub(now, TimeNs{longest} * kNanosPerDay));
    if (!first_kept.ok()) return first_kept.status();
    auto first = first_sequence();
    if (!first.ok()) return first.status();
    if (*first_kept > *first) {
      const auto from = keys::sequence_key(0);
      const auto to = keys::sequence_key(*first_kept);
      rocksdb::WriteOptions wo;
      wo.sync = true;
      if (auto s = m.db->DeleteRange(wo, m.sequence, slice(keys::as_view(from)), slice(keys::as_view(to))); !s.ok()) {
        return from_rocks(s, "trimming the sequence index");
      }
      out.sequence_entries_before = *first_kept;
    }
  }

  // 4. Segment files no block names any more (and files of writes that
  // never reached RocksDB: no entry), except the one appends go to.
  std::map<uint64_t, SegmentUse> use;
  uint64_t active = 0;
  {
    std::lock_guard lock(m.write_mutex);
    use = m.segment_use;
    active = m.segments->active();
  }
  for (const auto& info : m.segments->list()) {
    if (cancelled()) break;
    if (info.segment >= active) continue;
    const auto u = use.find(info.segment);
    if (u != use.end() && u->second.records > 0) continue;
    // Paced like RocksDB's own deletions (StoreOptions::delete_rate_mib_per_s):
    // a 256 MiB file unlinked at once stalls every fsync meanwhile.
    if (auto st = m.segments->remove(info.segment, m.options.delete_chunk_mib << 20, m.options.delete_rate_mib_per_s << 20);
        !st.ok()) {
      return st;
    }
    ++out.segment_files;
    out.segment_bytes += info.bytes;
    if (u != use.end()) {
      std::lock_guard lock(m.write_mutex);
      rocksdb::WriteOptions wo;
      wo.sync = true;
      if (auto s = m.db->Delete(wo, m.meta, slice(keys::segment_use_key(info.segment))); !s.ok()) {
        return from_rocks(s, "forgetting a deleted segment");
      }
      m.segment_use.erase(info.segment);
    }
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return out;
}

Result<RecordStore::BackupStats> RecordStore::backup(const std::filesystem::path& dest) const {
  const Impl& m = *impl_;
  std::error_code ec;
  if (std::filesystem::exists(dest, ec)) {
    return Status::invalid_argument(fmt::format("{} exists already: a backup goes into a new directory", dest.string()));
  }
  std::lock_guard lock(m.maintenance_mutex);
  rocksdb::Checkpoint* raw = nullptr;
  if (auto s = rocksdb::Checkpoint::Create(m.db.get(), &raw); !s.ok()) return from_rocks(s, "starting a backup");
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  // Flushes the memtables first (log_size_for_flush 0), so the copy needs
  // no log replay; every block it holds names bytes already in a segment
  // (they are synced before their block is written), so the segments are
  // copied after it.
  if (auto s = checkpoint->CreateCheckpoint(dest.string(), 0); !s.ok()) {
    return Status::io_error(fmt::format("cannot write a backup to {}: {}", dest.string(), s.ToString()));
  }
  BackupStats stats;
  if (auto st = m.segments->copy_into(dest / kSegmentsDir, stats.segment_files, stats.segment_bytes,
                                      stats.linked_segment_files);
      !st.ok()) {
    return st;
  }
  return stats;
}
const StoreOptions& RecordStore::options() const { return impl_->options; }

Result<std::unique_ptr<RecordStore>> RecordStore::open(const std::filesystem::path& dir,
                                                       const StoreOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  impl->options = options;
  // A block holds at least one record, whatever the options say.
  impl->options.block_max_records = std::max<uint32_t>(1, options.block_max_records);
  if (options.create_if_missing && !options.read_only) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Status::io_error(fmt::format("cannot create store directory {}: {}", dir.string(), ec.message()));
  }

  auto cache = rocksdb::NewLRUCache(options.block_cache_mib << 20);
  rocksdb::DBOptions db_options;
  impl->env = rocksdb::NewCompositeEnv(
      make_store_file_system(rocksdb::FileSystem::Default(), impl->wal_guard, options.faults));
  db_options.env = impl->env.get();
  // RocksDB's own log writer aborts the process on a full disk (store_log.h).
  if (options.read_only) {
    db_options.info_log = std::make_shared<SilentLog>();
  } else {
    db_options.info_log = std::make_shared<StoreLog>(dir);
  }
  db_options.listeners.push_back(impl->listener);
  db_options.create_if_missing = options.create_if_missing && !options.read_only;
  // Always: a store of schema 2 or older has no long CF yet, and gets it
  // (empty) whether or not new stores may be created.
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = options.background_jobs;
  db_options.bytes_per_sync = 1 << 20;
  // Table files are written and read with O_DIRECT when the filesystem
  // allows it. Flushes and compactions write hundreds of MiB that nobody
  // reads back soon: through the page cache they cost a kernel copy per byte
  // and evict what queries read (bench_ingest, backfill pattern: 237 k ->
  // 300 k rec/s). Compactions then read every byte back, a copy per byte
  // again (round-robin, 5 M records: 274 k -> 293 k rec/s, 5.3 -> 5.0 s CPU
  // per million). The block cache is then the only cache of table data.
  const bool direct = options.direct_io && supports_direct_io(dir);
  db_options.use_direct_io_for_flush_and_compaction = direct;
  db_options.use_direct_reads = direct;
  db_options.compaction_readahead_size = 2 << 20;
  db_options.max_total_wal_size = 1ull << 30;
  if (options.delete_rate_mib_per_s > 0 && !options.read_only) {
    // Through RocksDB's delete scheduler (see StoreOptions): files go to
    // trash and are truncated chunk by chunk, each chunk a short hold-up.
    rocksdb::Status st;
    db_options.sst_file_manager.reset(rocksdb::NewSstFileManager(
        rocksdb::Env::Default(), nullptr, "", static_cast<int64_t>(options.delete_rate_mib_per_s) << 20,
        /*delete_existing_trash=*/true, &st, options.deleted_backlog_ratio, uint64_t{options.delete_chunk_mib} << 20));
    if (!st.ok()) return Status::io_error(fmt::format("cannot set up file deletion: {}", st.ToString()));
  }
  db_options.keep_log_file_num = 5;
  // One writer (the committer); insert hints work only without concurrent memtable writes.
  db_options.allow_concurrent_memtable_write = false;

  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
      {rocksdb::kDefaultColumnFamilyName, small_cf_options(cache)},
      {kRecordsCf, records_cf_options(options, cache)},
      {kCatalogCf, small_cf_options(cache)},
      {kSummaryCf, summary_cf_options(cache)},
      {kLongCf, long_cf_options(cache)},
      {kSequenceCf, small_cf_options(cache)},
      {kLedgerCf, small_cf_options(cache)},
  };
  rocksdb::DB* raw = nullptr;
  auto s = options.read_only ? rocksdb::DB::OpenForReadOnly(db_options, dir.string(), cfs, &impl->handles, &raw)
                              : rocksdb::DB::Open(db_options, dir.string(), cfs, &impl->handles, &raw);
  if (!s.ok()) {
    return Status::io_error(fmt::format(
        "cannot open the record store in {}{}: {}", dir.string(),
        options.read_only ? " read-only (a store of an older schema is migrated by seisvaultd when it opens it)" : "",
        s.ToString()));
  }
  impl->db.reset(raw);
  impl->meta = impl->handles[0];
  impl->records = impl->handles[1];
  impl->catalog = impl->handles[2];
  impl->summary = impl->handles[3];
  impl->long_records = impl->handles[4];
  impl->sequence = impl->handles[5];
  impl->ledger = impl->handles[6];

  // Schema version: written on creation, checked on every later open.
  std::string version;
  s = impl->db->Get({}, impl->meta, slice(keys::kSchemaVersionKey), &version);
  if (options.read_only && s.ok() && version != std::to_string(kSchemaVersion)) {
    return Status::incompatible(fmt::format("store in {} has schema version {}, and opened read-only it cannot be "
                                            "migrated to {}: let seisvaultd open it once (it migrates), or open a "
                                            "copy read-write",
                                            dir.string(), version, kSchemaVersion));
  }
  if (options.read_only && !s.ok()) {
    return s.IsNotFound() ? Status::incompatible(fmt::format("{} holds no SeisVault store", dir.string()))
                          : from_rocks(s, "reading the schema version");
  }
  if (s.IsNotFound()) {
    rocksdb::ReadOptions total;
    total.total_order_seek = true;  // across channels: the only such read
    std::unique_ptr<rocksdb::Iterator> any(impl->db->NewIterator(total, impl->records));
    any->SeekToFirst();
    if (any->Valid()) return Status::incompatible("store has records but no schema version: not a SeisVault store");
    rocksdb::WriteOptions wo;
    wo.sync = true;
    s = impl->db->Put(wo, impl->meta, slice(keys::kSchemaVersionKey), std::to_string(kSchemaVersion));
    if (!s.ok()) return from_rocks(s, "writing the schema version");
  } else if (!s.ok()) {
    return from_rocks(s, "reading the schema version");
  } else if (version == "1" || version == "2") {
    if (auto st = impl->migrate_summaries(version == "1" ? 1 : 2); !st.ok()) return st;
  } else if (version == "3" || version == "4" || version == "5") {
    // Schema 4 adds record sequence numbers: the sequence CF (created empty
    // at open) and block format 2. Schema 5 keeps new records' bytes in
    // segment files (block format 3). Schema 6 adds the ledger (its CF,
    // created empty at open) and block format 4, whose index entries name
    // their ledger entry. Older blocks stay as they are (their bytes
    // inline; before 4, their records without a number; before 6, without
    // a ledger entry): every format is read; nothing else changes.
    rocksdb::WriteOptions wo;
    wo.sync = true;
    s = impl->db->Put(wo, impl->meta, slice(keys::kSchemaVersionKey), std::to_string(kSchemaVersion));
    if (!s.ok()) return from_rocks(s, fmt::format("migrating the store from schema version {}", version));
  } else if (version != std::to_string(kSchemaVersion)) {
    return Status::incompatible(fmt::format("store in {} has schema version {}, this program reads version {}",
                                            dir.string(), version, kSchemaVersion));
  }
  auto segments = SegmentFiles::open(dir / kSegmentsDir, options.segment_mib << 20, options.faults, options.read_only);
  if (!segments.ok()) return segments.status();
  impl->segments = std::move(*segments);
  if (auto st = impl->load(); !st.ok()) return st;
  {
    std::lock_guard lock(impl->write_mutex);
    impl->health.since_ns = now_ns();
    impl->check_reserve(std::chrono::steady_clock::now());
  }
  return std::unique_ptr<RecordStore>(new RecordStore(std::move(impl)));
}

Status RecordStore::Impl::load() {
  std::string seq;
  auto s = db->Get({}, meta, slice(keys::kNextSeqKey), &seq);
  if (s.ok()) {
    if (seq.size() != 8) return Status::corruption("next block sequence number has a bad size");
    next_seq = keys::get_u64_be(reinterpret_cast<const uint8_t*>(seq.data()));
  } else if (!s.IsNotFound()) {
    return from_rocks(s, "reading the block sequence number");
  }
  s = db->Get({}, meta, slice(keys::kNextRecordSeqKey), &seq);
  if (s.ok()) {
    if (seq.size() != 8) return Status::corruption("next record sequence number has a bad size");
    next_record_seq.store(keys::get_u64_be(reinterpret_cast<const uint8_t*>(seq.data())));
  } else if (!s.IsNotFound()) {
    return from_rocks(s, "reading the record sequence number");
  }

  {
    std::unique_ptr<rocksdb::Iterator> su(db->NewIterator({}, meta));
    for (su->Seek(slice(keys::kSegmentUsePrefix)); su->Valid() && su->key().starts_with(slice(keys::kSegmentUsePrefix));
         su->Next()) {
      const auto k = view(su->key());
      const auto v = view(su->value());
      if (k.size() != keys::kSegmentUsePrefix.size() + 8 || v.size() != 16) {
        return Status::corruption("a segment entry has a bad size");
      }
      const auto* kp = reinterpret_cast<const uint8_t*>(k.data()) + keys::kSegmentUsePrefix.size();
      const auto* vp = reinterpret_cast<const uint8_t*>(v.data());
      segment_use[keys::get_u64_be(kp)] = {keys::get_u64_be(vp), keys::get_u64_be(vp + 8)};
    }
    if (!su->status().ok()) return from_rocks(su->status(), "reading the segment entries");
  }

  if (auto st = load_ledger(); !st.ok()) return st;
  {
    std::string since;
    auto got = db->Get({}, meta, slice(keys::kLedgerSinceSeqKey), &since);
    if (got.IsNotFound() && options.read_only) {
      ledger_since_seq = next_record_seq.load();  // never opened read-write since schema 6: nothing in the ledger
    } else if (got.IsNotFound()) {
      // First opened by a program that keeps the ledger: it covers what
      // comes from now on.
      ledger_since_seq = next_record_seq.load();
      since.assign(8, '\0');
      keys::put_u64_be(reinterpret_cast<uint8_t*>(since.data()), ledger_since_seq);
      rocksdb::WriteOptions wo;
      wo.sync = true;
      if (auto st = db->Put(wo, meta, slice(keys::kLedgerSinceSeqKey), slice(since)); !st.ok()) {
        return from_rocks(st, "writing where the ledger begins");
      }
    } else if (!got.ok() || since.size() != 8) {
      return got.ok() ? Status::corruption("where the ledger begins has a bad size")
                      : from_rocks(got, "reading where the ledger begins");
    } else {
      ledger_since_seq = keys::get_u64_be(reinterpret_cast<const uint8_t*>(since.data()));
    }
  }

  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator({}, catalog));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const auto k = view(it->key());
    const auto v = view(it->value());
    if (k.empty()) continue;
    if (k[0] == 'c' || k[0] == 's') {
      if (v.size() != 4) return Status::corruption(fmt::format("catalog entry '{}' has a bad id", k));
      const uint32_t id = keys::get_u32_be(reinterpret_cast<const uint8_t*>(v.data()));
      if (k[0] == 'c') {
        auto [entry, _] = channel_ids.emplace(std::string(k.substr(1)), id);
        channel_index.emplace(entry->first, id);
        channel_names.emplace(id, entry->first);
        ++station_channels[std::string(station_of(entry->first))];
        next_channel_id = std::max(next_channel_id, id + 1);
      } else {
        sender_names.emplace(id, std::string(k.substr(1)));
        next_sender_id = std::max(next_sender_id, id + 1);
      }
    }
  }
  if (!it->status().ok()) return from_rocks(it->status(), "reading the catalog");
  for (const auto& [id, name] : sender_names) sender_ids.emplace(name, id);

  std::unique_ptr<rocksdb::Iterator> si(db->NewIterator({}, summary));
  for (si->SeekToFirst(); si->Valid(); si->Next()) {
    const auto k = view(si->key());
    const auto v = view(si->value());
    if (k.size() != keys::kSummaryPageKeySize || k[0] != 'p' || v.size() != keys::kSummaryPageSize) {
      return Status::corruption("a channel summary page has a bad size");
    }
    const uint32_t page = keys::get_u32_be(reinterpret_cast<const uint8_t*>(k.data()) + 1);
    for (uint32_t slot = 0; slot < keys::kSummaryPageChannels; ++slot) {
      ChannelSummary cs;
      decode_summary(v.substr(slot * keys::kSummarySize, keys::kSummarySize), cs);
      if (cs.record_count > 0) summaries[page * keys::kSummaryPageChannels + slot] = cs;
    }
  }
  return from_rocks(si->status(), "reading channel summaries");
}

Status RecordStore::Impl::load_ledger() {
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator({}, ledger));
  // The last entry: its number is the count, its hash the head.
  it->SeekForPrev(slice(keys::ledger_entry_key(std::numeric_limits<uint64_t>::max())));
  if (it->Valid() && it->key().size() == 9 && it->key()[0] == 'e') {
    const uint64_t number = keys::get_u64_be(reinterpret_cast<const uint8_t*>(it->key().data()) + 1);
    auto entry = decode_ledger_entry(view(it->value()));
    if (!entry.ok()) return Status::corruption(fmt::format("ledger entry {}: {}", number, entry.status().message()));
    if (entry->number != number) {
      return Status::corruption(fmt::format("ledger entry under key {} says it is entry {}", number, entry->number));
    }
    ledger_head = {number, ledger_entry_hash(view(it->value()))};
  }
  if (!it->status().ok()) return from_rocks(it->status(), "reading the ledger's head");
  for (it->Seek("h"); it->Valid() && it->key().starts_with("h"); it->Next()) {
    const auto k = view(it->key());
    const auto v = view(it->value());
    if (k.size() < 2 || k.size() != size_t{2} + static_cast<uint8_t>(k[1]) || v.size() != 8) {
      return Status::corruption("a ledger key entry has a bad size");
    }
    highest_batch[std::string(k.substr(2))] = keys::get_u64_be(reinterpret_cast<const uint8_t*>(v.data()));
  }
  return from_rocks(it->status(), "reading the ledger's keys");
}

void RecordStore::Impl::chain_ledger_entry(rocksdb::WriteBatch& wb, LedgerEntry& e, LedgerHead& head) const {
  e.previous_hash = head.hash;
  e.number = head.count + 1;
  const std::string bytes = encode_ledger_entry(e);
  wb.Put(ledger, slice(keys::ledger_entry_key(e.number)), slice(bytes));
  head = {e.number, ledger_entry_hash(bytes)};
}

Result<uint64_t> RecordStore::Impl::ledger_entry_of(std::string_view key_id, uint64_t batch_id) const {
  std::string v;
  auto s = db->Get({}, ledger, slice(keys::ledger_batch_key(key_id, batch_id)), &v);
  if (s.IsNotFound()) return uint64_t{0};
  if (!s.ok()) return from_rocks(s, "reading the ledger");
  if (v.size() != 8) return Status::corruption("a ledger batch entry has a bad size");
  return keys::get_u64_be(reinterpret_cast<const uint8_t*>(v.data()));
}

Status RecordStore::Impl::find_replays(std::span<const LedgerBatch> batches) {
  batch_replayed.assign(batches.size(), 0);
  // Batches of this write by (key, id): a second one in the same write is
  // checked against the first.
  std::unordered_map<std::string_view, std::vector<size_t>> seen;
  for (size_t b = 0; b < batches.size(); ++b) {
    const auto& batch = batches[b];
    if (!batch.is_signed) continue;
    auto& earlier = seen[batch.key_id];
    bool same_as_earlier = false, replay = false;
    for (size_t e : earlier) {
      if (batches[e].batch_id != batch.batch_id) continue;
      same_as_earlier = batches[e].hashes.size() == batch.hashes.size() &&
                        std::equal(batch.hashes.begin(), batch.hashes.end(), batches[e].hashes.begin());
      replay = !same_as_earlier;
    }
    const auto h = highest_batch.find(std::string(batch.key_id));
    if (!replay && !same_as_earlier && h != highest_batch.end() && batch.batch_id <= h->second) {
      // At or below the highest stored: only the very batch stored before.
      auto number = ledger_entry_of(batch.key_id, batch.batch_id);
      if (!number.ok()) return number.status();
      replay = true;
      if (*number != 0) {
        std::string bytes;
        auto st = db->Get({}, ledger, slice(keys::ledger_entry_key(*number)), &bytes);
        if (!st.ok()) return from_rocks(st, fmt::format("reading ledger entry {}", *number));
        auto entry = decode_ledger_entry(bytes);
        if (!entry.ok()) return entry.status();
        replay = entry->hashes.size() * 32 != batch.hashes.size();
        if (!replay) {
          for (size_t i = 0; i < entry->hashes.size(); ++i) {
            if (std::memcmp(entry->hashes[i].data(), batch.hashes.data() + 32 * i, 32) != 0) {
              replay = true;
              break;
            }
          }
        }
      }
    }
    batch_replayed[b] = replay ? 1 : 0;
    earlier.push_back(b);
  }
  return {};
}

LedgerHead RecordStore::ledger_head() const {
  std::lock_guard lock(impl_->ledger_mutex);
  return impl_->ledger_head;
}

uint64_t RecordStore::highest_batch_id(std::string_view key_id) const {
  std::lock_guard lock(impl_->ledger_mutex);
  const auto it = impl_->highest_batch.find(std::string(key_id));
  return it == impl_->highest_batch.end() ? 0 : it->second;
}

Status RecordStore::record_key_events(std::span<const KeyEvent> events) {
  for (const auto& e : events) {
    const auto& k = e.key;
    const bool fits = (k.is_signed ? k.key_id.size() == 32 : k.key_id.size() <= 255) &&
                      k.station_key.size() <= 0xffff && k.patterns.size() <= 0xffff;
    if (!fits) {
      return Status::invalid_argument(fmt::format(
          "a key event with a key id of {} bytes, a station key of {} and patterns of {}: more than an entry holds",
          k.key_id.size(), k.station_key.size(), k.patterns.size()));
    }
  }
  if (events.empty()) return {};
  Impl& m = *impl_;
  std::lock_guard lock(m.write_mutex);
  if (auto s = m.check_writable(); !s.ok()) return s;
  LedgerHead head = m.ledger_head;
  rocksdb::WriteBatch batch;
  for (const auto& ev : events) {
    LedgerEntry e;
    e.kind = kLedgerKindKeyEvent;
    e.is_signed = ev.key.is_signed;
    e.key_id = ev.key.key_id;
    e.key_event = ev.revoked ? kKeyRevoked : kKeyRegistered;
    e.receive_ns = ev.at;
    e.station_key = ev.key.station_key;
    e.station_patterns = ev.key.patterns;
    m.chain_ledger_entry(batch, e, head);
    const auto registration = keys::ledger_registration_key(e.key_id, e.is_signed);
    if (ev.revoked) {
      batch.Delete(m.ledger, slice(registration));
    } else {
      std::string number(8, '\0');
      keys::put_u64_be(reinterpret_cast<uint8_t*>(number.data()), e.number);
      batch.Put(m.ledger, slice(registration), slice(number));
    }
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  if (auto s = m.db->Write(wo, &batch); !s.ok()) return from_rocks(s, "writing key events to the ledger");
  std::lock_guard ledger_lock(m.ledger_mutex);
  m.ledger_head = head;
  return {};
}

Result<std::vector<KeyRegistration>> RecordStore::registered_keys() const {
  std::vector<KeyRegistration> out;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator({}, impl_->ledger));
  for (it->Seek("r"); it->Valid() && it->key().starts_with("r"); it->Next()) {
    if (it->value().size() != 8) return Status::corruption("a ledger key registration has a bad size");
    const uint64_t number = keys::get_u64_be(reinterpret_cast<const uint8_t*>(it->value().data()));
    std::string bytes;
    auto st = impl_->db->Get({}, impl_->ledger, slice(keys::ledger_entry_key(number)), &bytes);
    if (!st.ok()) return from_rocks(st, fmt::format("reading key event {}", number));
    auto e = decode_ledger_entry(bytes);
    if (!e.ok()) return Status::corruption(fmt::format("ledger entry {}: {}", number, e.status().message()));
    if (e->kind != kLedgerKindKeyEvent || e->key_event != kKeyRegistered) {
      return Status::corruption(fmt::format("ledger entry {} is named as a key registration but is none", number));
    }
    out.push_back({e->key_id, e->is_signed, e->station_key, e->station_patterns});
  }
  if (!it->status().ok()) return from_rocks(it->status(), "reading the ledger's key registrations");
  return out;
}

uint64_t RecordStore::ledger_since_sequence() const { return impl_->ledger_since_seq; }

Status RecordStore::put_checkpoint(uint64_t count, std::string_view bytes) {
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return from_rocks(impl_->db->Put(wo, impl_->ledger, slice(keys::ledger_checkpoint_key(count)), slice(bytes)),
                    "writing a ledger checkpoint");
}

Status RecordStore::read_checkpoints(const std::function<bool(uint64_t, std::string_view)>& visit) const {
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator({}, impl_->ledger));
  for (it->Seek("c"); it->Valid() && it->key().starts_with("c"); it->Next()) {
    if (it->key().size() != 9) return Status::corruption("a ledger checkpoint key has a bad size");
    if (!visit(keys::get_u64_be(reinterpret_cast<const uint8_t*>(it->key().data()) + 1), view(it->value()))) return {};
  }
  return from_rocks(it->status(), "reading the ledger checkpoints");
}

Status RecordStore::read_ledger(uint64_t first, const std::function<bool(uint64_t, std::string_view)>& visit) const {
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator({}, impl_->ledger));
  for (it->Seek(slice(keys::ledger_entry_key(first))); it->Valid() && it->key().starts_with("e"); it->Next()) {
    if (it->key().size() != 9) return Status::corruption("a ledger entry key has a bad size");
    const uint64_t number = keys::get_u64_be(reinterpret_cast<const uint8_t*>(it->key().data()) + 1);
    if (!visit(number, view(it->value()))) return {};
  }
  return from_rocks(it->status(), "reading the ledger");
}

// Schema 1 or 2 -> 3: the summaries (schema 1: one 64-byte entry per
// channel; schema 2: pages of 64-byte summaries) become pages of 72-byte
// summaries, with max_long_extent_ns 0 (no long CF then: every record is in
// the records CF, covered by its old max_extent_ns, however large). The
// long CF itself was created, empty, when the store was opened. One synced
// write: a crash leaves either the old store or the new one.
Status RecordStore::Impl::migrate_summaries(uint32_t from_version) {
  std::map<uint32_t, ChannelSummary> old;
  rocksdb::WriteBatch wb;
  std::unique_ptr<rocksdb::Iterator> si(db->NewIterator({}, summary));
  for (si->SeekToFirst(); si->Valid(); si->Next()) {
    const auto k = view(si->key());
    const auto v = view(si->value());
    if (from_version == 1) {
      ChannelSummary cs;
      if (k.size() != 4 || v.size() != keys::kSummarySizeV2 || !decode_summary(v, cs)) {
        return Status::corruption("a schema-1 channel summary has a bad size");
      }
      old[keys::get_u32_be(reinterpret_cast<const uint8_t*>(k.data()))] = cs;
      wb.Delete(summary, si->key());  // pages have other keys
    } else {
      if (k.size() != keys::kSummaryPageKeySize || k[0] != 'p' || v.size() != keys::kSummaryPageSizeV2) {
        return Status::corruption("a schema-2 channel summary page has a bad size");
      }
      const uint32_t page = keys::get_u32_be(reinterpret_cast<const uint8_t*>(k.data()) + 1);
      for (uint32_t slot = 0; slot < keys::kSummaryPageChannels; ++slot) {
        ChannelSummary cs;
        decode_summary(v.substr(slot * keys::kSummarySizeV2, keys::kSummarySizeV2), cs);
        if (cs.record_count > 0) old[page * keys::kSummaryPageChannels + slot] = cs;
      }
      // Rewritten below under the same key.
    }
  }
  if (!si->status().ok()) return from_rocks(si->status(), "reading the old channel summaries");
  si.reset();
  const std::vector<std::pair<uint32_t, ChannelSummary>> all(old.begin(), old.end());
  std::string buffer;
  put_summary_pages(wb, all, buffer);
  wb.Put(meta, slice(keys::kSchemaVersionKey), std::to_string(kSchemaVersion));
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return from_rocks(db->Write(wo, &wb), fmt::format("migrating the store from schema version {}", from_version));
}

WriteOutcome RecordStore::Impl::admit_channel(std::string_view source_id, std::string_view sender, int64_t now) {
  const auto station = station_of(source_id);
  auto counted = station_channels.find(station);
  if (options.max_channels_per_station > 0 && counted != station_channels.end() &&
      counted->second >= options.max_channels_per_station) {
    return WriteOutcome::kTooManyChannels;
  }
  const uint32_t per_hour = options.max_new_channels_per_sender_per_hour;
  if (per_hour > 0 && !sender.empty()) {
    auto b = new_channel_buckets.find(sender);
    if (b == new_channel_buckets.end()) {
      b = new_channel_buckets.emplace(std::string(sender), ChannelBucket{static_cast<double>(per_hour), now}).first;
    }
    // Refilled evenly: per_hour tokens per hour, never more than per_hour.
    const double elapsed_h = static_cast<double>(now - b->second.refilled_ns) / (3600.0 * kNanosPerSecond);
    b->second.tokens = std::min<double>(per_hour, b->second.tokens + elapsed_h * per_hour);
    b->second.refilled_ns = now;
    if (b->second.tokens < 1.0) return WriteOutcome::kTooManyNewChannels;
    b->second.tokens -= 1.0;
  }
  if (counted == station_channels.end()) counted = station_channels.emplace(std::string(station), 0).first;
  ++counted->second;
  return WriteOutcome::kStored;
}

void RecordStore::Impl::unadmit_channel(std::string_view source_id, std::string_view sender) {
  if (auto counted = station_channels.find(station_of(source_id)); counted != station_channels.end()) {
    --counted->second;
  }
  const uint32_t per_hour = options.max_new_channels_per_sender_per_hour;
  if (per_hour > 0 && !sender.empty()) {
    if (auto b = new_channel_buckets.find(sender); b != new_channel_buckets.end()) {
      b->second.tokens = std::min<double>(per_hour, b->second.tokens + 1.0);
    }
  }
}

void RecordStore::Impl::put_summary_pages(rocksdb::WriteBatch& wb,
                                          std::span<const std::pair<uint32_t, ChannelSummary>> updated,
                                          std::string& buffer) const {
  for (size_t i = 0; i < updated.size();) {
    const uint32_t page = keys::summary_page(updated[i].first);
    size_t j = i;
    while (j < updated.size() && keys::summary_page(updated[j].first) == page) ++j;
    encode_page(page, updated.subspan(i, j - i), buffer);
    wb.Put(summary, slice(keys::as_view(keys::summary_page_key(page))), slice(buffer));
    i = j;
  }
}

void RecordStore::Impl::encode_page(uint32_t page, std::span<const std::pair<uint32_t, ChannelSummary>> updated,
                                    std::string& out) const {
  out.assign(keys::kSummaryPageSize, '\0');
  size_t u = 0;
  for (uint32_t slot = 0; slot < keys::kSummaryPageChannels; ++slot) {
    const uint32_t ch = page * keys::kSummaryPageChannels + slot;
    while (u < updated.size() && updated[u].first < ch) ++u;
    const ChannelSummary* cs = nullptr;
    if (u < updated.size() && updated[u].first == ch) {
      cs = &updated[u].second;
    } else if (auto it = summaries.find(ch); it != summaries.end()) {
      cs = &it->second;
    }
    if (cs) encode_summary(*cs, out.data() + slot * keys::kSummarySize);
  }
}

namespace {

// Whether a block of `it`'s CF with a key in [(channel, from), (channel, to)]
// holds the bytes of `r` (same start, length and SHA-256).
bool blocks_hold(rocksdb::Iterator& it, uint32_t channel_id, TimeNs from, TimeNs to, const NewRecord& r) {
  const auto key = keys::record_key(channel_id, from, 0);
  it.Seek(slice(keys::as_view(key)));
  BlockView block;
  for (; it.Valid(); it.Next()) {
    keys::DecodedRecordKey k;
    if (!keys::decode_record_key(view(it.key()), k) || k.channel_id != channel_id || k.start > to) break;
    if (!block.parse(view(it.value())).ok()) continue;  // a corrupt block cannot hold a duplicate
    for (uint32_t i = 0; i < block.size(); ++i) {
      const auto e = block.entry(i);
      if (e.start_ns == r.start_ns && e.length == r.bytes.size() &&
          std::memcmp(e.sha256, r.sha256.data(), 32) == 0) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace

Result<bool> RecordStore::Impl::is_stored_duplicate(std::unique_ptr<rocksdb::Iterator>& main_it,
                                                    std::unique_ptr<rocksdb::Iterator>& long_it,
                                                    uint32_t channel_id, const ChannelSummary& s,
                                                    const NewRecord& r) const {
  auto open = [&](std::unique_ptr<rocksdb::Iterator>& it, rocksdb::ColumnFamilyHandle* cf) -> rocksdb::Iterator& {
    if (!it) {
      rocksdb::ReadOptions ro;
      ro.prefix_same_as_start = true;
      it.reset(db->NewIterator(ro, cf));
    }
    return *it;
  };
  // The same bytes have the same span: a stored copy sits in a block whose
  // extent reaches at least that far, so a channel whose extents are all
  // shorter cannot hold it.
  const TimeNs span = record_span(r.start_ns, r.end_ns);
  if (is_long_record(r.start_ns, r.end_ns) && s.max_long_extent_ns >= span) {
    // Alone in its block: the key's time is the record's start.
    auto& it = open(long_it, long_records);
    if (blocks_hold(it, channel_id, r.start_ns, r.start_ns, r)) return true;
    if (!it.status().ok()) return from_rocks(it.status(), "looking for a stored duplicate");
  }
  // A normal record, or a long one written before schema 3 (into the
  // records CF, where it made the channel's max_extent_ns at least its span).
  if (s.max_extent_ns >= span) {
    auto& it = open(main_it, records);
    if (blocks_hold(it, channel_id, sat_sub(r.start_ns, s.max_extent_ns), r.start_ns, r)) return true;
    if (!it.status().ok()) return from_rocks(it.status(), "looking for a stored duplicate");
  }
  return false;
}

Status RecordStore::write(std::span<const NewRecord> records, std::span<WriteOutcome> outcomes, bool sync,
                          WriteStats* stats, std::span<uint64_t> sequences, std::span<const LedgerBatch> batches) {
  if (records.size() != outcomes.size()) return Status::internal("write(): outcomes and records differ in size");
  if (!sequences.empty() && sequences.size() != records.size()) {
    return Status::internal("write(): sequences and records differ in size");
  }
  Impl& m = *impl_;
  std::lock_guard lock(m.write_mutex);
  if (auto s = m.check_writable(); !s.ok()) return s;
  m.keep_memtable_nonempty();
  WriteStats st;
  m.batch.Clear();
  const size_t n = records.size();
  for (const auto& r : records) {
    if (r.ledger_batch != kNoLedgerBatch && r.ledger_batch >= batches.size()) {
      return Status::internal("write(): a record names a ledger batch that is not given");
    }
  }
  for (const auto& b : batches) {
    // What a ledger entry can hold (common's ledger_entry.h).
    const bool fits = b.is_signed ? b.key_id.size() == 32 && b.signature.size() == 64
                                  : b.key_id.size() <= 255 && b.signature.empty();
    if (!fits || b.hashes.size() % 32 != 0) {
      return Status::internal(fmt::format(
          "write(): ledger batch {} has a key id of {} bytes, a signature of {} and hashes of {} ({})", b.batch_id,
          b.key_id.size(), b.signature.size(), b.hashes.size(), b.is_signed ? "signed" : "unsigned"));
    }
  }
  // 0. Signed batches replayed under an old id store nothing.
  if (auto s = m.find_replays(batches); !s.ok()) return s;
  auto replayed = [&](const NewRecord& r) {
    return r.ledger_batch != kNoLedgerBatch && m.batch_replayed[r.ledger_batch] != 0;
  };

  // 1. Resolve channel and sender ids, adding new ones to the batch: hash
  // lookups, first among known names (no allocation), then among the names
  // new in this write. A record of a channel the limits refuse gets channel
  // 0 (never an id) and its outcome now.
  auto& new_channels = m.new_channels;
  auto& new_senders = m.new_senders;
  new_channels.clear();
  new_senders.clear();
  // clear() zeroes every bucket, and a flood of new channels leaves many:
  // only when there is something to clear.
  if (!m.batch_channels.empty()) m.batch_channels.clear();
  if (!m.batch_senders.empty()) m.batch_senders.clear();
  m.record_channel.resize(n);
  m.record_sender.resize(n);
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  for (size_t i = 0; i < n; ++i) {
    const auto& r = records[i];
    uint32_t ch = 0;
    if (replayed(r)) {
      outcomes[i] = WriteOutcome::kReplayed;
      ++st.refused;
      m.record_channel[i] = 0;
      m.record_sender[i] = 0;
      continue;
    }
    if (auto it = m.channel_index.find(r.source_id); it != m.channel_index.end()) {
      ch = it->second;
    } else {
      auto [nc, fresh] = m.batch_channels.try_emplace(r.source_id);
      if (fresh) {
        nc->second.refusal = m.admit_channel(r.source_id, r.sender, now);
        if (nc->second.refusal == WriteOutcome::kStored) {
          nc->second.id = m.next_channel_id + static_cast<uint32_t>(new_channels.size());
          new_channels.push_back({std::string(r.source_id), nc->second.id, r.sender});
        }
      }
      ch = nc->second.id;
      if (ch == 0) {
        outcomes[i] = nc->second.refusal;
        ++st.refused;
      }
    }
    m.record_channel[i] = ch;
    if (ch == 0 || r.sender.empty()) {
      m.record_sender[i] = 0;
    } else if (auto it = m.sender_ids.find(r.sender); it != m.sender_ids.end()) {
      m.record_sender[i] = it->second;
    } else {
      auto [ns, fresh] = m.batch_senders.try_emplace(r.sender);
      if (fresh) {
        ns->second = m.next_sender_id + static_cast<uint32_t>(new_senders.size());
        new_senders.emplace_back(std::string(r.sender), ns->second);
      }
      m.record_sender[i] = ns->second;
    }
  }
  for (const auto& c : new_channels) {
    m.batch.Put(m.catalog, slice(keys::channel_by_name(c.name)), slice(encode_u32(c.id)));
    m.batch.Put(m.catalog, slice(keys::channel_by_id(c.id)), slice(c.name));
  }
  for (const auto& [name, id] : new_senders) {
    m.batch.Put(m.catalog, slice(keys::sender_by_name(name)), slice(encode_u32(id)));
    m.batch.Put(m.catalog, slice(keys::sender_by_id(id)), slice(name));
  }

  // 2. Order by channel, then start time, then arrival.
  m.order.resize(n);
  for (uint32_t i = 0; i < n; ++i) m.order[i] = i;
  std::sort(m.order.begin(), m.order.end(), [&](uint32_t a, uint32_t b) {
    if (m.record_channel[a] != m.record_channel[b]) return m.record_channel[a] < m.record_channel[b];
    if (records[a].start_ns != records[b].start_ns) return records[a].start_ns < records[b].start_ns;
    return a < b;
  });

  // The channel limits counted the new channels in: undone if nothing is stored.
  auto unadmit = [&] {
    for (const auto& c : new_channels) m.unadmit_channel(c.name, c.sender);
  };

  // 3. Per channel: drop duplicates, pack the rest into blocks, update the summary.
  std::unique_ptr<rocksdb::Iterator> dup_it, dup_long_it;
  std::vector<std::pair<uint32_t, ChannelSummary>> updated;
  uint64_t seq = m.next_seq;
  const uint64_t first_record_seq = m.next_record_seq.load(std::memory_order_relaxed);
  uint64_t record_seq = first_record_seq;
  WriteIndexBuilder write_index;
  write_index.begin(m.index_buffer, now_ns(), seq);
  // The records' bytes go to the active segment, all at once after the
  // blocks are built; each block names where its part will be.
  auto position = m.segments->next_position();
  if (!position.ok()) {
    unadmit();
    return m.segment_failed(position.status());
  }
  m.payload_buffer.clear();
  if (!sequences.empty()) std::fill(sequences.begin(), sequences.end(), 0);
  // Ledger entry numbers: one per batch with a record here, not replayed.
  const LedgerHead head = m.ledger_head;
  m.batch_entry.assign(batches.size(), 0);
  uint64_t next_entry = head.count + 1;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t b = records[i].ledger_batch;
    if (b != kNoLedgerBatch && m.batch_replayed[b] == 0 && m.batch_entry[b] == 0) m.batch_entry[b] = next_entry++;
  }
  auto entry_of = [&](const NewRecord& r) -> uint64_t {
    return r.ledger_batch == kNoLedgerBatch ? 0 : m.batch_entry[r.ledger_batch];
  };
  size_t g = 0;
  while (g < n) {
    const uint32_t ch = m.record_channel[m.order[g]];
    size_t g_end = g;
    while (g_end < n && m.record_channel[m.order[g_end]] == ch) ++g_end;
    if (ch == 0) {  // refused by a channel limit: outcomes set above
      g = g_end;
      continue;
    }
    const auto found = m.summaries.find(ch);
    const ChannelSummary before = found == m.summaries.end() ? ChannelSummary{} : found->second;
    ChannelSummary after = before;

    // Mark duplicates: against earlier records of this batch with the same
    // start, then against the store.
    for (size_t k = g; k < g_end; ++k) {
      const uint32_t idx = m.order[k];
      const auto& r = records[idx];
      bool dup = false;
      for (size_t j = k; j > g && records[m.order[j - 1]].start_ns == r.start_ns; --j) {
        const auto& o = records[m.order[j - 1]];
        if (o.bytes.size() == r.bytes.size() && o.sha256 == r.sha256) {
          dup = true;
          break;
        }
      }
      // A record starting after everything stored for the channel cannot be
      // a duplicate of it: the common real-time case needs no lookup.
      if (!dup && r.start_ns <= before.last_start_ns) {
        auto stored = m.is_stored_duplicate(dup_it, dup_long_it, ch, before, r);
        if (!stored.ok()) {
          unadmit();
          return stored.status();
        }
        dup = *stored;
      }
      outcomes[idx] = dup ? WriteOutcome::kDuplicate : WriteOutcome::kStored;
    }
    // Keep the stored ones at the front of the group, in order.
    size_t kept = 0;
    for (size_t k = g; k < g_end; ++k) {
      const uint32_t idx = m.order[k];
      if (outcomes[idx] == WriteOutcome::kStored) {
        m.order[g + kept++] = idx;
      } else {
        ++st.duplicates;
      }
    }

    // Pack the kept records [g, g+kept) into blocks, in (start, arrival)
    // order, so that block sequence numbers keep equal starts in arrival
    // order. A block ends at block_max_records, at block_max_bytes, where
    // the next record would stretch it past kMaxBlockSpanNs, and before a
    // long record, which goes alone into a block of the long CF.
    size_t b = g;
    const size_t kept_end = g + kept;
    while (b < kept_end) {
      const auto& head = records[m.order[b]];
      const bool long_block = is_long_record(head.start_ns, head.end_ns);
      const TimeNs block_start = head.start_ns;
      TimeNs block_end = record_reach(head.start_ns, head.end_ns);
      size_t e = b + 1;
      size_t bytes = head.bytes.size();
      while (!long_block && e < kept_end && e - b < m.options.block_max_records) {
        const auto& r = records[m.order[e]];
        const TimeNs reach = std::max(block_end, record_reach(r.start_ns, r.end_ns));
        if (bytes + r.bytes.size() > m.options.block_max_bytes || is_long_record(r.start_ns, r.end_ns) ||
            sat_sub(reach, block_start) > kMaxBlockSpanNs) {
          break;
        }
        block_end = reach;
        bytes += r.bytes.size();
        ++e;
      }
      m.block_buffer.clear();
      BlockBuilder builder;
      builder.begin(m.block_buffer, m.payload_buffer, static_cast<uint32_t>(e - b), record_seq, position->segment,
                    position->offset + m.payload_buffer.size());
      write_index.add({long_block, ch, block_start, static_cast<uint32_t>(e - b)});
      for (size_t k = b; k < e; ++k) {
        const uint32_t idx = m.order[k];
        const auto& r = records[idx];
        if (!sequences.empty()) sequences[idx] = record_seq;
        ++record_seq;
        builder.add(r.start_ns, r.end_ns, r.receive_ns, r.sample_rate, m.record_sender[idx], r.sha256, r.bytes,
                    entry_of(r), r.batch_position);
        after.first_start_ns = std::min(after.first_start_ns, r.start_ns);
        after.last_end_ns = std::max(after.last_end_ns, r.end_ns);
        if (r.start_ns >= after.last_start_ns) {
          after.last_start_ns = r.start_ns;
          after.sample_rate = r.sample_rate;  // the rate of the latest data
        }
        after.record_count += 1;
        after.byte_count += r.bytes.size();
        after.last_receive_ns = std::max(after.last_receive_ns, r.receive_ns);
      }
      builder.finish();
      const TimeNs extent = sat_sub(block_end, block_start);
      if (long_block) {
        after.max_long_extent_ns = std::max(after.max_long_extent_ns, extent);
      } else {
        after.max_extent_ns = std::max(after.max_extent_ns, extent);
      }
      const auto key = keys::record_key(ch, block_start, seq++);
      m.batch.Put(long_block ? m.long_records : m.records, slice(keys::as_view(key)), slice(m.block_buffer));
      ++st.blocks;
      st.stored += e - b;
      b = e;
    }
    if (kept > 0) {
      updated.emplace_back(ch, after);
      if (records[m.order[g]].start_ns < before.last_start_ns) ++m.out_of_order_writes[ch];
    }
    g = g_end;
  }

  // Summaries: one entry per page of channels touched (`updated` is in
  // channel order, as the groups above).
  m.put_summary_pages(m.batch, updated, m.page_buffer);

  // The ledger: an entry per batch, in batch order, each chained to the one
  // before; which of its records it stored; its key's highest batch id.
  LedgerHead head_after = head;
  std::vector<std::pair<std::string, uint64_t>> highest_after;
  if (next_entry != head.count + 1) {
    std::vector<std::vector<bool>> stored(batches.size());
    for (size_t b = 0; b < batches.size(); ++b) {
      if (m.batch_entry[b] != 0) stored[b].assign(batches[b].hashes.size() / 32, false);
    }
    for (size_t i = 0; i < n; ++i) {
      const auto& r = records[i];
      if (entry_of(r) != 0 && outcomes[i] == WriteOutcome::kStored && r.batch_position < stored[r.ledger_batch].size()) {
        stored[r.ledger_batch][r.batch_position] = true;
      }
    }
    std::vector<size_t> in_order;
    for (size_t b = 0; b < batches.size(); ++b) {
      if (m.batch_entry[b] != 0) in_order.push_back(b);
    }
    std::sort(in_order.begin(), in_order.end(), [&](size_t a, size_t b) { return m.batch_entry[a] < m.batch_entry[b]; });
    for (size_t b : in_order) {
      const auto& batch = batches[b];
      LedgerEntry e;
      e.is_signed = batch.is_signed;
      e.key_id = std::string(batch.key_id);
      e.protocol_version = batch.protocol_version;
      e.batch_id = batch.batch_id;
      e.send_ns = batch.send_ns;
      e.receive_ns = batch.receive_ns;
      e.hashes.resize(batch.hashes.size() / 32);
      for (size_t k = 0; k < e.hashes.size(); ++k) std::memcpy(e.hashes[k].data(), batch.hashes.data() + 32 * k, 32);
      e.stored = std::move(stored[b]);
      e.signature.assign(reinterpret_cast<const char*>(batch.signature.data()), batch.signature.size());
      m.chain_ledger_entry(m.batch, e, head_after);  // numbered m.batch_entry[b]: in_order follows them
      std::string number(8, '\0');
      keys::put_u64_be(reinterpret_cast<uint8_t*>(number.data()), e.number);
      m.batch.Put(m.ledger, slice(keys::ledger_batch_key(batch.key_id, batch.batch_id)), slice(number));
      if (batch.is_signed) {
        const auto h = m.highest_batch.find(e.key_id);
        uint64_t highest = h == m.highest_batch.end() ? 0 : h->second;
        for (const auto& [k, v] : highest_after) {
          if (k == e.key_id) highest = std::max(highest, v);
        }
        if (batch.batch_id > highest) {
          std::string id(8, '\0');
          keys::put_u64_be(reinterpret_cast<uint8_t*>(id.data()), batch.batch_id);
          m.batch.Put(m.ledger, slice(keys::ledger_highest_key(batch.key_id)), slice(id));
          highest_after.emplace_back(e.key_id, batch.batch_id);
        }
      }
    }
  }

  if (seq != m.next_seq) {
    std::string v(8, '\0');
    keys::put_u64_be(reinterpret_cast<uint8_t*>(v.data()), seq);
    m.batch.Put(m.meta, slice(keys::kNextSeqKey), slice(v));
  }
  SegmentUse use_after;
  if (!m.payload_buffer.empty()) {
    const auto found_use = m.segment_use.find(position->segment);
    use_after = found_use == m.segment_use.end() ? SegmentUse{} : found_use->second;
    use_after.records += st.stored;
    use_after.bytes += m.payload_buffer.size();
    m.batch.Put(m.meta, slice(keys::segment_use_key(position->segment)), slice(encode_segment_use(use_after)));
  }
  if (!write_index.empty()) {
    const auto key = keys::sequence_key(first_record_seq);
    m.batch.Put(m.sequence, slice(keys::as_view(key)), slice(m.index_buffer));
    std::string v(8, '\0');
    keys::put_u64_be(reinterpret_cast<uint8_t*>(v.data()), record_seq);
    m.batch.Put(m.meta, slice(keys::kNextRecordSeqKey), slice(v));
  }
  // New catalog names are published before the write: a reader whose
  // snapshot includes the batch must be able to name its channels and
  // senders. Ids are never reused; unused ones are harmless.
  auto publish_names = [&](bool add) {
    if (new_channels.empty() && new_senders.empty()) return;
    std::unique_lock catalog_lock(m.catalog_mutex);
    for (const auto& c : new_channels) {
      if (add) {
        auto [it, _] = m.channel_ids.emplace(c.name, c.id);
        m.channel_index.emplace(it->first, c.id);
        m.channel_names.emplace(c.id, it->first);
      } else {
        m.channel_index.erase(c.name);
        m.channel_names.erase(c.id);
        m.channel_ids.erase(c.name);
      }
    }
    for (const auto& [name, id] : new_senders) {
      if (add) {
        auto [it, _] = m.sender_names.emplace(id, name);
        m.sender_ids.emplace(it->second, id);
      } else {
        m.sender_ids.erase(name);
        m.sender_names.erase(id);
      }
    }
  };
  // The bytes are on disk before any block that names them can be: whatever
  // the WAL holds after a crash names synced bytes (segment_files.h).
  if (!m.payload_buffer.empty()) {
    const auto* bytes = reinterpret_cast<const uint8_t*>(m.payload_buffer.data());
    if (auto st = m.segments->append({bytes, m.payload_buffer.size()}); !st.ok()) {
      unadmit();
      return m.segment_failed(st);
    }
    if (auto st = m.segments->sync(); !st.ok()) {
      unadmit();
      m.set_state(StoreState::kFailed,
                  fmt::format("an fsync of a record segment failed ({}): what was written since the last good "
                              "fsync may not be on disk, so nothing more is acknowledged until seisvaultd is "
                              "restarted (stations keep and resend their data); check the disk (dmesg), then "
                              "restart seisvaultd",
                              st.message()));
      return m.unavailable();
    }
  }
  publish_names(true);
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  if (m.batch.Count() > 0) {
    if (auto s = m.db->Write(wo, &m.batch); !s.ok()) {
      publish_names(false);
      unadmit();
      if (m.wal_guard->sync_failed.load()) {
        m.set_state(StoreState::kFailed,
                    fmt::format("an fsync of the write-ahead log failed ({}): what was written since the last good "
                                "fsync may not be on disk, so nothing more is acknowledged until seisvaultd is "
                                "restarted (stations keep and resend their data); check the disk (dmesg), then "
                                "restart seisvaultd",
                                s.ToString()));
      } else {
        m.pause = Impl::Pause::kWriteError;
        m.listener->recovered.store(false);
        m.recovered_since_failure = false;
        m.next_resume = std::chrono::steady_clock::now() + kResumeInterval;
        m.set_state(StoreState::kPaused,
                    fmt::format("a write to the store failed ({}); nothing of it was stored. Ingest waits while the "
                                "store recovers (stations keep their data); if the disk is full, free space and "
                                "ingest resumes by itself",
                                s.ToString()));
      }
      return m.unavailable();
    }
  } else if (sync) {
    // Only duplicates (or refusals): their first copies may still wait for
    // an fsync, and the caller is about to say they are durable.
    if (auto s = sync_wal(); !s.ok()) return s;
  }

  // 4. The batch is in: the writer's state moves on.
  m.next_seq = seq;
  m.next_record_seq.store(record_seq, std::memory_order_release);
  for (auto& [ch, s] : updated) m.summaries[ch] = s;
  if (!m.payload_buffer.empty()) m.segment_use[position->segment] = use_after;
  if (head_after.count != head.count) {
    std::lock_guard lock(m.ledger_mutex);
    m.ledger_head = head_after;
    for (auto& [key, id] : highest_after) m.highest_batch[key] = std::max(m.highest_batch[key], id);
  }
  m.next_channel_id += static_cast<uint32_t>(new_channels.size());
  m.next_sender_id += static_cast<uint32_t>(new_senders.size());
  if (stats) *stats = st;
  return {};
}

std::string_view store_state_name(StoreState state) {
  switch (state) {
    case StoreState::kOk: return "ok";
    case StoreState::kPaused: return "paused";
    case StoreState::kFailed: return "failed";
  }
  return "?";
}

Status RecordStore::sync_wal() {
  Impl& m = *impl_;
  // Never while an append to the log has failed (store_file_system.h); and
  // no append starts while SyncWAL() runs.
  std::lock_guard guard(m.wal_guard->mutex);
  if (m.wal_guard->sync_failed.load() || m.wal_guard->failed_wals.load() > 0) return m.unavailable();
  const auto s = m.db->SyncWAL();
  if (s.ok()) return {};
  m.wal_guard->sync_failed.store(true);
  m.set_state(StoreState::kFailed,
              fmt::format("an fsync of the write-ahead log failed ({}): what was written since the last good fsync "
                          "may not be on disk, so nothing more is acknowledged until seisvaultd is restarted "
                          "(stations keep and resend their data); check the disk (dmesg), then restart seisvaultd",
                          s.ToString()));
  return m.unavailable();
}

StoreHealth RecordStore::health() const {
  std::lock_guard lock(impl_->health_mutex);
  return impl_->health;
}

StoreHealth RecordStore::try_resume() {
  Impl& m = *impl_;
  {
    std::lock_guard lock(m.write_mutex);
    m.try_resume_locked();
  }
  return health();
}

StoreEngineStats RecordStore::engine_stats() const {
  const Impl& m = *impl_;
  rocksdb::DB& db = *m.db;
  using P = rocksdb::DB::Properties;
  // Properties of each column family, summed; and properties of the whole
  // database (asked of the default column family: summing them would count
  // them once per family).
  const auto summed = [&](const std::string& property) {
    uint64_t v = 0;
    return db.GetAggregatedIntProperty(property, &v) ? v : 0;
  };
  const auto database = [&](const std::string& property) {
    uint64_t v = 0;
    return db.GetIntProperty(property, &v) ? v : 0;
  };
  // The map properties hold numbers as text ("12", "0.001234").
  const auto number = [](const std::map<std::string, std::string>& map, const char* key) {
    const auto it = map.find(key);
    return it == map.end() ? 0.0 : std::strtod(it->second.c_str(), nullptr);
  };
  StoreEngineStats out;
  out.sst_files_bytes = summed(P::kTotalSstFilesSize);
  out.live_sst_files_bytes = summed(P::kLiveSstFilesSize);
  out.blob_files_bytes = summed(P::kTotalBlobFileSize);
  for (const auto& segment : m.segments->list()) {
    ++out.segment_files;
    out.segment_files_bytes += segment.bytes;
  }
  out.live_data_estimate_bytes = summed(P::kEstimateLiveDataSize);
  out.memtable_bytes = summed(P::kSizeAllMemTables);
  out.pending_compaction_bytes = summed(P::kEstimatePendingCompactionBytes);
  out.compaction_pending = summed(P::kCompactionPending) > 0;
  out.running_compactions = database(P::kNumRunningCompactions);
  out.running_flushes = database(P::kNumRunningFlushes);
  out.write_stopped = database(P::kIsWriteStopped) != 0;
  out.delayed_write_rate = database(P::kActualDelayedWriteRate);
  std::map<std::string, std::string> map;
  if (db.GetMapProperty(P::kDBStats, &map)) {
    out.write_stall_micros = static_cast<uint64_t>(number(map, "db.user_write_stall_micros"));
  }
  double written_gib = 0;
  for (auto* h : m.handles) {
    map.clear();
    if (!db.GetMapProperty(h, P::kCFStats, &map)) continue;
    out.write_slowdowns += static_cast<uint64_t>(number(map, "io_stalls.total_slowdown"));
    out.write_stops += static_cast<uint64_t>(number(map, "io_stalls.total_stop"));
    out.compactions += static_cast<uint64_t>(number(map, "compaction.Sum.CompCount"));
    out.compaction_seconds += number(map, "compaction.Sum.CompSec");
    written_gib += number(map, "compaction.Sum.WriteGB") + number(map, "compaction.Sum.WblobGB");
  }
  out.compaction_written_bytes = static_cast<uint64_t>(written_gib * double(uint64_t{1} << 30) + 0.5);
  return out;
}

void RecordStore::Impl::set_state(StoreState state, std::string message) {
  std::lock_guard lock(health_mutex);
  if (health.state == state && health.message == message) return;
  const bool changed = health.state != state;
  health.state = state;
  health.message = std::move(message);
  if (!changed) return;
  health.since_ns = now_ns();
  switch (state) {
    case StoreState::kOk: spdlog::info("store resumed: taking records again ({} free)", mib(health.free_bytes)); break;
    case StoreState::kPaused: spdlog::warn("store paused: {}", health.message); break;
    case StoreState::kFailed: spdlog::error("store failed: {}", health.message); break;
  }
}

Status RecordStore::Impl::segment_failed(const Status& cause) {
  pause = Pause::kSegmentError;
  next_resume = std::chrono::steady_clock::now() + kResumeInterval;
  set_state(StoreState::kPaused,
            fmt::format("a write to the store failed ({}); nothing of it was stored. Ingest waits and retries "
                        "(stations keep their data); if the disk is full, free space and ingest resumes by itself",
                        cause.message()));
  return unavailable();
}

Status RecordStore::Impl::unavailable() const {
  std::lock_guard lock(health_mutex);
  return Status::unavailable(fmt::format("the store is {}: {}", store_state_name(health.state), health.message));
}

void RecordStore::Impl::refresh_free_space(std::chrono::steady_clock::time_point now) {
  next_space_check = now + kSpaceCheckInterval;
  const auto free = free_bytes(dir);
  std::lock_guard lock(health_mutex);
  health.free_bytes = free.value_or(0);
}

static std::string reserve_message(uint64_t free, uint64_t reserve, const std::filesystem::path& dir) {
  return fmt::format("{} free on the filesystem of {}, below the reserve of {} (--min-free-space): ingest waits "
                     "(stations keep their data) and resumes by itself once more space is free; free disk space or "
                     "lower --min-free-space",
                     mib(free), dir.string(), mib(reserve));
}

void RecordStore::Impl::keep_memtable_nonempty() {
  uint64_t entries = 0;
  if (db->GetIntProperty(meta, "rocksdb.num-entries-active-mem-table", &entries) && entries > 0) return;
  // Not in the log (it need not survive anything): only the memtable.
  rocksdb::WriteOptions wo;
  wo.disableWAL = true;
  db->Put(wo, meta, slice(keys::kMemtableCanaryKey), "1").PermitUncheckedError();
}

StoreState RecordStore::Impl::state() const {
  std::lock_guard lock(health_mutex);
  return health.state;
}

Status RecordStore::Impl::check_writable() {
  if (options.read_only) return Status::unavailable(fmt::format("the store in {} is open read-only", dir.string()));
  if (state() == StoreState::kFailed) return unavailable();
  if (pause != Pause::kNone) {
    try_resume_locked();
    if (pause != Pause::kNone) return unavailable();
  }
  const auto now = std::chrono::steady_clock::now();
  if (options.min_free_bytes > 0 && now >= next_space_check) {
    if (!check_reserve(now)) return unavailable();
  } else if (now >= next_space_check + std::chrono::seconds(1)) {
    refresh_free_space(now);  // for health(), without a reserve to enforce
  }
  return {};
}

bool RecordStore::Impl::check_reserve(std::chrono::steady_clock::time_point now) {
  refresh_free_space(now);
  const uint64_t free = health.free_bytes;
  if (options.min_free_bytes == 0 || free == 0 || free >= options.min_free_bytes) return true;
  pause = Pause::kReserve;
  set_state(StoreState::kPaused, reserve_message(free, options.min_free_bytes, dir));
  return false;
}

void RecordStore::Impl::try_resume_locked() {
  if (state() == StoreState::kFailed) return;
  const auto now = std::chrono::steady_clock::now();
  if (pause == Pause::kNone) {
    if (now >= next_space_check) refresh_free_space(now);
    return;
  }
  refresh_free_space(now);
  const uint64_t free = health.free_bytes;
  // Resume only with some room above the reserve, so that a store at the
  // edge does not flip between paused and taking records.
  const uint64_t resume_at = options.min_free_bytes + std::max<uint64_t>(options.min_free_bytes / 8, 16ull << 20);
  const bool room = options.min_free_bytes == 0 || free == 0 || free >= resume_at;
  if (pause == Pause::kSegmentError) {
    // Nothing reached RocksDB. Once a second, a probe append shows whether
    // the segment takes bytes again (a full disk with space back).
    if (room && now >= next_resume) {
      next_resume = now + kResumeInterval;
      if (const auto st = segments->probe(); st.ok()) {
        pause = Pause::kNone;
        set_state(StoreState::kOk, {});
      } else {
        spdlog::debug("store: segment still refuses appends: {}", st.message());
      }
    }
    return;
  }
  if (pause == Pause::kReserve) {
    if (room) {
      pause = Pause::kNone;
      set_state(StoreState::kOk, {});
    } else {
      set_state(StoreState::kPaused, reserve_message(free, options.min_free_bytes, dir));
    }
    return;
  }
  // Paused by a failed write: RocksDB holds a background error until it has
  // recovered (flushed what is in memory to new files and retired the log
  // whose append failed). After a full disk its SstFileManager does that by
  // itself once space is free; otherwise ask it, once in a while.
  bool recovered = listener->recovered.exchange(false);
  if (!recovered && room && now >= next_resume) {
    next_resume = now + kResumeInterval;
    const auto s = db->Resume();
    recovered = s.ok();
    if (!recovered) spdlog::debug("store: resume not possible yet: {}", s.ToString());
  }
  if (recovered) recovered_since_failure = true;
  // RocksDB's recovery has also to have retired the log whose append failed
  // (store_file_system.h): the memtable canary makes its flush switch logs.
  if (!recovered_since_failure || wal_guard->failed_wals.load() > 0) return;
  pause = Pause::kNone;
  set_state(StoreState::kOk, {});
}

Status RecordStore::Impl::load_payload(BlockView& view, std::string& payload) const {
  if (!view.payload_elsewhere()) return {};
  const auto& at = view.payload_location();
  if (auto st = segments->read(at.segment, at.offset, at.length, payload); !st.ok()) return st;
  return view.attach_payload(payload);
}

std::vector<std::pair<uint32_t, std::string>> RecordStore::Impl::selected_channels(
    const ChannelSelection& sel) const {
  std::vector<std::pair<uint32_t, std::string>> out;
  std::shared_lock lock(catalog_mutex);
  for (const auto& [name, id] : channel_ids) {
    if (sel.matches(name)) out.emplace_back(id, name);
  }
  return out;
}

Result<bool> RecordStore::Impl::read_summary(const rocksdb::Snapshot* snap, uint32_t channel_id,
                                             ChannelSummary& out) const {
  rocksdb::ReadOptions ro;
  ro.snapshot = snap;
  rocksdb::PinnableSlice v;
  const auto key = keys::summary_page_key(keys::summary_page(channel_id));
  auto s = db->Get(ro, summary, slice(keys::as_view(key)), &v);
  if (s.IsNotFound()) return false;
  if (!s.ok()) return from_rocks(s, "reading a channel summary");
  if (v.size() != keys::kSummaryPageSize) {
    return Status::corruption(fmt::format("summary page of channel {} is damaged", channel_id));
  }
  const size_t slot = channel_id % keys::kSummaryPageChannels;
  decode_summary(view(v).substr(slot * keys::kSummarySize, keys::kSummarySize), out);
  return out.record_count > 0;
}

// Calls visit(entry, pos) for every record of one channel overlapping the
// window (and past `after`, when set), in (start, seq, index) order. Blocks
// come from two scans in key order, merged: the records CF and, when the
// channel has long records, the long CF. Blocks then come in (start, seq)
// order, so a record can be released once the next block starts after it.
template <class Visit>
Status RecordStore::Impl::scan_channel(const rocksdb::Snapshot* snap, uint32_t channel_id,
                                       std::string_view source_id, const ChannelSummary& s, TimeWindow w,
                                       const std::optional<RecordPos>& after, Visit&& visit) const {
  if (s.record_count == 0 || s.last_end_ns < w.begin_ns || s.first_start_ns > w.end_ns) return {};
  // A wanted record ends at or after the window's begin and (when resuming)
  // starts at or after the last one delivered; its block starts at most the
  // extent before either.
  const TimeNs from = after ? std::max(w.begin_ns, after->start) : w.begin_ns;
  const auto to = channel_id == UINT32_MAX ? keys::record_key(channel_id, kTimeMax, UINT64_MAX)
                                           : keys::record_key(channel_id + 1, kTimeMin, 0);
  rocksdb::Slice upper(reinterpret_cast<const char*>(to.data()), to.size());

  // One scan of one column family: its iterator and the key it stands on.
  struct Cursor {
    std::unique_ptr<rocksdb::Iterator> it;
    keys::DecodedRecordKey key{};
    bool valid = false;
  };
  auto open = [&](Cursor& c, rocksdb::ColumnFamilyHandle* cf, TimeNs extent) {
    rocksdb::ReadOptions ro;
    ro.snapshot = snap;
    ro.iterate_upper_bound = &upper;
    ro.prefix_same_as_start = true;
    ro.readahead_size = 2 << 20;
    c.it.reset(db->NewIterator(ro, cf));
    const auto seek = keys::record_key(channel_id, sat_sub(from, extent), 0);
    c.it->Seek(slice(keys::as_view(seek)));
  };
  // After a Seek or Next: decode the key; past the window's end, done.
  auto settle = [&](Cursor& c) -> Status {
    c.valid = false;
    if (!c.it || !c.it->Valid()) return {};
    if (!keys::decode_record_key(view(c.it->key()), c.key)) return Status::corruption("a record key has a bad size");
    c.valid = c.key.start <= w.end_ns;
    return {};
  };
  Cursor main, lng;
  open(main, records, s.max_extent_ns);
  if (auto st = settle(main); !st.ok()) return st;
  if (s.max_long_extent_ns > 0) {  // most channels have no long records: no second scan
    open(lng, long_records, s.max_long_extent_ns);
    if (auto st = settle(lng); !st.ok()) return st;
  }

  std::deque<LoadedBlock> blocks;
  std::priority_queue<PendingRecord, std::vector<PendingRecord>, std::greater<>> heap;
  bool stop = false;
  auto release_before = [&](TimeNs limit) {
    while (!stop && !heap.empty() && heap.top().pos.start < limit) {
      const PendingRecord p = heap.top();
      heap.pop();
      if (!visit(p.block->view.entry(p.pos.index), p.pos)) stop = true;
      --p.block->pending;
    }
    while (!blocks.empty() && blocks.front().pending == 0) blocks.pop_front();
  };

  while (!stop) {
    Cursor* c = nullptr;
    if (main.valid && lng.valid) {
      c = std::tie(main.key.start, main.key.seq) < std::tie(lng.key.start, lng.key.seq) ? &main : &lng;
    } else if (main.valid) {
      c = &main;
    } else if (lng.valid) {
      c = &lng;
    } else {
      break;
    }
    const auto k = c->key;
    release_before(k.start);
    if (stop) break;
    auto& b = blocks.emplace_back();
    b.value.assign(c->it->value().data(), c->it->value().size());
    b.seq = k.seq;
    if (auto st = b.view.parse(b.value); !st.ok()) {
      return Status::corruption(fmt::format("{} (channel {}, block {})", st.message(), source_id, k.seq));
    }
    if (auto st = load_payload(b.view, b.payload); !st.ok()) {
      if (st.code() != StatusCode::kNotFound) {
        return Status(st.code(), fmt::format("{} (channel {}, block {})", st.message(), source_id, k.seq));
      }
      b.view = BlockView{};  // expired meanwhile: as if its key were gone
    }
    for (uint32_t i = 0; i < b.view.size(); ++i) {
      const auto e = b.view.entry(i);
      const RecordPos pos{e.start_ns, k.seq, i};
      if (e.start_ns <= w.end_ns && e.end_ns >= w.begin_ns && (!after || pos > *after)) {
        heap.push({pos, &b});
        ++b.pending;
      }
    }
    if (b.pending == 0) blocks.pop_back();
    c->it->Next();
    if (auto st = settle(*c); !st.ok()) return st;
  }
  if (!main.it->status().ok()) return from_rocks(main.it->status(), "reading records");
  if (lng.it && !lng.it->status().ok()) return from_rocks(lng.it->status(), "reading long records");
  release_before(kTimeMax);
  if (!stop && !heap.empty()) {  // records starting at exactly kTimeMax
    while (!heap.empty() && !stop) {
      const PendingRecord p = heap.top();
      heap.pop();
      if (!visit(p.block->view.entry(p.pos.index), p.pos)) stop = true;
    }
  }
  return {};
}

Status RecordStore::read_records(const ChannelSelection& selection, TimeWindow window,
                                 const std::function<bool(const StoredRecord&)>& visitor) const {
  const Impl& m = *impl_;
  const auto channels = m.selected_channels(selection);
  if (channels.empty()) return {};
  // The snapshot (and with it each channel's iterators) is renewed once it
  // is older than max_read_snapshot_age: between channels, or between two
  // records of a channel, which is then scanned again from a fresh snapshot
  // after the last record delivered (StoreOptions::max_read_snapshot_age).
  const int64_t max_age_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(m.options.max_read_snapshot_age).count();
  std::optional<rocksdb::ManagedSnapshot> snap;
  int64_t taken_ns = 0;
  auto renew = [&] {
    snap.reset();
    snap.emplace(m.db.get());
    taken_ns = coarse_now_ns();
  };
  auto expired = [&] { return max_age_ns > 0 && coarse_now_ns() - taken_ns >= max_age_ns; };
  renew();
  std::unordered_map<uint32_t, std::string> sender_cache;
  // Not a structured binding: the lambda below captures id and name, which
  // Debian's clang 14 does not allow for bindings (C++20's P1091, clang 16).
  for (const auto& channel : channels) {
    const uint32_t id = channel.first;
    const std::string& name = channel.second;
    if (expired()) renew();
    sender_cache.clear();
    std::optional<RecordPos> last;  // the last record of this channel delivered
    for (;;) {
      ChannelSummary s;
      auto has = m.read_summary(snap->snapshot(), id, s);
      if (!has.ok()) return has.status();
      if (!*has) break;
      bool stopped = false;
      bool yielded = false;
      auto visit = [&](const BlockEntry& e, const RecordPos& pos) {
        StoredRecord r;
        r.channel_id = id;
        r.source_id = name;
        r.start_ns = e.start_ns;
        r.end_ns = e.end_ns;
        r.receive_ns = e.receive_ns;
        r.sample_rate = e.sample_rate;
        if (e.sender_id != 0) {
          auto c = sender_cache.find(e.sender_id);
          if (c == sender_cache.end()) {
            std::shared_lock lock(m.catalog_mutex);
            auto f = m.sender_names.find(e.sender_id);
            c = sender_cache.emplace(e.sender_id, f == m.sender_names.end() ? std::string("?") : f->second).first;
          }
          r.sender = c->second;
        }
        r.sha256 = e.sha256;
        r.bytes = std::span<const uint8_t>(e.bytes, e.length);
        r.sequence = e.sequence;
        r.ledger_entry = e.ledger_entry;
        r.batch_position = e.batch_position;
        if (!visitor(r)) {
          stopped = true;
          return false;
        }
        last = pos;
        if (expired()) {
          yielded = true;
          return false;
        }
        return true;
      };
      auto st = m.scan_channel(snap->snapshot(), id, name, s, window, last, visit);
      if (!st.ok()) return st;
      if (stopped) return {};
      if (!yielded) break;
      renew();  // the scan's iterators are gone: nothing pins the old snapshot's files now
    }
  }
  return {};
}

uint64_t RecordStore::next_sequence() const { return impl_->next_record_seq.load(std::memory_order_acquire); }

Result<uint64_t> RecordStore::first_sequence() const {
  const Impl& m = *impl_;
  const uint64_t next = next_sequence();
  std::unique_ptr<rocksdb::Iterator> it(m.db->NewIterator({}, m.sequence));
  it->SeekToFirst();
  if (!it->status().ok()) return from_rocks(it->status(), "reading the sequence index");
  if (!it->Valid()) return next;
  if (it->key().size() != 8) return Status::corruption("a sequence index key has a bad size");
  return std::min(next, keys::get_u64_be(reinterpret_cast<const uint8_t*>(it->key().data())));
}

Status RecordStore::read_sequence(
    uint64_t from, uint64_t until,
    const std::function<bool(uint32_t channel_id, std::string_view source_id)>& want_channel,
    const std::function<bool(const StoredRecord&)>& visitor) const {
  const Impl& m = *impl_;
  if (from >= until) return {};
  rocksdb::ManagedSnapshot snap(m.db.get());
  rocksdb::ReadOptions ro;
  ro.snapshot = snap.snapshot();
  std::unique_ptr<rocksdb::Iterator> it(m.db->NewIterator(ro, m.sequence));
  // The write holding `from` is the last entry whose key is at most `from`.
  const auto from_key = keys::sequence_key(from);
  it->SeekForPrev(slice(keys::as_view(from_key)));
  if (!it->Valid()) it->SeekToFirst();

  // Source ids and sender names, looked up once per read.
  std::unordered_map<uint32_t, std::string> channel_names;
  std::unordered_map<uint32_t, std::string> sender_names;
  auto name_of = [&](std::unordered_map<uint32_t, std::string>& cache, auto& source, uint32_t id) -> const std::string& {
    auto c = cache.find(id);
    if (c == cache.end()) {
      std::shared_lock lock(m.catalog_mutex);
      auto f = source.find(id);
      c = cache.emplace(id, f == source.end() ? std::string() : std::string(f->second)).first;
    }
    return c->second;
  };

  WriteIndexView index;
  BlockView records_of_block;
  rocksdb::PinnableSlice block;
  std::string payload;
  for (; it->Valid(); it->Next()) {
    if (it->key().size() != 8) return Status::corruption("a sequence index key has a bad size");
    uint64_t seq = keys::get_u64_be(reinterpret_cast<const uint8_t*>(it->key().data()));
    if (seq >= until) break;
    if (auto st = index.parse(view(it->value())); !st.ok()) return st;
    if (seq + index.record_count() <= from) continue;
    for (uint32_t i = 0; i < index.size(); ++i) {
      const auto b = index.block(i);
      const uint64_t block_first = seq;
      seq += b.record_count;
      if (seq <= from) continue;
      if (block_first >= until) return {};
      const std::string& source_id = name_of(channel_names, m.channel_names, b.channel_id);
      if (source_id.empty() || !want_channel(b.channel_id, source_id)) continue;
      const auto key = keys::record_key(b.channel_id, b.start_ns, index.first_block_seq() + i);
      block.Reset();
      auto s = m.db->Get(ro, b.long_cf ? m.long_records : m.records, slice(keys::as_view(key)), &block);
      if (s.IsNotFound()) continue;  // no longer stored
      if (!s.ok()) return from_rocks(s, "reading a block by sequence number");
      if (auto st = records_of_block.parse(view(block)); !st.ok()) return st;
      if (records_of_block.first_sequence() != block_first || records_of_block.size() != b.record_count) {
        return Status::corruption(fmt::format("block {} of {} does not hold the records the sequence index says",
                                              index.first_block_seq() + i, source_id));
      }
      if (auto st = m.load_payload(records_of_block, payload); !st.ok()) {
        if (st.code() == StatusCode::kNotFound) continue;  // no longer stored
        return st;
      }
      for (uint32_t k = 0; k < records_of_block.size(); ++k) {
        const auto e = records_of_block.entry(k);
        if (e.sequence < from || e.sequence >= until) continue;
        StoredRecord r;
        r.channel_id = b.channel_id;
        r.source_id = source_id;
        r.start_ns = e.start_ns;
        r.end_ns = e.end_ns;
        r.receive_ns = e.receive_ns;
        r.sample_rate = e.sample_rate;
        if (e.sender_id != 0) r.sender = name_of(sender_names, m.sender_names, e.sender_id);
        r.sha256 = e.sha256;
        r.bytes = std::span<const uint8_t>(e.bytes, e.length);
        r.sequence = e.sequence;
        r.ledger_entry = e.ledger_entry;
        r.batch_position = e.batch_position;
        if (!visitor(r)) return {};
      }
    }
  }
  return from_rocks(it->status(), "reading the sequence index");
}

Result<uint64_t> RecordStore::sequence_at(TimeNs commit_time) const {
  const Impl& m = *impl_;
  const uint64_t next = next_sequence();
  rocksdb::ManagedSnapshot snap(m.db.get());
  rocksdb::ReadOptions ro;
  ro.snapshot = snap.snapshot();
  std::unique_ptr<rocksdb::Iterator> it(m.db->NewIterator(ro, m.sequence));
  WriteIndexView index;
  // The first write at or after position x, and whether it was committed at
  // or after commit_time (true when there is none): monotone in x while the
  // clock only moves forward. Binary search for the smallest such x.
  auto at_or_after = [&](uint64_t x, uint64_t& key) -> Result<bool> {
    const auto k = keys::sequence_key(x);
    it->Seek(slice(keys::as_view(k)));
    if (!it->Valid()) {
      if (!it->status().ok()) return from_rocks(it->status(), "reading the sequence index");
      key = next;
      return true;
    }
    key = keys::get_u64_be(reinterpret_cast<const uint8_t*>(it->key().data()));
    if (auto st = index.parse(view(it->value())); !st.ok()) return st;
    return index.commit_ns() >= commit_time;
  };
  uint64_t lo = 0, hi = next;
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo) / 2;
    uint64_t key = 0;
    auto ok = at_or_after(mid, key);
    if (!ok.ok()) return ok.status();
    if (*ok) {
      hi = mid;
    } else {
      lo = key + 1;
    }
  }
  uint64_t key = 0;
  auto ok = at_or_after(lo, key);
  if (!ok.ok()) return ok.status();
  return key;
}

Result<std::vector<ChannelInfo>> RecordStore::list_channels(const ChannelSelection& selection) const {
  const Impl& m = *impl_;
  std::vector<ChannelInfo> out;
  rocksdb::ManagedSnapshot snap(m.db.get());
  for (auto& [id, name] : m.selected_channels(selection)) {
    ChannelInfo info;
    auto has = m.read_summary(snap.snapshot(), id, info.summary);
    if (!has.ok()) return has.status();
    if (!*has) continue;
    info.channel_id = id;
    info.source_id = std::move(name);
    out.push_back(std::move(info));
  }
  return out;
}

Result<std::vector<ChannelAvailability>> RecordStore::availability(const ChannelSelection& selection,
                                                                   TimeWindow window,
                                                                   std::optional<TimeNs> tolerance_ns) const {
  const Impl& m = *impl_;
  std::vector<ChannelAvailability> out;
  rocksdb::ManagedSnapshot snap(m.db.get());
  for (auto& [id, name] : m.selected_channels(selection)) {
    ChannelSummary s;
    auto has = m.read_summary(snap.snapshot(), id, s);
    if (!has.ok()) return has.status();
    if (!*has) continue;
    SpanMerger merger(tolerance_ns);
    bool any = false;
    auto st = m.scan_channel(snap.snapshot(), id, name, s, window, std::nullopt,
                             [&](const BlockEntry& e, const RecordPos&) {
                               merger.add(e.start_ns, e.end_ns, e.sample_rate);
                               any = true;
                               return true;
                             });
    if (!st.ok()) return st;
    if (any) out.push_back(merger.take(std::move(name)));
  }
  return out;
}

namespace {

Status check_inventory_name(std::string_view name) {
  if (name.empty()) return Status::invalid_argument("an inventory document needs a name");
  if (name.size() > 255) {
    return Status::invalid_argument(fmt::format("inventory name '{}...' is longer than 255 bytes", name.substr(0, 40)));
  }
  for (const char c : name) {
    if (c == '/' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return Status::invalid_argument(
          fmt::format("inventory name '{}' has a '/' or a control character", name));
    }
  }
  return {};
}

std::string inventory_key(std::string_view name) {
  std::string key(kInventoryPrefix);
  key += name;
  return key;
}

}  // namespace

Status RecordStore::put_inventory(std::string_view name, std::string_view xml) {
  if (auto s = check_inventory_name(name); !s.ok()) return s;
  if (xml.size() > kMaxInventoryBytes) {
    return Status::invalid_argument(fmt::format("inventory document '{}' has {}, more than the {} the store takes",
                                                name, mib(xml.size()), mib(kMaxInventoryBytes)));
  }
  Impl& m = *impl_;
  std::string value(8, '\0');
  keys::put_u64_be(reinterpret_cast<uint8_t*>(value.data()), static_cast<uint64_t>(now_ns()));
  value.append(xml);
  // Under the writer's lock, as any write: the store's health decides
  // whether it may write at all (a full disk pauses metadata as it pauses ingest).
  std::lock_guard lock(m.write_mutex);
  if (auto s = m.check_writable(); !s.ok()) return s;
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return from_rocks(m.db->Put(wo, m.meta, slice(inventory_key(name)), slice(value)),
                    fmt::format("storing inventory document '{}'", name));
}

Status RecordStore::remove_inventory(std::string_view name) {
  if (auto s = check_inventory_name(name); !s.ok()) return s;
  Impl& m = *impl_;
  const auto key = inventory_key(name);
  std::lock_guard lock(m.write_mutex);
  // Existence is checked under the lock: no other put or remove runs in between.
  std::string ignored;
  const auto got = m.db->Get({}, m.meta, slice(key), &ignored);
  if (got.IsNotFound()) return Status::not_found(fmt::format("no inventory document named '{}'", name));
  if (!got.ok()) return from_rocks(got, fmt::format("looking up inventory document '{}'", name));
  if (auto s = m.check_writable(); !s.ok()) return s;
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return from_rocks(m.db->Delete(wo, m.meta, slice(key)), fmt::format("removing inventory document '{}'", name));
}

Result<std::vector<InventoryDocument>> RecordStore::read_inventory() const {
  const Impl& m = *impl_;
  std::vector<InventoryDocument> out;
  // An iterator reads one implicit snapshot: a put or remove meanwhile is seen whole or not at all.
  std::unique_ptr<rocksdb::Iterator> it(m.db->NewIterator({}, m.meta));
  for (it->Seek(slice(kInventoryPrefix)); it->Valid(); it->Next()) {
    const auto k = view(it->key());
    if (!k.starts_with(kInventoryPrefix)) break;
    const auto v = view(it->value());
    if (v.size() < 8) return Status::corruption(fmt::format("inventory entry '{}' is shorter than its header", k));
    InventoryDocument doc;
    doc.name = std::string(k.substr(kInventoryPrefix.size()));
    doc.loaded_ns = static_cast<TimeNs>(keys::get_u64_be(reinterpret_cast<const uint8_t*>(v.data())));
    doc.xml = std::string(v.substr(8));
    out.push_back(std::move(doc));
  }
  if (!it->status().ok()) return from_rocks(it->status(), "reading the inventory documents");
  return out;
}

}  // namespace seisvault::storage
