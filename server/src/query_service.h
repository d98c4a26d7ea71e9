// QueryService: the read side of SeisVault, whatever the transport.
//
// Both faces of the server read through it: the gRPC API (waveform_service)
// and the HTTP face (the FDSN web services). It owns the request checks
// (bearer token, selection size, window length, the per-request data limit)
// and the read paths over the record store, so that a request means the same
// thing and is held to the same limits whichever way it arrives. It knows
// nothing of protobuf or HTTP: requests are plain structs, answers are
// Status/Result and visitor callbacks.
//
// Errors: InvalidArgument (a malformed or over-limit request; the message
// says what to change), Unauthenticated (token missing or wrong),
// ResourceExhausted (more data than the per-request limit), and the store's
// IoError/Corruption. Thread-safe: every method is const and may run
// concurrently with ingest.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bearer_token.h"
#include "seisvault/common/status.h"
#include "seisvault/storage/record_store.h"

namespace seisvault::server {

struct QueryOptions {
  // When set, every request must carry "Bearer TOKEN" (gRPC "authorization"
  // metadata, HTTP "Authorization" header).
  std::string token;
  // Windows longer than this are refused (InvalidArgument). Open bounds
  // count from the selected data's extent. 0: no limit.
  int64_t max_window_s = 366 * 86400;
  // A selection with more patterns, or more bytes of patterns, is refused
  // (InvalidArgument). A selection is matched against every channel, so its
  // size is CPU the server spends per request.
  size_t max_selection_patterns = 10000;
  size_t max_selection_bytes = size_t{1} << 20;
  // Records and bytes one record request (FDSN dataselect) may return;
  // more is refused before anything is sent (ResourceExhausted, the limit in
  // the message). 0: no limit. The defaults let a day of a 200 Hz channel
  // through many times over and stop a request for a whole archive.
  uint64_t max_request_records = 10'000'000;
  uint64_t max_request_bytes = uint64_t{4} << 30;
  // Spans one availability_by_quality() may gather (the FDSN availability
  // answer is built whole: about 100 bytes of memory per span); more is
  // ResourceExhausted. 0: no limit.
  size_t max_availability_spans = 1'000'000;
};

// One channel selection over one time window: a line of a request.
struct RecordQuery {
  storage::ChannelSelection selection;
  storage::TimeWindow window;
};

// What to keep of the selected records (FDSN dataselect's filters).
struct RecordFilter {
  // The miniSEED 2 data quality indicator (header byte 6: D, R, Q, M) a
  // record must carry; nullopt (FDSN "B", best) keeps every record.
  std::optional<char> quality;
  // Keep only continuous spans of at least this length (within the
  // request's window); 0 keeps everything.
  TimeNs minimum_length_ns = 0;
  // Keep only the longest continuous span of each channel.
  bool longest_only = false;
};

// Which records a request returns, channel by channel in source-id order:
// each channel with the windows to read, sorted and not overlapping.
struct ReadPlan {
  struct Channel {
    std::string source_id;
    std::vector<storage::TimeWindow> windows;
    uint64_t record_count = 0;  // the whole channel's, when planned: a bound on what the windows hold
    uint64_t byte_count = 0;
  };
  std::vector<Channel> channels;
  // Set when the plan is one line read as it is (no span filter): it is
  // then read with one scan of its selection instead of channel by channel.
  // Channels created after planning may then appear too.
  std::optional<RecordQuery> whole;
  bool empty() const { return channels.empty(); }
};

// The continuous spans of one channel at one data quality and sample rate.
struct QualitySpans {
  std::string source_id;
  char quality = 0;        // the records' quality indicator (D, R, Q, M)
  double sample_rate = 0;
  std::vector<storage::TimeSpan> spans;  // sorted by start; neighbours separated by a gap or overlap
  TimeNs updated_ns = 0;   // when the latest of these records arrived
};

struct ReadSize {
  uint64_t records = 0;
  uint64_t bytes = 0;
};

class QueryService {
 public:
  // `store` must outlive the service.
  QueryService(QueryOptions options, const storage::RecordStore& store);

