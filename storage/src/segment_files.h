// SegmentFiles: the records' bytes, in append-only files beside RocksDB.
// Internal to storage/.
//
// Since schema 5 a block in RocksDB holds the records' metadata (block
// format 3) and names where their bytes are: a segment number and an offset.
// The bytes themselves are appended, once, to the active segment file
// (DIR/segments/<number>.seg, numbers increasing, never reused). RocksDB's
// WAL, flushes and compactions then carry ~90 bytes per record instead of
// ~600, which is what makes a record cost about one write of its bytes
// (docs/storage.md, "Payload segments").
//
// Durability rule (the caller's): the bytes a block names are on disk before
// the block can be. RecordStore::write() appends, sync()s, and only then
// writes the blocks to RocksDB, so whatever the WAL holds after a crash
// names bytes that were synced; bytes appended but never indexed (a crash
// between the two) are dead space at the end of a segment, never read.
//
// Thread-safety: one writer (append, sync, roll) under the caller's lock;
// read() and remove() from any thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <vector>

#include "seisvault/common/status.h"
#include "seisvault/storage/fault_injection.h"

namespace seisvault::storage {

class SegmentFiles {
 public:
  // Opens DIR (creating it). Appends go to a new segment, numbered after
  // every existing one (the tail of the last one may hold bytes that were
  // never indexed: left alone). segment_bytes: a segment is closed once it
  // holds at least this much. `faults` may be null. `read_only`: DIR must
  // exist, nothing in it changes, and nothing can be appended (reads only).
  static Result<std::unique_ptr<SegmentFiles>> open(const std::filesystem::path& dir, uint64_t segment_bytes,
                                                    std::shared_ptr<FaultInjection> faults, bool read_only = false);
  ~SegmentFiles();
  SegmentFiles(const SegmentFiles&) = delete;
  SegmentFiles& operator=(const SegmentFiles&) = delete;

  struct Position {
    uint64_t segment = 0;
    uint64_t offset = 0;
  };

  // Where the next append will start; closes the active segment and starts
  // a new one first when it is full (the full one is synced and closed; the
  // new file's directory entry is synced before it is used). IoError when a new file cannot be made.
  Result<Position> next_position();
  // Appends `bytes` at next_position(). On error the segment's end does not
  // move (a retry overwrites what a failed append may have left).
  Status append(std::span<const uint8_t> bytes);
  // Whether an append as large as the last one that failed would go
  // through now: allocates that much past the active segment's end
  // (fallocate, keeping its size; where the file system cannot, writes
  // zeros there, which the next append overwrites).
  Status probe();
  // Makes every append so far durable (fdatasync of the active segment;
  // a full one was synced when it was closed). An error is fail-stop for the caller (the
  // kernel may have dropped the pages).
  Status sync();

  // Reads `length` bytes at `offset` of `segment` into `out` (replacing its
  // content). NotFound when the segment was removed (retention);
  // Corruption when it is shorter than that.
  Status read(uint64_t segment, uint64_t offset, size_t length, std::string& out) const;

  // Deletes a segment that no block names any more (retention). The
  // active segment is never removed. With bytes_per_second > 0 the file is
  // first cut down `chunk_bytes` at a time at that rate (on ext4 with online
  // discard, freeing hundreds of MiB at once stalls every fsync meanwhile,
  // the WAL's too); the caller waits. A read of it meanwhile gets NotFound.
  Status remove(uint64_t segment, uint64_t chunk_bytes = 0, uint64_t bytes_per_second = 0);

  // Puts a copy of every segment into `dest` (a directory, created): full
  // segments hard-linked (copied across file systems), the active one
  // copied up to its end now; each copy and `dest` synced. The caller keeps
  // remove() away meanwhile. Adds to the counts.
  Status copy_into(const std::filesystem::path& dest, uint64_t& files, uint64_t& bytes, uint64_t& linked) const;

  struct Info {
    uint64_t segment;
    uint64_t bytes;
  };
  // Every segment with its size, oldest first.
  std::vector<Info> list() const;
  // The active segment (appends go there).
  uint64_t active() const;
  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path path_of(uint64_t segment) const;

 private:
  SegmentFiles(std::filesystem::path dir, uint64_t segment_bytes, std::shared_ptr<FaultInjection> faults);
  Status start_segment(uint64_t number);
  // pwrite()s all of `bytes` at the active segment's end (end_ does not move).
  Status write_at_end(std::span<const uint8_t> bytes);
  // An open O_RDONLY descriptor, closed when the last reader lets it go.
  struct ReadFile {
    int fd = -1;
    ~ReadFile();
  };
  // The segment's read descriptor, opened on first use; null (errno set)
  // when it cannot be opened.
  std::shared_ptr<ReadFile> reader(uint64_t segment) const;

  std::filesystem::path dir_;
  uint64_t segment_bytes_;
  std::shared_ptr<FaultInjection> faults_;

  // Writer state (the caller's lock).
  int active_fd_ = -1;
  uint64_t active_ = 0;
  uint64_t end_ = 0;           // bytes in the active segment
  bool dirty_ = false;         // appended to since the last sync
  size_t failed_bytes_ = 0;    // the size of the last append that failed

  // Read side: one O_RDONLY descriptor per segment, opened on first read.
  mutable std::shared_mutex readers_mutex_;
  mutable std::map<uint64_t, std::shared_ptr<ReadFile>> readers_;
  // Segments remove() started on (readers_mutex_): a read of one is
  // NotFound, also for a reader that opened it before.
  std::set<uint64_t> removing_;
  mutable std::mutex sizes_mutex_;
  std::map<uint64_t, uint64_t> sizes_;  // closed segments' sizes, and the active one's (updated on append)
};

}  // namespace seisvault::storage
