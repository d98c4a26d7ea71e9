// Spool: the station's on-disk queue of batches the server has not yet
// acknowledged, so that neither a client crash nor a server outage loses
// a record.
//
// PushClient writes every batch to the spool before it sends it and removes
// it when the server's ack arrives; a PushClient opened on a spool that
// still holds batches (from a run that crashed, was killed, or gave up
// waiting) sends those first, with their original batch ids.
//
// On-disk format of a spool directory (format version 1):
//
//   lock
//       Empty file, flock()ed exclusively while a Spool is open, so two
//       pushers can never share (and double-send or delete) one spool.
//   next_batch_id
//       One line, a decimal number: every batch id this spool has handed
//       out is below it. Ids are reserved in blocks (kBatchIdBlock), so the
//       file is rewritten (atomically and durably, atomic_file.h) once per
//       block, not once per batch. Batch ids therefore keep increasing across runs
//       but are not contiguous.
//   batch-<id as 20 decimal digits>.svb
//       One batch, written atomically and durably (atomic_file.h: a
//       temporary file, fsync, rename, directory fsync) before the batch is
//       first sent:
//         bytes  0..7   magic "SVBATCH1"
//         bytes  8..15  payload length, unsigned 64-bit little-endian
//         bytes 16..47  SHA-256 of the payload
//         bytes 48..    payload: the serialized seisvault.ingest.v1.IngestBatch
//                       exactly as it goes on the wire (its batch_id is <id>)
//   .batch-<...>.tmp, .next_batch_id.<...>.tmp
//       A file being written when the process died (".batch-<id>.svb.<pid>.tmp";
//       older versions wrote ".batch-<id>.tmp"). A batch in one was never
//       sent, so these are deleted when the spool is opened.
//   batch-<id>.svb.corrupt
//       A batch file that failed its checks (wrong magic, length or hash),
//       set aside for the operator rather than sent or deleted.
//
// A Spool is used by one thread at a time; it is move-only and releases its
// lock when destroyed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "seisvault/client/unique_fd.h"
#include "seisvault/common/status.h"

namespace seisvault::client {

class Spool {
 public:
  // How many batch ids one write of next_batch_id reserves.
  static constexpr uint64_t kBatchIdBlock = 4096;
  // Bytes before the payload in a batch file.
  static constexpr size_t kHeaderSize = 48;

  // Opens (creating if needed) the spool in `dir`: takes the lock, deletes
  // leftover temporary files and lists the batch files present.
  // Errors: IoError (cannot create/read the directory), InvalidArgument
  // (another process holds the spool's lock), Corruption (unreadable
  // next_batch_id).
  static Result<Spool> open(const std::filesystem::path& dir);

  Spool(Spool&&) noexcept = default;
  Spool& operator=(Spool&&) noexcept = default;
  ~Spool() = default;

  const std::filesystem::path& dir() const { return dir_; }

  // The ids of the batch files present, ascending (scans the directory).
  Result<std::vector<uint64_t>> list() const;

  // A new batch id, above every id handed out before by this spool
  // directory (and above every batch file in it). Never 0. May write and
  // fsync next_batch_id (once per kBatchIdBlock ids); IoError if that fails.
  Result<uint64_t> allocate_batch_id();

  // Makes every id allocate_batch_id() hands out from now on above `id`
  // (the server has stored batches up to it: a signing station's ids must
  // stay above them). May write and fsync next_batch_id; IoError.
  Status skip_past(uint64_t id);

  // Writes the batch durably (see the format above). When this returns OK
  // the batch survives a crash of the process or of the machine. IoError
  // otherwise (nothing is left behind under the final name).
  Status write(uint64_t batch_id, std::span<const uint8_t> payload);

  // The payload of a batch file. NotFound if there is none, Corruption if
  // it fails its checks, IoError if it cannot be read.
  Result<std::string> read(uint64_t batch_id) const;

  // Deletes a batch file (after its ack). Deleting a file that is not there
  // is OK. Not fsynced: a file that reappears after a crash is only resent,
  // and the server answers DUPLICATE.
  Status remove(uint64_t batch_id);

  // Renames a batch file that failed its checks to "<name>.corrupt".
  Status quarantine(uint64_t batch_id);

  // The path of a batch's file (whether or not it exists).
  std::filesystem::path batch_path(uint64_t batch_id) const;

 private:
  Spool(std::filesystem::path dir, UniqueFd lock, uint64_t next_id);
  Status reserve_ids(uint64_t until);

  std::filesystem::path dir_;
  UniqueFd lock_;
  uint64_t next_id_ = 1;      // the next id to hand out
  uint64_t reserved_end_ = 0; // next_batch_id on disk: ids below it may be handed out
};

}  // namespace seisvault::client
