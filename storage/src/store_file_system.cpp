#include "store_file_system.h"

#include <string>
#include <utility>

namespace seisvault::storage {

namespace {

enum class FileKind { kWal, kTable, kOther };

FileKind kind_of(const std::string& name) {
  auto ends_with = [&](std::string_view suffix) {
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends_with(".log")) return FileKind::kWal;
  if (ends_with(".sst")) return FileKind::kTable;
  return FileKind::kOther;
}

class StoreWritableFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  StoreWritableFile(std::unique_ptr<rocksdb::FSWritableFile> file, FileKind kind, std::shared_ptr<WalGuard> guard,
                    std::shared_ptr<FaultInjection> faults)
      : FSWritableFileOwnerWrapper(std::move(file)), kind_(kind), guard_(std::move(guard)), faults_(std::move(faults)) {}
  ~StoreWritableFile() override { release(); }

  rocksdb::IOStatus Close(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    auto s = FSWritableFileOwnerWrapper::Close(o, dbg);
    release();
    return s;
  }

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                           rocksdb::IODebugContext* dbg) override {
    return append([&] { return FSWritableFileOwnerWrapper::Append(data, o, dbg); });
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                           const rocksdb::DataVerificationInfo& v, rocksdb::IODebugContext* dbg) override {
    return append([&] { return FSWritableFileOwnerWrapper::Append(data, o, v, dbg); });
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset, const rocksdb::IOOptions& o,
                                     rocksdb::IODebugContext* dbg) override {
    return append([&] { return FSWritableFileOwnerWrapper::PositionedAppend(data, offset, o, dbg); });
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset, const rocksdb::IOOptions& o,
                                     const rocksdb::DataVerificationInfo& v, rocksdb::IODebugContext* dbg) override {
    return append([&] { return FSWritableFileOwnerWrapper::PositionedAppend(data, offset, o, v, dbg); });
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    return sync([&] { return FSWritableFileOwnerWrapper::Sync(o, dbg); });
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    return sync([&] { return FSWritableFileOwnerWrapper::Fsync(o, dbg); });
  }
  rocksdb::IOStatus RangeSync(uint64_t offset, uint64_t n, const rocksdb::IOOptions& o,
                              rocksdb::IODebugContext* dbg) override {
    return sync([&] { return FSWritableFileOwnerWrapper::RangeSync(offset, n, o, dbg); });
  }

 private:
  template <class Op>
  rocksdb::IOStatus append(Op&& op) {
    const bool full = faults_ && faults_->fail_all_writes();
    if (kind_ != FileKind::kWal) {
      if (full || (kind_ == FileKind::kTable && faults_ && faults_->fail_table_writes())) return injected_no_space();
      return op();
    }
    std::lock_guard lock(guard_->mutex);
    auto s = full || (faults_ && faults_->fail_wal_writes()) ? injected_no_space() : op();
    if (!s.ok() && !failed_) {
      failed_ = true;
      guard_->failed_wals.fetch_add(1);
    }
    return s;
  }

  template <class Op>
  rocksdb::IOStatus sync(Op&& op) {
    if (kind_ != FileKind::kWal) return op();
    rocksdb::IOStatus s;
    if (faults_ && faults_->fail_wal_syncs()) {
      faults_->count_failure();
      s = rocksdb::IOStatus::IOError("injected: fsync failed: Input/output error");
    } else {
      s = op();
    }
    if (!s.ok()) guard_->sync_failed.store(true);
    return s;
  }

  // This file is closed: if an append failed on it, it no longer counts.
  void release() {
    if (std::exchange(failed_, false)) guard_->failed_wals.fetch_sub(1);
  }

  rocksdb::IOStatus injected_no_space() {
    faults_->count_failure();
    return rocksdb::IOStatus::NoSpace("injected: No space left on device");
  }

  FileKind kind_;
  std::shared_ptr<WalGuard> guard_;
  std::shared_ptr<FaultInjection> faults_;
  bool failed_ = false;  // an append failed on this file, which is still open
};

class StoreFileSystem : public rocksdb::FileSystemWrapper {
 public:
  StoreFileSystem(std::shared_ptr<rocksdb::FileSystem> base, std::shared_ptr<WalGuard> guard,
                  std::shared_ptr<FaultInjection> faults)
      : FileSystemWrapper(std::move(base)), guard_(std::move(guard)), faults_(std::move(faults)) {}

  static const char* kClassName() { return "SeisVaultStoreFileSystem"; }
  const char* Name() const override { return kClassName(); }

  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* dbg) override {
    return wrap(f, target()->NewWritableFile(f, o, r, dbg), r);
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                       std::unique_ptr<rocksdb::FSWritableFile>* r,
                                       rocksdb::IODebugContext* dbg) override {
    return wrap(f, target()->ReopenWritableFile(f, o, r, dbg), r);
  }
  rocksdb::IOStatus ReuseWritableFile(const std::string& f, const std::string& old, const rocksdb::FileOptions& o,
                                      std::unique_ptr<rocksdb::FSWritableFile>* r,
                                      rocksdb::IODebugContext* dbg) override {
    return wrap(f, target()->ReuseWritableFile(f, old, o, r, dbg), r);
  }

 private:
  rocksdb::IOStatus wrap(const std::string& name, rocksdb::IOStatus s, std::unique_ptr<rocksdb::FSWritableFile>* r) {
    if (s.ok()) *r = std::make_unique<StoreWritableFile>(std::move(*r), kind_of(name), guard_, faults_);
    return s;
  }

  std::shared_ptr<WalGuard> guard_;
  std::shared_ptr<FaultInjection> faults_;
};

}  // namespace

std::shared_ptr<rocksdb::FileSystem> make_store_file_system(std::shared_ptr<rocksdb::FileSystem> base,
                                                            std::shared_ptr<WalGuard> guard,
                                                            std::shared_ptr<FaultInjection> faults) {
  return std::make_shared<StoreFileSystem>(std::move(base), std::move(guard), std::move(faults));
}

}  // namespace seisvault::storage
