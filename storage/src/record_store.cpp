#include "seisvault/storage/record_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <queue>
#include <shared_mutex>
#include <unordered_map>

#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/sst_file_manager.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/options_util.h>
#include <rocksdb/write_batch.h>

#include "block_format.h"
#include "keys.h"

namespace seisvault::storage {

namespace {

constexpr const char* kRecordsCf = "records";
constexpr const char* kCatalogCf = "catalog";
constexpr const char* kSummaryCf = "summary";

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

// ChannelSummary <-> 64 bytes, little-endian. A summary with no records
// (all zeros) is an empty slot of a summary page.
void encode_summary(const ChannelSummary& s, char* out) {
  const int64_t fields[] = {s.first_start_ns,
                            s.last_end_ns,
                            s.last_start_ns,
                            static_cast<int64_t>(s.record_count),
                            static_cast<int64_t>(s.byte_count),
                            std::bit_cast<int64_t>(s.sample_rate),
                            s.last_receive_ns,
                            s.max_extent_ns};
  static_assert(sizeof fields == keys::kSummarySize);
  std::memcpy(out, fields, sizeof fields);
}

bool decode_summary(std::string_view v, ChannelSummary& s) {
  if (v.size() != keys::kSummarySize) return false;
  int64_t f[8];
  std::memcpy(f, v.data(), sizeof f);
  s.first_start_ns = f[0];
  s.last_end_ns = f[1];
  s.last_start_ns = f[2];
  s.record_count = static_cast<uint64_t>(f[3]);
  s.byte_count = static_cast<uint64_t>(f[4]);
  s.sample_rate = std::bit_cast<double>(f[5]);
  s.last_receive_ns = f[6];
  s.max_extent_ns = f[7];
  return true;
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
  // instead of searching from the top through every channel's entries.
  cf.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(keys::kChannelPrefixSize));
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

// A block read from the records CF, kept while its records wait in the merge heap.
struct LoadedBlock {
  std::string value;
  BlockView view;
  uint64_t seq = 0;
  uint32_t pending = 0;
};

struct PendingRecord {
  TimeNs start;
  uint64_t seq;
  uint32_t index;
  LoadedBlock* block;
  bool operator>(const PendingRecord& o) const {
    if (start != o.start) return start > o.start;
    if (seq != o.seq) return seq > o.seq;
    return index > o.index;
  }
};

}  // namespace

struct RecordStore::Impl {
  std::filesystem::path dir;
  StoreOptions options;
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;  // owned; destroyed before db
  rocksdb::ColumnFamilyHandle* meta = nullptr;
  rocksdb::ColumnFamilyHandle* records = nullptr;
  rocksdb::ColumnFamilyHandle* catalog = nullptr;
  rocksdb::ColumnFamilyHandle* summary = nullptr;

  // The catalog in memory. Ids never change once assigned, so readers may
  // see more channels than their snapshot holds; those simply have no data.
  mutable std::shared_mutex catalog_mutex;
  std::map<std::string, uint32_t, std::less<>> channel_ids;  // sorted by source id
  std::unordered_map<uint32_t, std::string> sender_names;

  // Writer state, guarded by write_mutex.
  std::mutex write_mutex;
  std::unordered_map<std::string_view, uint32_t> sender_ids;  // views into sender_names
  std::unordered_map<uint32_t, ChannelSummary> summaries;
  uint32_t next_channel_id = 1;
  uint32_t next_sender_id = 1;
  uint64_t next_seq = 1;
  // Reused between writes so that a steady stream of batches does not allocate.
  std::vector<uint32_t> record_channel;
  std::vector<uint32_t> record_sender;
  std::vector<uint32_t> order;
  std::string block_buffer;
  std::string page_buffer;
  rocksdb::WriteBatch batch;

  ~Impl() {
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    handles.clear();
  }

