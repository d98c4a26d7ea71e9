// QueryClient: the C++ client of seisvaultd's query service
// (proto/waveform.proto, gRPC service seisvault.waveform.v1.Waveforms).
//
// A thin layer over the generated stub: it builds the requests from a
// selection and a time window, adds the bearer token, applies the deadlines,
// and hands each streamed message to a callback, so that a caller never holds
// more than one message of a long answer. Results are the protocol's own
// messages (waveform::v1::Channel, Record, Segment, ...): their fields are
// documented in waveform.proto.
//
// Errors are values: every call returns a grpc::Status, OK or the server's
// (or the transport's) code and message. An empty answer is OK, not an error.
// A QueryClient is safe for concurrent calls from several threads (the
// stub and the channel are); a callback runs on the calling thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "seisvault/common/time.h"
#include "seisvault/proto/waveform.grpc.pb.h"

namespace seisvault::client {

struct QueryClientOptions {
  // seisvaultd's --api address, HOST:PORT (anything gRPC accepts as a target).
  std::string target;
  // Sent as "authorization: Bearer TOKEN" on every call; empty: no header
  // (a server started with --api-token-file then answers UNAUTHENTICATED).
  std::string token;
  // TLS (a server started with --api-tls-cert). Off: plaintext.
  bool tls = false;
  // With tls: the PEM certificates of the CA(s) to trust; empty: the
  // system's default roots.
  std::string tls_ca_pem;
  // Deadline of each unary call (list_channels, get_availability, get_stats).
  // Raise it only for a very slow link: these answers are small.
  std::chrono::milliseconds unary_timeout{std::chrono::seconds(60)};
  // Deadline of each finite stream (get_records, get_samples, verify); zero
  // means none, the default, because their length grows with the data asked
  // for. subscribe never has a deadline.
  std::chrono::milliseconds stream_timeout{0};
};

// Which channels and when: the request's Selection and TimeWindow.
struct QueryScope {
  // NET.STA.LOC.CHA patterns with SEED wildcards, OR-ed (see Selection in
  // waveform.proto); empty selects every channel.
  std::vector<std::string> patterns;
  // Inclusive bounds, nanoseconds since the epoch; unset is open.
  std::optional<TimeNs> start_ns;
  std::optional<TimeNs> end_ns;
};

// The canonical upper-case name of a gRPC status code ("INVALID_ARGUMENT").
std::string_view grpc_code_name(grpc::StatusCode code);

class QueryClient {
 public:
  // Never fails: gRPC connects on the first call, and an unreachable server
  // is reported by that call as UNAVAILABLE.
  explicit QueryClient(QueryClientOptions options);

  const QueryClientOptions& options() const { return options_; }

  // The channels selected by scope.patterns (the window is not used), in
  // source id order.
  grpc::Status list_channels(const QueryScope& scope, std::vector<waveform::v1::Channel>* channels) const;

  // The stored records of the scope, byte-identical, in channel then start
  // time order. `on_record` returning false stops the call early; the call
  // then returns OK.
  grpc::Status get_records(const QueryScope& scope,
                           const std::function<bool(const waveform::v1::Record&)>& on_record) const;

  // The samples of the scope as segments, in channel then time order. A
  // segment with continues_previous set carries on the one before it (the
  // caller merges them). `on_segment` returning false stops early (OK).
  grpc::Status get_samples(const QueryScope& scope,
                           const std::function<bool(const waveform::v1::Segment&)>& on_segment) const;

  // Spans and gaps of each selected channel; `tolerance_ns` unset uses the
  // server's default (half a sample period).
  grpc::Status get_availability(const QueryScope& scope, std::optional<TimeNs> tolerance_ns,
                                waveform::v1::GetAvailabilityResponse* response) const;

  // Live records of the selected channels as they are stored (first the
  // stored ones starting at or after `since_ns`, when given), and Skipped
  // events when this subscriber fell behind. Runs until `on_event` returns
  // false, `stop` is requested (from any thread) or the server ends the
  // stream; the first two return OK. The server ending the stream (it shuts
  // down) returns OK too: the caller tells them apart by what it asked for.
  grpc::Status subscribe(const std::vector<std::string>& patterns, std::optional<TimeNs> since_ns,
                         const std::function<bool(const waveform::v1::SubscribeEvent&)>& on_event,
                         std::stop_token stop = {}) const;

  // The server's counters.
  grpc::Status get_stats(waveform::v1::Stats* stats) const;

  // Station metadata (StationXML) the server's FDSN station service answers
  // from: store a document under `name` (replacing one of that name; the
  // server validates it: INVALID_ARGUMENT says what is wrong), list the
  // stored documents, remove one (NOT_FOUND when absent). Changes need the
  // server's token, or its API on loopback (PERMISSION_DENIED).
  grpc::Status put_inventory(const std::string& name, const std::string& stationxml,
                             waveform::v1::InventoryDocumentInfo* info) const;
  grpc::Status list_inventory(waveform::v1::ListInventoryResponse* response) const;
  grpc::Status remove_inventory(const std::string& name) const;

  // Asks the server for a consistent copy of its store in `destination`, an
  // absolute path on the server's machine that does not exist yet (the
  // server refuses a client on another machine: PERMISSION_DENIED; an
  // existing destination: INVALID_ARGUMENT). Rights as for put_inventory.
  grpc::Status backup(const std::string& destination, waveform::v1::BackupResponse* response) const;

  // Re-checks the stored records of the scope (SHA-256, still a valid
  // record, index agrees): each problem, then one summary as the last
  // report. `on_report` returning false stops early (OK).
  grpc::Status verify(const QueryScope& scope,
                      const std::function<bool(const waveform::v1::VerifyReport&)>& on_report) const;

  // The ledger's entries from `first` to `last` (0: the head), in order,
  // a message of about 1 MiB at a time (only the key events among them
  // when `key_events_only`); `on_entries` returning false stops early (OK).
  grpc::Status get_ledger(uint64_t first, uint64_t last,
                          const std::function<bool(const waveform::v1::LedgerEntries&)>& on_entries,
                          bool key_events_only = false) const;

  // The server's checkpoints of the ledger, in order of count.
  grpc::Status get_checkpoints(const std::function<bool(const waveform::v1::Checkpoint&)>& on_checkpoint) const;

 private:
  // A context with the token and, when `timeout` is not zero, a deadline.
  std::unique_ptr<grpc::ClientContext> context(std::chrono::milliseconds timeout) const;

  QueryClientOptions options_;
  std::unique_ptr<waveform::v1::Waveforms::Stub> stub_;
};

}  // namespace seisvault::client
