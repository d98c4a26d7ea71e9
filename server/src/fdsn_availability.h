// FDSN availability: the bodies of fdsnws-availability 1.0 answers (/extent
// and /query) in text, geocsv, json and request formats, from the spans the
// store's SpanMerger builds (seisvault/storage/availability.h). Selection of
// channels and parsing of the URL are the HTTP layer's; this file only
// merges, trims, orders, limits and formats.
//
// What the formats look like, and where that was checked. The specification
// (www.fdsn.org/webservices/fdsnws-availability-1.0.pdf) and its JSON schema
// (fdsnws-availability-1.0.schema.json) were not readable here, so the
// layouts follow three implementations that agree with each other:
//   - EarthScope/IRIS (service.iris.edu/fdsnws/availability/1, the reference
//     service: its help page and sample output),
//   - SeisComP (SeisComP/main apps/fdsnws/fdsnws/availability.py),
//   - EIDA/RESIF ws-availability (EIDA/ws-availability apps/output.py,
//     docs/example_responses.txt),
// and the client seisplotjs (crotwell/seisplotjs src/fdsnavailability.ts and
// src/fdsnws-availability-1.0.schema.json.flow.js, generated from the schema).
//
//   text     '#'-header, columns left-aligned to their widest cell and
//            separated by one space (IRIS and EIDA samples; the last column
//            is not padded here, so lines have no trailing blanks). Blank
//            location as "--" (IRIS samples, SeisComP; EIDA leaves it blank,
//            which breaks clients that split on blanks). Column names as
//            IRIS and EIDA print them (SeisComP abbreviates "#N S L C Q"):
//              /query:  #Network Station Location Channel Quality SampleRate Earliest Latest [Updated]
//              /extent: #Network Station Location Channel Quality SampleRate Earliest Latest Updated TimeSpans Restriction
//            Quality is left out with merge=quality, SampleRate with
//            merge=samplerate (SeisComP, EIDA). Updated is always in /extent
//            and in /query only with show=latestupdate (IRIS usage page and
//            samples, SeisComP, EIDA).
//   geocsv   "#dataset: GeoCSV 2.0", "#delimiter: |", "#field_unit: ...",
//            "#field_type: ...", then the same column names without '#',
//            '|'-separated. Units: unitless for codes, hertz for SampleRate,
//            ISO_8601 for times, unitless for TimeSpans and Restriction;
//            types string/float/datetime/integer (SeisComP, EIDA). Blank
//            location as an empty field (SeisComP). Content-Type text/csv.
//   json     {"created": time, "version": 1.0, "datasources": [...]}; each
//            datasource has network, station, location ("" when blank),
//            channel, quality and samplerate (each left out when merged),
//            then for /query "timespans": [[start, end], ...] (and "updated"
//            with show=latestupdate), for /extent "earliest", "latest",
//            "updated", "timespanCount", "restriction" ("OPEN" or
//            "RESTRICTED"). The schema requires "version" and "datasources"
//            at the top, network/station/location/channel in a datasource,
//            and either timespans or earliest+latest (seisplotjs' generated
//            types). "version" is the number 1.0 (SeisComP, EIDA).
//   request  one fdsnws-dataselect POST line per row,
//            "NET STA LOC CHA START END", "--" for a blank location, no
//            header and no key=value lines (SeisComP, EIDA: the quality of a
//            row cannot be said per line in a dataselect POST).
//   times    ISO 8601 with 'Z'. Span times have six fractional digits,
//            rounded down ("2004-11-22T18:56:51.535840Z": IRIS samples,
//            SeisComP, EIDA); Updated and "created" are whole seconds
//            ("2017-11-22T21:42:07Z": same three).
//   orderby  nslc_time_quality_samplerate (default), latestupdate,
//            latestupdate_desc, timespancount, timespancount_desc (the
//            spec offers the last two for /extent only).
//
// Merging (the spec's merge=samplerate,quality,overlap and mergegaps; the
// logic follows SeisComP's _lineIter): sources of one channel
// that differ only in a merged attribute become one datasource, whose spans
// are all of theirs sorted by start and joined pairwise:
//   - contiguous spans (the next starts one sample period after the last
//     sample of the previous, within half a period: libmseed's rule, the
//     store's default) are always joined, so data switching from quality D
//     to M without a break is one span once quality is merged;
//   - overlapping spans only with merge=overlap;
//   - spans separated by a gap only with mergegaps, when the gap (from where
//     the next sample was due to the next span's first sample) is at most
//     mergegaps (/query only; /extent ignores it).
// Spans are trimmed to the request's window before merging, as IRIS and
// EIDA do (SeisComP trims only the request format). An /extent row is the
// summary of what /query would list for its datasource: earliest and latest
// of the trimmed spans, and how many spans remain after merging.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "seisvault/common/time.h"

