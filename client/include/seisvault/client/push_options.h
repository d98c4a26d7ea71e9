// PushOptions: everything a PushClient needs to know, with the defaults a
// station should normally keep.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "seisvault/client/push_stats.h"
#include "seisvault/common/curve_keys.h"
#include "seisvault/common/signing_keys.h"

namespace seisvault::client {

struct PushOptions {
  // The server's ingest endpoint, e.g. "tcp://seisvault.example.org:5555".
  std::string endpoint;

  // The server's CURVE public key (Z85, its DATA_DIR/server.pub). Empty
  // means plain mode, for a server started with --insecure: no encryption
  // and no authentication. Then `client_keys` is ignored.
  std::string server_public_key;

  // This station's CURVE key pair (from `seisvault keygen`). The public key
  // must be in the server's authorized_stations list.
  CurveKeyPair client_keys;

  // This station's signing key (PREFIX.sign from `seisvault keygen`).
  // When set, every batch is signed (Ed25519) as it is sent
  // (docs/provenance.md). A server that has a signing key registered for
  // this station refuses unsigned batches, or batches signed by another
  // key: then add(), flush() and poll() fail with PermissionDenied and
  // the records stay in the spool.
  std::optional<SigningKeyPair> signing_key;

  // Where batches wait until acknowledged (see spool.h). Empty: no spool;
  // then records not yet acknowledged when the client is destroyed, or the
  // process dies, are lost (they are still in the caller's source). Set it
  // on any station that must not lose data across a crash or an outage.
  std::filesystem::path spool_dir;

  // Batch size limits (see batch_builder.h). The server's own limits, sent
  // on every ack, lower these when they are smaller (default server limits:
  // 10000 records, 16 MiB). Larger batches cost fewer round trips and
  // fsyncs; smaller ones lower the latency of real-time data.
  size_t max_batch_records = 1000;
  size_t max_batch_bytes = size_t{4} << 20;

  // A partial batch is sent once its first record has waited this long, so
  // that a slow real-time stream is not held back until a batch fills.
  std::chrono::milliseconds max_batch_delay{1000};

  // Batches sent and not yet acknowledged, at most. When this many are
  // outstanding, add() waits for acks (backpressure). Memory held is about
  // (max_in_flight + 1) * max_batch_bytes.
  size_t max_in_flight = 8;

  // A batch that has not been acknowledged this long after it was sent is
  // sent again (resending is always safe: the server answers DUPLICATE).
  // Covers messages lost with a dropped connection. Raise it for servers
  // that are slow to make batches durable.
  std::chrono::milliseconds ack_timeout{10'000};

  // Backoff for records the server answered but did not store for a
  // transient reason (proto/ingest.proto: a record REJECTED INTERNAL, a
  // batch refused STORE_UNAVAILABLE or BUSY): they are kept (in the spool,
  // if there is one) and resent after a delay that starts at retry_interval
  // and doubles, up to retry_interval_max, while answers keep storing
  // nothing; each delay is drawn between half and all of its step (jitter,
  // so that many stations do not come back at once), never shorter than the
  // server's retry_after_ms (which is honoured up to 10 minutes), and the
  // steps start again from retry_interval once the server stores anything.
  std::chrono::milliseconds retry_interval{1'000};
  std::chrono::milliseconds retry_interval_max{30'000};

  // ZeroMQ's reconnection backoff: the first retry after reconnect_interval,
  // doubling up to reconnect_interval_max.
  std::chrono::milliseconds reconnect_interval{100};
  std::chrono::milliseconds reconnect_interval_max{5'000};

  // The security handshake may fail this many times in a row (server
  // refused the key, wrong server key, CURVE/plain mismatch) before the
  // client gives up with PermissionDenied. A server that cannot be reached
  // at all is not a handshake failure: that is retried without limit.
  int max_handshake_failures = 3;

  // While batches are outstanding and the server has finished no record
  // (stored, duplicate or rejected for good) for this long, add(), flush()
  // and poll() fail with DeadlineExceeded. An answer that stores nothing (a
  // server that keeps saying STORE_UNAVAILABLE, BUSY or INTERNAL) is not
  // progress: such a server is given up on like a silent one, and the
  // records stay outstanding (in the spool, if there is one). Zero: wait
  // forever (a station streaming through outages, with a spool).
  std::chrono::milliseconds stall_timeout{0};

  // Called once for every record's final outcome (stored, duplicate, or
  // rejected for a permanent reason), in ack order, on the caller's thread
  // (inside add(), flush() or poll()). A record the server did not store
  // for a transient reason is not reported until the answer to its resend
  // is final. Optional.
  std::function<void(const RecordOutcome&)> on_result;

  // Called when the connection state changes, with a human explanation
  // ("connection refused, retrying", ...). Optional; without it the client
  // logs the changes through spdlog.
  std::function<void(ConnectionState, std::string_view detail)> on_connection;

  // Called about every 100 ms while add(), flush() or poll() wait; return
  // false to make the waiting call return Cancelled. Optional. A program can
  // refresh a progress display here or notice a signal.
  std::function<bool()> keep_waiting;
};

}  // namespace seisvault::client
