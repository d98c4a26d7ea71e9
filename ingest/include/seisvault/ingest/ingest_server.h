// IngestServer: the station socket and the pipeline behind it.
//
//   ROUTER (CURVE, ZAP) --receiver--> validate queue --N workers--> commit queue
//        ^                                                              |
//        +-- acks (inproc) <-- syncer (fsync) <-- committer (1 writer, RocksDB)
//
// One stage per file in ingest/src (pipeline.h shows what they share):
// - receiver.cpp: owns the ZeroMQ socket (sockets are single-threaded):
//   reads a batch, knows its sender from the ZAP User-Id (the station's
//   public key), answers malformed/oversized messages itself, and sends the
//   acks the syncer hands back.
// - validation_worker.cpp (N threads): each record's SHA-256, its validity
//   (RecordValidator), and whether the sender may write its NET.STA.
// - committer.cpp (the only writer): groups accepted records of several
//   batches into one RocksDB write.
// - syncer.cpp: makes written batches durable under the sync policy, then
//   acknowledges exactly those batches and offers their records to
//   on_durable.
// - rejection_log.cpp: counts rejections and logs a summary every 10 s.
// Queues are moodycamel's lock-free queues; their depth is bounded by the
// number of batches in flight, which the receiver caps by not reading while
// the cap is reached (backpressure through ZeroMQ's high-water marks to the
// stations, never loss).
#pragma once

#include <memory>
#include <string>

#include "seisvault/common/status.h"
#include "seisvault/ingest/access_control.h"
#include "seisvault/ingest/ingest_options.h"
#include "seisvault/ingest/ingest_stats.h"
#include "seisvault/storage/record_store.h"

namespace seisvault::ingest {

class IngestServer {
 public:
  // Binds the station socket and starts the threads. `store` and `access`
  // must outlive the server. Errors: InvalidArgument (insecure mode on a
  // non-loopback endpoint, missing keys), IoError (cannot bind).
  static Result<std::unique_ptr<IngestServer>> start(const IngestOptions& options, storage::RecordStore& store,
                                                     const AccessControl& access);
  // Calls stop().
  ~IngestServer();
  IngestServer(const IngestServer&) = delete;
  IngestServer& operator=(const IngestServer&) = delete;

  // The endpoint actually bound (the port resolved when "*" was asked for).
  const std::string& endpoint() const;

  // Stops reading new batches, lets every batch already read be validated,
  // committed, made durable and acknowledged, then joins the threads.
  // Idempotent; safe from any thread but not concurrently with itself.
  void stop();

  const IngestStats& stats() const;

 private:
  struct Impl;
  explicit IngestServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Whether an endpoint is on this host only (ipc://, inproc://, tcp:// to a
// 127.x.x.x address, localhost or [::1]): the only places --insecure may bind.
bool is_loopback_endpoint(std::string_view endpoint);

}  // namespace seisvault::ingest