namespace seisvault::server {

// One continuous span of one channel at one quality and sample rate, as the store's SpanMerger builds them
// (seisvault/storage/availability.h): [start_ns, end_ns] where end is the time of the last sample.
struct AvailabilitySpan {
  TimeNs start_ns = 0;
  TimeNs end_ns = 0;
};

// One "datasource": a channel, quality and sample rate, with its spans sorted by start (neighbours
// separated by a gap or overlap), and when its latest record arrived.
struct AvailabilitySource {
  std::string network, station, location, channel;  // location "" when blank
  char quality = 'D';
  double sample_rate = 0;
  std::vector<AvailabilitySpan> spans;
  TimeNs updated_ns = 0;  // latest receive time of the records behind the spans
  // Shown in /extent's Restriction column ("RESTRICTED" or "OPEN"); a merged
  // datasource is restricted when any of its sources is.
  bool restricted = false;
};

enum class AvailabilityFormat { kText, kGeocsv, kJson, kRequest };

enum class AvailabilityOrder {
  kNsltQualitySamplerate,  // default: nslc_time_quality_samplerate
  kLatestUpdate,           // latestupdate: oldest update first
  kLatestUpdateDesc,       // latestupdate_desc
  kTimespanCount,          // timespancount: fewest spans first (/query: its datasource's count)
  kTimespanCountDesc,      // timespancount_desc
};

struct AvailabilityRequest {
  bool extent = false;  // /extent (one row per source: earliest, latest, timespan count) vs /query
  bool merge_samplerate = false, merge_quality = false, merge_overlap = false;  // merge=...
  std::optional<TimeNs> mergegaps_ns;  // gaps up to this long are merged (query only)
  AvailabilityOrder orderby = AvailabilityOrder::kNsltQualitySamplerate;
  std::optional<size_t> limit;  // rows (timespans for query, sources for extent) at most; 0 gives no rows
  bool show_latestupdate = false;  // /query: add Updated (text, geocsv) or "updated" (json); /extent always has it
  AvailabilityFormat format = AvailabilityFormat::kText;
  TimeNs window_start_ns = kTimeMin, window_end_ns = kTimeMax;  // the request's window: spans are trimmed to it
};

// The response body, or nullopt when no row remains ("no data": the HTTP layer answers 204/404).
// Applies merging (quality: sources of one channel and rate with different qualities become one with
// the Quality column / "quality" field left out, as the spec's implementations do; samplerate likewise;
// overlap: overlapping spans joined), mergegaps, trimming to the window, ordering and limit, then formats.
// Rows that tie under the requested order follow the default order. In /query, a row's Updated is its
// datasource's (sources carry one update time, not one per span). `created_ns` is the "created" time of
// the JSON document. Pure function: thread-safe.
std::optional<std::string> render_availability(std::vector<AvailabilitySource> sources, const AvailabilityRequest& r,
                                               TimeNs created_ns);

// Content-Type of each format: text/plain (text, request), text/csv (geocsv), application/json (json).
std::string_view availability_content_type(AvailabilityFormat f);

}  // namespace seisvault::server
