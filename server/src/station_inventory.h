// StationInventory: the station metadata the FDSN station service (fdsnws-station 1.1) answers from.
//
// SeisVault stores waveforms, not instrument metadata. The operator supplies
// the network's FDSN StationXML (`seisvault inventory load`); it is validated
// here before the store keeps it (RecordStore::put_inventory), and the daemon
// builds one StationInventory from every stored document. A query selects
// networks, stations and channels the way the FDSN specification says and
// writes them as StationXML or as the FDSN text format. Coordinates and
// epochs come only from those documents: with no metadata, every query is
// "no data".
//
// Built once, then read-only: a StationInventory is safe for concurrent
// queries from any number of threads. To take a new document set, build a
// new one and swap the shared_ptr.
//
// Lives in its own small library (seisvault_station_inventory: storage,
// common and pugixml only), so that the `seisvault` tool validates files
// without linking the daemon.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "seisvault/common/status.h"
#include "seisvault/common/time.h"
#include "seisvault/storage/inventory_document.h"

namespace seisvault::server {

enum class StationLevel { kNetwork, kStation, kChannel, kResponse };
enum class StationFormat { kXml, kText };

// One fdsnws-station query, parsed by the HTTP layer (which also checks the
// parameters' syntax). Time parameters apply to metadata epochs
// (startDate/endDate; no endDate is an open epoch).
struct StationQuery {
  // A channel/station/network is selected when any selection matches it. Each code field is a list of
  // SEED patterns ('?' one char, '*' any run; use storage::seed_pattern_matches from
  // seisvault/storage/channel_selection.h), "--" matches a blank location code.
  struct Selection {
    std::vector<std::string> network{"*"}, station{"*"}, location{"*"}, channel{"*"};
    std::optional<TimeNs> start, end;  // starttime/endtime: the epoch must overlap [start, end]
  };
  std::vector<Selection> selections{Selection{}};  // GET: one; POST: one per line
  // Strict comparisons with the epoch at the requested level (for
  // level=response, the channel's): startbefore: startDate < t; startafter:
  // startDate > t; endbefore: endDate < t (an open epoch never ends before);
  // endafter: endDate > t (an open epoch always does).
  // updatedafter: StationXML keeps no per-element modification time, so a
  // whole document counts as updated when it was loaded: documents loaded
  // at or before t contribute nothing.
  std::optional<TimeNs> startbefore, startafter, endbefore, endafter, updatedafter;
  // Box, inclusive; minlongitude > maxlongitude is a box across the 180th
  // meridian. Radius: great-circle degrees from (latitude, longitude),
  // minradius <= distance <= maxradius (defaults 0 and 180). Both apply to
  // station coordinates at levels network and station (network: some
  // station in the area) and to channel coordinates at channel and response.
  std::optional<double> minlatitude, maxlatitude, minlongitude, maxlongitude;   // box
  std::optional<double> latitude, longitude, minradius, maxradius;              // radius, degrees
  StationLevel level = StationLevel::kStation;
  StationFormat format = StationFormat::kXml;
  bool includerestricted = true;     // false: drops items with restrictedStatus="closed" (and what they hold)
  bool includeavailability = false;  // XML: DataAvailability/Extent on stations and channels
  bool matchtimeseries = false;      // only channels with stored data in their epoch and the selection's window
};

// What the store holds of one channel (for matchtimeseries / includeavailability).
struct ChannelExtent {
  std::string source_id;  // "NET.STA.LOC.CHA" (blank location: "NET.STA..CHA")
  TimeNs earliest_ns;     // start of the first record
  TimeNs latest_ns;       // end of the last record
};

class StationInventory {
 public:
  ~StationInventory();
  StationInventory(const StationInventory&) = delete;
  StationInventory& operator=(const StationInventory&) = delete;

  // Parses and validates one StationXML document: root
  // {http://www.fdsn.org/xml/station/1}FDSNStationXML (default namespace or
  // a prefix) with schemaVersion, Source, Created and at least one Network;
  // every Network has a code; every Station a code, Latitude, Longitude,
  // Elevation and Site/Name (ObsPy fails without Site); every Channel a code,
  // locationCode, Latitude, Longitude, Elevation and Depth; numbers are
  // numbers and in range (latitude -90..90, longitude -180..180, azimuth
  // 0..360, dip -90..90, sample rate >= 0); startDate/endDate and Created
  // parse as xs:dateTime and no epoch ends before it starts; codes are
  // letters, digits, '-' and '_' (a location code may be empty).
  // InvalidArgument listing the problems (the first few, each with its line,
  // network/station/channel path and what is wrong). Documents over
  // storage::kMaxInventoryBytes are refused unread. Thread-safe.
  static Status validate(std::string_view xml);

  // Builds the queryable inventory from every document (re-validated: an
  // error names the document). No documents: an empty inventory, which
  // answers every query with nullopt.
  static Result<std::shared_ptr<const StationInventory>> build(const std::vector<storage::InventoryDocument>& docs);

  // The answer, or nullopt when nothing matched ("no data": the HTTP layer
  // answers 204/404).
  //
  // XML: a complete FDSNStationXML document (schemaVersion "1.1", Source
  // "SeisVault", Sender (the documents' own, else "SeisVault"), Module,
  // Created now) with only the matching networks, stations and channels, cut
  // to `level` (Response only at level=response). Networks and stations keep
  // their own attributes and every element SeisVault does not interpret
  // (copied verbatim); TotalNumberStations/SelectedNumberStations and
  // TotalNumberChannels/SelectedNumberChannels are set.
  //
  // Text: the FDSN text format at level network, station or channel
  // (level=response gives the channel lines): a '#' header line, then one
  // '|'-separated line per epoch; times as YYYY-MM-DDTHH:MM:SS[.ffffff]
  // without a zone letter, an empty EndTime for an open epoch; numbers as
  // the document wrote them; free text without '|', line breaks or double
  // quotes (ObsPy reads the lines as CSV).
  //
  // `catalog`: the store's channels, sorted by source id; used for
  // matchtimeseries and includeavailability (clipped to each epoch).
  // InvalidArgument for contradictory parameters (minlatitude >
  // maxlatitude, minradius > maxradius, a radius without latitude and
  // longitude, values out of range, no selection). Thread-safe (const).
  Result<std::optional<std::string>> query(const StationQuery& q, std::span<const ChannelExtent> catalog) const;

  // Counts for `seisvault inventory list` and logs: elements (epochs), over every document.
  size_t network_count() const;
  size_t station_count() const;
  size_t channel_count() const;

 private:
  struct Impl;
  explicit StationInventory(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace seisvault::server
