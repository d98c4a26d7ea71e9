// PushClient: sends a station's records to seisvaultd and makes sure each one
// is acknowledged (proto/ingest.proto is the wire contract).
//
// How it works. add() copies each record with its SHA-256 into the current
// batch. A batch is sealed when the next record would break a batch limit,
// when its first record has waited max_batch_delay, or on flush(); a sealed
// batch gets the next batch id, is written to the spool (when there is
// one), and is sent as one frame on a ZeroMQ DEALER socket (CURVE unless the
// server key is empty). At most max_in_flight batches are outstanding; add()
// waits for acks beyond that. Every ack's per-record results go to
// on_result and into stats(); the acknowledged batch leaves memory and the
// spool, except for records the server asks for again (see "What is kept").
//
// Delivery. Nothing is given up silently: a batch not acknowledged within
// ack_timeout is resent, batches outstanding when a connection drops are
// resent when the next one is up, and a batch the server answers with
// SERVER_STOPPING is resent a second later. Acks may come in any order and
// twice; the first ack of a batch counts, later ones are ignored. ZeroMQ
// reconnects on its own with backoff (reconnect_interval..._max), while the
// connection state goes to kWaiting ("waiting for server").
//
// What is kept. A record is done when the server answers STORED, DUPLICATE
// or REJECTED for a permanent reason (common/reject_reason.h: the record
// itself is wrong); only then is it reported and dropped. Everything else
// the server did not store is kept and resent (proto/ingest.proto):
//   - records REJECTED for a transient reason (INTERNAL, or a reason or
//     status this client does not know), and a batch refused
//     STORE_UNAVAILABLE, BUSY or with a batch error this client does not
//     know: resent after a backoff (retry_interval,
//     doubling to retry_interval_max, jittered, never before the server's
//     retry_after_ms, back to the start once the server stores anything;
//     a new connection after a lost one ends the wait: the server may have
//     been restarted), with the connection state kWaiting saying why ("the
//     server cannot store now: <its message>; keeping N records, resending
//     in X s");
//   - records REJECTED BATCH_TOO_LARGE and a batch refused OVERSIZED_BATCH:
//     cut to the limits the ack carries (halved when the batch is already
//     within them) and the parts sent at once; a single record still too
//     large waits like the above.
// A batch kept whole is resent as it is (same id, same spool file). When
// only some of its records are kept, or it is cut, its kept records go into
// new batches (new ids), each written to the spool before the old batch's
// file is removed. stats() counts retries, records_kept (by cause) and
// batches_split; stall_timeout does not count answers that store nothing as
// progress.
//
// Refusal. The security handshake is watched (a ZeroMQ socket monitor):
// when it fails max_handshake_failures times in a row, because the server
// refused the station key, the server key is wrong or one side runs
// --insecure, the client stops and every call returns PermissionDenied
// saying which. An unreachable server is not a refusal: that is retried for
// as long as the caller waits.
//
// Durability. With a spool, a record survives a crash of the client once
// its batch is sealed: after the add() that started the next batch, or
// after flush(), or (during add(), flush() or poll()) once its first record
// has waited max_batch_delay while fewer than max_in_flight batches are
// outstanding. It stays in the spool until the server has answered it with
// a final outcome (records kept after a transient answer are in the spool
// all along, see "What is kept"). The destructor also writes the unsealed
// batch to the spool. The next PushClient on that spool sends the spooled
// batches first. Without a spool, what is not yet finished when the client
// is destroyed is lost (it is still in the caller's source).
//
// Errors. add(), flush() and poll() return OK or the first fatal error
// (PermissionDenied: refused; Incompatible: the server does not speak
// protocol 1; IoError: the spool cannot be written; Internal: the server
// could not read our batches); after a fatal error every call returns it.
// DeadlineExceeded (stall_timeout, flush's timeout) and Cancelled
// (keep_waiting) are not fatal: the call can be made again.
//
// Batch ids. With a spool they come from the spool's counter (spool.h), so
// they increase across runs. Without one they start from the clock (in
// microseconds since 1970), which also keeps them increasing from run to run.
//
// Threads. A PushClient is driven by one thread; its callbacks run on that
// thread inside add(), flush() and poll(). It owns its own ZeroMQ context.
// Movable, not copyable; a moved-from PushClient may only be destroyed or
// assigned to.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>

#include "seisvault/client/push_options.h"
#include "seisvault/client/push_stats.h"
#include "seisvault/common/status.h"

namespace seisvault::client {

class PushClient {
 public:
  // Validates the options, opens the spool (taking its lock and listing the
  // batches left in it) and starts connecting; does not wait for the server.
  // InvalidArgument for bad options (endpoint, keys, limits), the spool's
  // errors (see Spool::open).
  static Result<PushClient> open(PushOptions options);

  PushClient(PushClient&&) noexcept;
  PushClient& operator=(PushClient&&) noexcept;
  ~PushClient();  // see "Durability"; does not wait for the server

  // Queues one record (its bytes are copied). May first seal and send the
  // current batch, waiting while max_in_flight batches are outstanding.
  // On any error the record was not queued.
  Status add(std::span<const uint8_t> record);

  // Seals the current batch and waits until every batch (including those
  // recovered from the spool) is acknowledged. OK when none is left;
  // DeadlineExceeded when `timeout` (or stall_timeout) elapses first, with
  // what is still outstanding; a fatal error otherwise.
  Status flush(std::chrono::milliseconds timeout);

  // Does the background work for `wait` (acks, resends, reconnection, the
  // max_batch_delay seal) and returns. For callers that pause between
  // records, e.g. while following a file.
  Status poll(std::chrono::milliseconds wait);

  const PushStats& stats() const;
  ConnectionState connection_state() const;
  // Records queued but not yet finished: the current batch and the batches
  // in memory, including records kept for resending (spooled batches not
  // yet loaded are not counted).
  uint64_t unacknowledged_records() const;
  // Batches sealed and not yet acknowledged, including spooled batches not
  // yet loaded.
  uint64_t unacknowledged_batches() const;

 private:
  struct Impl;
  explicit PushClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace seisvault::client
