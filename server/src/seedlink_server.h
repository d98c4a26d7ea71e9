// SeedLinkServer: the SeedLink 3.1 / 4.0 face (read-only). Feeds SeisComP,
// ObsPy, slinktool and other SeedLink clients from the store and from the
// records that just became durable. docs/seedlink.md is the operator's view.
//
// Sequence numbers are the store's record sequence numbers
// (RecordStore::write): assigned at commit, kept in the store, so a client
// resumes exactly after the last record it received, across restarts of
// either side. One sequence space for all stations (v4 SEQWILDCARD); v3
// carries the low 24 bits, widened again against the newest number (as
// ringserver does): a v3 client resumes correctly within the last 2^24
// records.
//
// How a client is fed. Each feeding connection has a position (the next
// sequence number it may be sent) and is in one of three modes:
//   live      the feed thread hands it the records of each durable group
//             (publish(), from the ingest pipeline's on_durable) in
//             sequence order, matched against its stations and selectors;
//   backfill  a worker reads the store by sequence number from its position
//             (RecordStore::read_sequence, blocks of other channels skipped
//             unread), a chunk at a time, whenever its queue has room; when
//             it reaches the newest durable record it joins the live feed,
//             decided under the feed lock so that no group falls between
//             the two (no gap, no duplicate);
//   window    a closed time window (v3 TIME begin end, v4 DATA seq begin
//             end): the store is read by time per channel, then "END".
// A resume or time start begins in backfill. A live client whose queue is
// full (it reads slower than data arrive) drops back to backfill from its
// position and so continues from the store instead of losing records or
// being dropped. Only a client that takes nothing for stall_timeout while
// data wait is disconnected. Records are sent only once durable: backfill
// never reads past the newest durable group the feed thread has seen.
//
// Threads: one I/O thread (epoll: accept, commands, writes) for all
// connections, the feed thread, and `threads` workers reading the store. No
// thread per client.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "seisvault/common/status.h"
#include "seisvault/ingest/durable_records.h"
#include "seisvault/storage/record_store.h"

namespace seisvault::server {

struct SeedLinkOptions {
  // ADDR:PORT ("[::1]:18000" for IPv6); port 0 picks a free one.
  std::string endpoint = "127.0.0.1:18000";
  // Workers reading the store for backfills and time windows.
  size_t threads = 2;
  size_t max_connections = 500;
  size_t max_connections_per_address = 50;
  // Client addresses allowed (addresses or CIDR blocks); empty: all.
  std::vector<std::string> allow;
  // Stations served ("NET_STA" globs, e.g. "IU_*"); empty: all.
  std::vector<std::string> stations;
  // A client that has not finished its handshake within this time is
  // disconnected; so is a feeding client that took nothing for
  // stall_timeout while data waited for it.
  std::chrono::seconds handshake_timeout{60};
  std::chrono::seconds stall_timeout{300};
  // Bytes queued per connection before a live client falls back to the store.
  size_t queue_bytes = size_t{1} << 20;
  // The second line of the HELLO answer.
  std::string organization = "SeisVault";
  // Records a worker reads per backfill step.
  size_t backfill_chunk = 2000;
};

struct SeedLinkCounters {
  uint64_t connections_accepted = 0;
  uint64_t connections_refused = 0;  // allow-list or limits
  uint64_t connections_open = 0;
  uint64_t feeding = 0;
  uint64_t bytes_sent = 0;
  uint64_t live_fallbacks = 0;  // live clients that fell back to the store
  uint64_t backfill_records = 0;
  uint64_t groups_dropped = 0;  // durable groups the feed thread could not take
};

class SeedLinkServer {
 public:
  // Listens and starts the threads. InvalidArgument for bad options
  // (endpoint, allow-list, station patterns); IoError when it cannot listen.
  static Result<std::unique_ptr<SeedLinkServer>> start(SeedLinkOptions options, storage::RecordStore& store,
                                                       std::string software_version);
  // Closes every connection and joins the threads.
  ~SeedLinkServer();
  SeedLinkServer(const SeedLinkServer&) = delete;
  SeedLinkServer& operator=(const SeedLinkServer&) = delete;

  // "ADDR:PORT" it listens on (the real port when 0 was asked).
  std::string address() const;

  // Records that just became durable (IngestOptions::on_durable). Never
  // blocks: queued for the feed thread (bounded; when full, the group is
  // dropped and live clients catch up from the store).
  void publish(std::shared_ptr<const ingest::DurableRecords> records);

  SeedLinkCounters counters() const;

  struct Impl;

 private:
  explicit SeedLinkServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace seisvault::server