  Status load();
  Status migrate_from_v1();
  // Puts into `wb` every summary page holding a channel of `updated` (sorted
  // by channel id): `summaries` with `updated` laid over it.
  void put_summary_pages(rocksdb::WriteBatch& wb, std::span<const std::pair<uint32_t, ChannelSummary>> updated,
                         std::string& buffer) const;
  void encode_page(uint32_t page, std::span<const std::pair<uint32_t, ChannelSummary>> updated, std::string& out) const;
  bool is_stored_duplicate(rocksdb::Iterator& it, uint32_t channel_id, const ChannelSummary& s,
                           const NewRecord& r) const;
  std::vector<std::pair<uint32_t, std::string>> selected_channels(const ChannelSelection& sel) const;
  Result<bool> read_summary(const rocksdb::Snapshot* snap, uint32_t channel_id, ChannelSummary& out) const;
  template <class Visit>
  Status scan_channel(const rocksdb::Snapshot* snap, uint32_t channel_id, std::string_view source_id,
                      const ChannelSummary& s, TimeWindow w, Visit&& visit) const;
};

RecordStore::RecordStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RecordStore::~RecordStore() = default;
const std::filesystem::path& RecordStore::dir() const { return impl_->dir; }

Result<std::unique_ptr<RecordStore>> RecordStore::open(const std::filesystem::path& dir,
                                                       const StoreOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  impl->options = options;
  // A block holds at least one record, whatever the options say.
  impl->options.block_max_records = std::max<uint32_t>(1, options.block_max_records);
  if (options.create_if_missing) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Status::io_error(fmt::format("cannot create store directory {}: {}", dir.string(), ec.message()));
  }

  auto cache = rocksdb::NewLRUCache(options.block_cache_mib << 20);
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = options.create_if_missing;
  db_options.create_missing_column_families = options.create_if_missing;
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
  if (options.delete_rate_mib_per_s > 0) {
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
  };
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::Open(db_options, dir.string(), cfs, &impl->handles, &raw);
  if (!s.ok()) {
    return Status::io_error(fmt::format("cannot open the record store in {}: {}", dir.string(), s.ToString()));
  }
  impl->db.reset(raw);
  impl->meta = impl->handles[0];
  impl->records = impl->handles[1];
  impl->catalog = impl->handles[2];
  impl->summary = impl->handles[3];

