// What a PushClient reports: the outcome of each record, running counts,
// and the state of its connection to the server.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>

namespace seisvault::client {

// The server's verdict on one record (seisvault.ingest.v1.RecordStatus).
enum class RecordStatus : uint8_t {
  kStored,     // new, validated, and durable on the server
  kDuplicate,  // the server already had these exact bytes: nothing to do
  kRejected,   // not stored; see the reason
};

std::string_view record_status_name(RecordStatus status);

// One record's outcome, handed to PushOptions::on_result. The views are
// valid only during the callback.
struct RecordOutcome {
  uint64_t batch_id = 0;
  uint32_t index = 0;               // position in its batch
  RecordStatus status = RecordStatus::kStored;
  uint32_t reject_code = 0;         // when rejected: seisvault.ingest.v1.RejectCode number
  std::string_view reject_name;     // when rejected: its name, e.g. "HASH_MISMATCH"
  std::string_view message;         // when rejected: what is wrong, from the server
  std::span<const uint8_t> record;  // the record bytes as sent
};

// The name of a seisvault.ingest.v1.RejectCode number ("REJECT_CODE_<n>"
// for a number this client does not know).
std::string reject_code_name(uint32_t code);

struct RejectTally {
  uint64_t count = 0;
  std::string name;           // e.g. "NOT_MINISEED"
  std::string first_message;  // the server's message for the first such record
};

// Running counts since the PushClient was opened. Records counted as added
// are those accepted by add(); recovered ones came from the spool of an
// earlier run. Every record ends up stored, duplicate or rejected (for a
// permanent reason: the record itself is wrong) once the server has given
// it a final answer. A record the server did not store for a transient
// reason (INTERNAL, BATCH_TOO_LARGE, a batch refused STORE_UNAVAILABLE,
// BUSY or OVERSIZED_BATCH) is not rejected: it is kept and resent, and
// counted in records_kept each time that happens.
struct PushStats {
  uint64_t records_added = 0;
  uint64_t records_recovered = 0;   // in batches found in the spool at start
  uint64_t batches_recovered = 0;
  uint64_t batches_sent = 0;        // first sends
  uint64_t records_sent = 0;        // records of those first sends
  uint64_t batches_resent = 0;      // sends of records sent before (ack timeout, reconnection, server
                                    // stopping, records kept after a transient answer)
  uint64_t batches_acked = 0;
  uint64_t late_acks = 0;           // acks for batches already acknowledged (ignored)
  uint64_t spool_files_quarantined = 0;

  uint64_t stored = 0;
  uint64_t duplicate = 0;
  uint64_t rejected = 0;
  std::map<uint32_t, RejectTally> rejected_by_reason;  // by RejectCode number

  // Answers that stored nothing of some records and asked for them again
  // (one per batch answered so), the records kept for resending, and the
  // records per cause: a RejectCode name ("INTERNAL", "BATCH_TOO_LARGE") or
  // a BatchError name ("STORE_UNAVAILABLE", "BUSY", "OVERSIZED_BATCH"),
  // with the server's first message.
  uint64_t retries = 0;
  uint64_t records_kept = 0;
  std::map<std::string, RejectTally> kept_by_cause;
  // Batches cut into smaller ones because the server's limits are lower
  // than the batch (BATCH_TOO_LARGE, OVERSIZED_BATCH).
  uint64_t batches_split = 0;
  // Batches whose id the server had spent (REPLAYED_BATCH: at or below the
  // highest this station key has stored), their records sent again under
  // new ids.
  uint64_t batches_renumbered = 0;

  uint64_t records_acked() const { return stored + duplicate + rejected; }
};

// Whether the client has a working session with the server.
enum class ConnectionState : uint8_t {
  kConnecting,  // started, no outcome yet
  kConnected,   // the security handshake succeeded; batches flow
  kWaiting,     // the server is unreachable, the connection dropped, or the server answers that it cannot
                // store now (shutting down, store unavailable, busy); retrying with backoff
  kRefused,     // the server refused us (key not authorized, wrong server key): given up
};

std::string_view connection_state_name(ConnectionState state);

}  // namespace seisvault::client