  const QueryOptions& options() const { return options_; }
  const storage::RecordStore& store() const { return store_; }
  bool token_required() const { return token_.required(); }

  // OK when no token is configured, or `authorization` (the whole header or
  // metadata value; nullopt when absent) is "Bearer " + the token.
  Status authorize(std::optional<std::string_view> authorization) const;

  // The selection of NET.STA.LOC.CHA patterns (wildcards, comma lists; one
  // pattern per entry), checked against the size limits before parsing. An
  // empty list selects everything.
  Result<storage::ChannelSelection> selection(std::span<const std::string> patterns) const;
  // The same for a selection given as separate code lists (FDSN's network,
  // station, location, channel parameters; each a comma list with
  // wildcards, "--" for a blank code).
  Result<storage::ChannelSelection> selection(std::string_view network, std::string_view station,
                                              std::string_view location, std::string_view channel) const;
  // [start, end] with open bounds where absent; InvalidArgument when it ends before it starts.
  static Result<storage::TimeWindow> window(std::optional<TimeNs> start, std::optional<TimeNs> end);
  // The window's length, open bounds replaced by the selected data's extent,
  // against max_window_s. `what`/`fix` name the window in the message.
  Status check_window(const storage::ChannelSelection& selection, storage::TimeWindow window,
                      std::string_view what = "the window", std::string_view fix = "narrow start/end") const;

  // Reads of one selection and window (the store's contracts, see record_store.h).
  Status read_records(const RecordQuery& query, const std::function<bool(const storage::StoredRecord&)>& visitor) const;
  Result<std::vector<storage::ChannelInfo>> list_channels(const storage::ChannelSelection& selection) const;
  Result<std::vector<storage::ChannelAvailability>> availability(const RecordQuery& query,
                                                                 std::optional<TimeNs> tolerance_ns) const;

  // Availability split by data quality and sample rate (what FDSN
  // availability reports), merged by the same rule and tolerance as
  // availability(); `quality` keeps one quality only. Channel by channel in
  // source-id order, then by quality and sample rate. Reads the blocks of
  // the window (record headers, not the data: nothing is decoded).
  // ResourceExhausted past max_availability_spans.
  Result<std::vector<QualitySpans>> availability_by_quality(const RecordQuery& query,
                                                            std::optional<TimeNs> tolerance_ns,
                                                            std::optional<char> quality) const;

  // The records of several lines (a bulk request), each channel once:
  // which channels any line selects, with the union of the windows of the
  // lines that select it, cut down to the spans `filter` keeps
  // (minimum_length_ns, longest_only). Every line's window is checked
  // against max_window_s. An empty plan: nothing selected.
  Result<ReadPlan> plan(std::span<const RecordQuery> lines, const RecordFilter& filter) const;
  // Counts the plan's records (those `filter` keeps), stopping as soon as a
  // per-request limit is passed: then ResourceExhausted, with the limit and
  // what to do in the message. Reads the same blocks as read_plan(). When
  // no limit is configured, or the planned channels hold fewer records and
  // bytes in all than the limits, it stops at the first record (records
  // >= 1 then only says "there is data").
  Result<ReadSize> measure(const ReadPlan& plan, const RecordFilter& filter) const;
  // Visits the plan's records, channel by channel in source-id order and by
  // start time within a channel, each record once (a record overlapping two
  // windows of its channel is delivered for the first). The visitor returns
  // false to stop.
  Status read_plan(const ReadPlan& plan, const RecordFilter& filter,
                   const std::function<bool(const storage::StoredRecord&)>& visitor) const;

 private:
  QueryOptions options_;
  BearerToken token_;
  const storage::RecordStore& store_;
};

// The miniSEED 2 data quality indicator of a record (header byte 6), or 0
// when the record is too short to have one.
char record_quality(std::span<const uint8_t> record);

}  // namespace seisvault::server