  // Schema version: written on creation, checked on every later open.
  std::string version;
  s = impl->db->Get({}, impl->meta, slice(keys::kSchemaVersionKey), &version);
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
  } else if (version == "1") {
    if (auto st = impl->migrate_from_v1(); !st.ok()) return st;
  } else if (version != std::to_string(kSchemaVersion)) {
    return Status::incompatible(fmt::format("store in {} has schema version {}, this program reads version {}",
                                            dir.string(), version, kSchemaVersion));
  }
  if (auto st = impl->load(); !st.ok()) return st;
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

  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator({}, catalog));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const auto k = view(it->key());
    const auto v = view(it->value());
    if (k.empty()) continue;
    if (k[0] == 'c' || k[0] == 's') {
      if (v.size() != 4) return Status::corruption(fmt::format("catalog entry '{}' has a bad id", k));
      const uint32_t id = keys::get_u32_be(reinterpret_cast<const uint8_t*>(v.data()));
      if (k[0] == 'c') {
        channel_ids.emplace(std::string(k.substr(1)), id);
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

// Schema 1 -> 2: per-channel summary entries become pages. One synced write:
// a crash leaves either the old store or the new one.
Status RecordStore::Impl::migrate_from_v1() {
  std::map<uint32_t, ChannelSummary> old;
  rocksdb::WriteBatch wb;
  std::unique_ptr<rocksdb::Iterator> si(db->NewIterator({}, summary));
  for (si->SeekToFirst(); si->Valid(); si->Next()) {
    const auto k = view(si->key());
    ChannelSummary cs;
    if (k.size() != 4 || !decode_summary(view(si->value()), cs)) {
      return Status::corruption("a schema-1 channel summary has a bad size");
    }
    old[keys::get_u32_be(reinterpret_cast<const uint8_t*>(k.data()))] = cs;
    wb.Delete(summary, si->key());
  }
  if (!si->status().ok()) return from_rocks(si->status(), "reading schema-1 channel summaries");
  si.reset();
  const std::vector<std::pair<uint32_t, ChannelSummary>> all(old.begin(), old.end());
  std::string buffer;
  put_summary_pages(wb, all, buffer);
  wb.Put(meta, slice(keys::kSchemaVersionKey), std::to_string(kSchemaVersion));
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return from_rocks(db->Write(wo, &wb), "migrating the store from schema version 1");
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

bool RecordStore::Impl::is_stored_duplicate(rocksdb::Iterator& it, uint32_t channel_id, const ChannelSummary& s,
                                            const NewRecord& r) const {
  const auto from = keys::record_key(channel_id, sat_sub(r.start_ns, s.max_extent_ns), 0);
  it.Seek(slice(keys::as_view(from)));
  BlockView block;
  for (; it.Valid(); it.Next()) {
    keys::DecodedRecordKey k;
    if (!keys::decode_record_key(view(it.key()), k) || k.channel_id != channel_id || k.start > r.start_ns) break;
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

Status RecordStore::write(std::span<const NewRecord> records, std::span<WriteOutcome> outcomes, bool sync,
                          WriteStats* stats) {
  if (records.size() != outcomes.size()) return Status::internal("write(): outcomes and records differ in size");
  Impl& m = *impl_;
  std::lock_guard lock(m.write_mutex);
  WriteStats st;
  m.batch.Clear();
  const size_t n = records.size();

  // 1. Resolve channel and sender ids, adding new ones to the batch.
  std::vector<std::pair<std::string, uint32_t>> new_channels;
  std::vector<std::pair<std::string, uint32_t>> new_senders;
  m.record_channel.resize(n);
  m.record_sender.resize(n);
  {
    std::shared_lock catalog_lock(m.catalog_mutex);
    for (size_t i = 0; i < n; ++i) {
      const auto& r = records[i];
      if (auto it = m.channel_ids.find(r.source_id); it != m.channel_ids.end()) {
        m.record_channel[i] = it->second;
      } else {
        auto nc = std::find_if(new_channels.begin(), new_channels.end(),
                               [&](const auto& p) { return p.first == r.source_id; });
        if (nc == new_channels.end()) {
          new_channels.emplace_back(std::string(r.source_id), m.next_channel_id + new_channels.size());
          nc = new_channels.end() - 1;
        }
        m.record_channel[i] = nc->second;
      }
      if (r.sender.empty()) {
        m.record_sender[i] = 0;
      } else if (auto it = m.sender_ids.find(r.sender); it != m.sender_ids.end()) {
        m.record_sender[i] = it->second;
      } else {
        auto ns = std::find_if(new_senders.begin(), new_senders.end(),
                               [&](const auto& p) { return p.first == r.sender; });
        if (ns == new_senders.end()) {
          new_senders.emplace_back(std::string(r.sender), m.next_sender_id + new_senders.size());
          ns = new_senders.end() - 1;
        }
        m.record_sender[i] = ns->second;
      }
    }
  }
  for (const auto& [name, id] : new_channels) {
    m.batch.Put(m.catalog, slice(keys::channel_by_name(name)), slice(encode_u32(id)));
    m.batch.Put(m.catalog, slice(keys::channel_by_id(id)), slice(name));
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

  // 3. Per channel: drop duplicates, pack the rest into blocks, update the summary.
  std::unique_ptr<rocksdb::Iterator> dup_it;
  std::vector<std::pair<uint32_t, ChannelSummary>> updated;
  uint64_t seq = m.next_seq;
  size_t g = 0;
  while (g < n) {
    const uint32_t ch = m.record_channel[m.order[g]];
    size_t g_end = g;
    while (g_end < n && m.record_channel[m.order[g_end]] == ch) ++g_end;
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
        if (!dup_it) {
          rocksdb::ReadOptions ro;
          ro.prefix_same_as_start = true;
          dup_it.reset(m.db->NewIterator(ro, m.records));
        }
        dup = m.is_stored_duplicate(*dup_it, ch, before, r);
        if (!dup_it->status().ok()) return from_rocks(dup_it->status(), "looking for a stored duplicate");
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

    // Pack the kept records [g, g+kept) into blocks.
    size_t b = g;
    const size_t kept_end = g + kept;
    while (b < kept_end) {
      size_t e = b;
      size_t bytes = 0;
      while (e < kept_end && e - b < m.options.block_max_records &&
             (e == b || bytes + records[m.order[e]].bytes.size() <= m.options.block_max_bytes)) {
        bytes += records[m.order[e]].bytes.size();
        ++e;
      }
      const TimeNs block_start = records[m.order[b]].start_ns;
      m.block_buffer.clear();
      BlockBuilder builder;
      builder.begin(m.block_buffer, static_cast<uint32_t>(e - b));
      TimeNs block_end = kTimeMin;
      for (size_t k = b; k < e; ++k) {
        const uint32_t idx = m.order[k];
        const auto& r = records[idx];
        builder.add(r.start_ns, r.end_ns, r.receive_ns, r.sample_rate, m.record_sender[idx], r.sha256, r.bytes);
        block_end = std::max(block_end, r.end_ns);
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
      after.max_extent_ns = std::max(after.max_extent_ns, sat_sub(block_end, block_start));
      const auto key = keys::record_key(ch, block_start, seq++);
      m.batch.Put(m.records, slice(keys::as_view(key)), slice(m.block_buffer));
      ++st.blocks;
      st.stored += e - b;
      b = e;
    }
    if (kept > 0) updated.emplace_back(ch, after);
    g = g_end;
  }

  // Summaries: one entry per page of channels touched (`updated` is in
  // channel order, as the groups above).
  m.put_summary_pages(m.batch, updated, m.page_buffer);

  if (seq != m.next_seq) {
    std::string v(8, '\0');
    keys::put_u64_be(reinterpret_cast<uint8_t*>(v.data()), seq);
    m.batch.Put(m.meta, slice(keys::kNextSeqKey), slice(v));
  }
  // New catalog names are published before the write: a reader whose
  // snapshot includes the batch must be able to name its channels and
  // senders. Ids are never reused; unused ones are harmless.
  auto publish_names = [&](bool add) {
    if (new_channels.empty() && new_senders.empty()) return;
    std::unique_lock catalog_lock(m.catalog_mutex);
    for (const auto& [name, id] : new_channels) {
      if (add) m.channel_ids.emplace(name, id); else m.channel_ids.erase(name);
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
  publish_names(true);
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  if (m.batch.Count() > 0) {
    if (auto s = m.db->Write(wo, &m.batch); !s.ok()) {
      publish_names(false);
      return from_rocks(s, "writing a batch of records");
    }
  } else if (sync) {
    // Only duplicates: their first copies may still wait for an fsync, and
    // the caller is about to say they are durable.
    if (auto s = m.db->SyncWAL(); !s.ok()) return from_rocks(s, "syncing the write-ahead log");
  }

  // 4. The batch is in: the writer's state moves on.
  m.next_seq = seq;
  for (auto& [ch, s] : updated) m.summaries[ch] = s;
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

StoreHealth RecordStore::health() const { return {}; }

Status RecordStore::sync_wal() { return from_rocks(impl_->db->SyncWAL(), "syncing the write-ahead log"); }

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

// Calls visit(entry, seq) for every record of one channel overlapping the
// window, in (start, seq, index) order: blocks come in key order (start of
// their first record), so a record can be released once the next block
// starts after it.
template <class Visit>
Status RecordStore::Impl::scan_channel(const rocksdb::Snapshot* snap, uint32_t channel_id,
                                       std::string_view source_id, const ChannelSummary& s, TimeWindow w,
                                       Visit&& visit) const {
  if (s.record_count == 0 || s.last_end_ns < w.begin_ns || s.first_start_ns > w.end_ns) return {};
  const auto from = keys::record_key(channel_id, sat_sub(w.begin_ns, s.max_extent_ns), 0);
  const auto to = channel_id == UINT32_MAX ? keys::record_key(channel_id, kTimeMax, UINT64_MAX)
                                           : keys::record_key(channel_id + 1, kTimeMin, 0);
  rocksdb::ReadOptions ro;
  ro.snapshot = snap;
  rocksdb::Slice upper(reinterpret_cast<const char*>(to.data()), to.size());
  ro.iterate_upper_bound = &upper;
  ro.prefix_same_as_start = true;
  ro.readahead_size = 2 << 20;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, records));

  std::deque<LoadedBlock> blocks;
  std::priority_queue<PendingRecord, std::vector<PendingRecord>, std::greater<>> heap;
  bool stop = false;
  auto release_before = [&](TimeNs limit) {
    while (!stop && !heap.empty() && heap.top().start < limit) {
      const PendingRecord p = heap.top();
      heap.pop();
      if (!visit(p.block->view.entry(p.index))) stop = true;
      --p.block->pending;
    }
    while (!blocks.empty() && blocks.front().pending == 0) blocks.pop_front();
  };

  for (it->Seek(slice(keys::as_view(from))); it->Valid() && !stop; it->Next()) {
    keys::DecodedRecordKey k;
    if (!keys::decode_record_key(view(it->key()), k)) return Status::corruption("a record key has a bad size");
    if (k.start > w.end_ns) break;
    release_before(k.start);
    if (stop) break;
    auto& b = blocks.emplace_back();
    b.value.assign(it->value().data(), it->value().size());
    b.seq = k.seq;
    if (auto st = b.view.parse(b.value); !st.ok()) {
      return Status::corruption(fmt::format("{} (channel {}, block {})", st.message(), source_id, k.seq));
    }
    for (uint32_t i = 0; i < b.view.size(); ++i) {
      const auto e = b.view.entry(i);
      if (e.start_ns <= w.end_ns && e.end_ns >= w.begin_ns) {
        heap.push({e.start_ns, k.seq, i, &b});
        ++b.pending;
      }
    }
    if (b.pending == 0) blocks.pop_back();
  }
  if (!it->status().ok()) return from_rocks(it->status(), "reading records");
  release_before(kTimeMax);
  if (!stop && !heap.empty()) {  // records starting at exactly kTimeMax
    while (!heap.empty() && !stop) {
      const PendingRecord p = heap.top();
      heap.pop();
      if (!visit(p.block->view.entry(p.index))) stop = true;
    }
  }
  return {};
}

Status RecordStore::read_records(const ChannelSelection& selection, TimeWindow window,
                                 const std::function<bool(const StoredRecord&)>& visitor) const {
  const Impl& m = *impl_;
  const auto channels = m.selected_channels(selection);
  if (channels.empty()) return {};
  rocksdb::ManagedSnapshot snap(m.db.get());
  // Not a structured binding: the lambda below captures id and name, which
  // Debian's clang 14 does not allow for bindings (C++20's P1091, clang 16).
  for (const auto& channel : channels) {
    const uint32_t id = channel.first;
    const std::string& name = channel.second;
    ChannelSummary s;
    auto has = m.read_summary(snap.snapshot(), id, s);
    if (!has.ok()) return has.status();
    if (!*has) continue;
    bool stopped = false;
    std::unordered_map<uint32_t, std::string> sender_cache;
    auto st = m.scan_channel(snap.snapshot(), id, name, s, window, [&](const BlockEntry& e) {
      StoredRecord r;
      r.channel_id = id;
      r.source_id = name;
      r.start_ns = e.start_ns;
      r.end_ns = e.end_ns;
      r.receive_ns = e.receive_ns;
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
      if (!visitor(r)) {
        stopped = true;
        return false;
      }
      return true;
    });
    if (!st.ok()) return st;
    if (stopped) break;
  }
  return {};
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
    auto st = m.scan_channel(snap.snapshot(), id, name, s, window, [&](const BlockEntry& e) {
      merger.add(e.start_ns, e.end_ns, e.sample_rate);
      any = true;
      return true;
    });
    if (!st.ok()) return st;
    if (any) out.push_back(merger.take(std::move(name)));
  }
  return out;
}

}  // namespace seisvault::storage
