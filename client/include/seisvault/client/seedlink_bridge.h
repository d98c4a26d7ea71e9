// SeedLinkBridge: pulls records from a station-side SeedLink server (a
// datalogger, a SeisComP seedlink, a ringserver) and pushes them to
// SeisVault through a PushClient under the station's key, spooled and
// acknowledged (`seisvault push --from-seedlink`).
//
// The loop (run()), on one thread: connect to the SeedLink server
// (seedlink_client.h), read one packet at a time, hand each data record to
// PushClient::add() byte-identical, and let the PushClient take its acks
// (PushClient::poll between packets). When SeisVault is slower than the
// source, add() waits for acks (max_in_flight), the bridge stops reading the
// SeedLink socket, and TCP pushes back on the server: memory stays bounded
// by the PushClient's batches plus one packet.
//
// Resume state. Per station the bridge keeps the SeedLink sequence of the
// last packet that is done together with every earlier packet of that
// station; a packet is done when SeisVault answered its record STORED,
// DUPLICATE or REJECTED for a permanent reason (PushOptions::on_result), or
// when it carries nothing to push (a payload that is not miniSEED). A
// station without a point gets one at its first packet: the sequence just
// before it (nothing before the first packet was wanted), so that even a
// first run that crashes before any ack asks for that packet again. Acks
// can come out of order: a station's resume point only moves over a
// contiguous run of done packets, in the order they were received. The
// points live in the spool directory, in the text file seedlink.state
// (SeedLinkState below), rewritten atomically and durably
// (atomic_file.h) after every call that advanced one. On (re)connection a
// station is asked for the packet after the last one handed to the
// PushClient by this process (those are in its hands: in memory or in the
// spool), or, at start, after its point in the state file: v4
// "DATA <last+1>", v3 "DATA <last+1 as 6 hex digits>".
//
// Why nothing is lost: a point moves only over packets SeisVault has
// acknowledged; whatever was received and not acknowledged when the
// process stops is either in the spool (sent again by the next run's
// PushClient) or not, and then the next run asks the SeedLink server for it
// again, since the point is before it. Why nothing acknowledged is sent
// again: a clean stop (finish()) waits for the acks and then writes the
// points; after a crash, only the acks that arrived between the last state
// write and the crash (at most the last batch or so) are asked for again,
// and SeisVault answers them DUPLICATE. One caveat: a server with one
// sequence for all stations (ringserver) starts a multi-station connection
// from the newest point asked for, so after a crash a station whose point
// lagged behind another's is not asked again for its packets in between;
// those that had reached the spool are still delivered from it, the
// unsealed batch (at most max_batch_delay of data) is not. One station per
// bridge avoids this with such servers.
//
// Protocol per station. A state point remembers the protocol its sequence
// came from. A SeedLink 4 point is used with a SeedLink 3 server by its low
// 24 bits (SeedLink 4 defines the 24-bit form so); a SeedLink 3 point
// cannot be widened, so while any requested station has one, the bridge
// speaks SeedLink 3 even to a server that offers 4 (and says so).
//
// Reconnection. A failed connection attempt, a lost connection, a
// connection the server ends, and an idle timeout are all retried: the
// delay starts at reconnect_interval and doubles up to
// reconnect_interval_max, each drawn between half and all of its step
// (jitter), and starts over once a connection delivers a data packet. Each
// attempt and each loss is reported through on_message with its cause and
// the next delay.
//
// Threads: driven by one thread; the callbacks run on it. Movable.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "seisvault/client/push_client.h"
#include "seisvault/client/push_options.h"
#include "seisvault/client/seedlink_client.h"
#include "seisvault/common/status.h"

namespace seisvault::client {

// Where one station resumes: the sequence of its last done packet, and the
// protocol that numbered it.
struct SeedLinkResumePoint {
  int protocol = 4;       // 3 or 4
  uint64_t sequence = 0;  // v3: 24 bits
  bool operator==(const SeedLinkResumePoint&) const = default;
};

// The resume state file, spool_dir/seedlink.state. Text, one line per
// SeedLink server and station, comments after '#':
//
//   # seisvault push --from-seedlink: last packet done per station (format 1)
//   # <SeedLink server HOST:PORT> <NET_STA> <protocol 3|4> <sequence, decimal>
//   datalogger.example.org:18000 GE_WLF 4 1234567
//
// Keyed by server as well as station: sequences mean nothing on another
// server, so pointing the bridge at another server starts that server's
// stations afresh and keeps the old lines. Not thread-safe.
class SeedLinkState {
 public:
  static constexpr std::string_view kFileName = "seedlink.state";

  // Reads `path`; a missing file is an empty state. Corruption naming the
  // line for a line that does not parse (the bridge then refuses to start
  // rather than guess where to resume); IoError if it cannot be read.
  static Result<SeedLinkState> load(const std::filesystem::path& path);

  std::optional<SeedLinkResumePoint> get(std::string_view server, std::string_view station_id) const;
  void set(std::string_view server, std::string_view station_id, SeedLinkResumePoint point);

  // The file's text, and writing it atomically and durably
  // (write_file_atomically, mode 0644). IoError naming the file.
  std::string text() const;
  Status save() const;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::map<std::pair<std::string, std::string>, SeedLinkResumePoint, std::less<>> points_;
};

struct SeedLinkBridgeOptions {
  // The SeedLink server and stations (each station's next_sequence is set
  // by the bridge from its resume state), timeouts, keepalive, dial-up.
  SeedLinkClientOptions seedlink;

  // The SeisVault side. spool_dir is required: it keeps unacknowledged
  // batches and the resume state. on_result and keep_waiting are chained:
  // the bridge's own handling runs first.
  PushOptions push;

  // Reconnection backoff (see the file comment).
  std::chrono::milliseconds reconnect_interval{1'000};
  std::chrono::milliseconds reconnect_interval_max{30'000};
  // Give up (run() returns the last error) after this many failed
  // connection attempts in a row; 0: never (a station bridge keeps trying).
  int max_connect_attempts = 0;

  // Asked about every 100 ms, also while add() waits for SeisVault; false
  // stops run() (what was read is still sent by finish()). Optional.
  std::function<bool()> keep_running;
  // Called after each packet and about every 100 ms: refresh a progress
  // display. Optional.
  std::function<void()> on_progress;
  // Connection attempts and losses with their cause, refused stations,
  // the server's error packets. The bool says whether it is a warning.
  // Optional; without it, spdlog.
  std::function<void(std::string_view message, bool warning)> on_message;
};

struct SeedLinkBridgeStats {
  uint64_t packets = 0;                // data packets received
  uint64_t records_added = 0;          // handed to PushClient::add()
  uint64_t bytes_added = 0;
  uint64_t skipped_packets = 0;        // data packets whose format is not miniSEED (not pushed)
  uint64_t other_station_packets = 0;  // of stations not requested (pushed, not tracked for resume)
  uint64_t info_packets = 0;           // INFO answers not asked for (logged at debug level)
  uint64_t error_packets = 0;          // v4 error packets (logged as warnings)
  uint64_t connections = 0;            // successful handshakes
  uint64_t connection_failures = 0;    // failed attempts and lost connections
  uint64_t state_writes = 0;
};

class SeedLinkBridge {
 public:
  // Opens the PushClient (which takes the spool's lock, so that two
  // bridges never share one state), removes leftover temporary state files
  // and reads the state. InvalidArgument for a missing spool_dir, no
  // station, or bad push options; the PushClient's and
  // SeedLinkState::load's errors. Does not connect yet.
  static Result<SeedLinkBridge> open(SeedLinkBridgeOptions options);

  SeedLinkBridge(SeedLinkBridge&&) noexcept;
  SeedLinkBridge& operator=(SeedLinkBridge&&) noexcept;
  // Closes the SeedLink connection, writes the state, and destroys the
  // PushClient (which spools its unsealed batch); does not wait for acks.
  ~SeedLinkBridge();

  // Runs the loop until keep_running() says stop (OK), the feed ends in
  // dial-up mode (OK, ended() true), or delivery becomes impossible (the
  // PushClient's fatal error, or its DeadlineExceeded with a stall_timeout).
  // With max_connect_attempts, the last connection error once they are
  // used up. SeedLink trouble is otherwise retried, never returned.
  Status run();

  // Closes the SeedLink connection, waits up to `timeout` for SeisVault to
  // acknowledge everything handed over (PushClient::flush) and writes the
  // state. The flush's result (OK, DeadlineExceeded, Cancelled, fatal).
  Status finish(std::chrono::milliseconds timeout);

  // True once a dial-up feed has ended ("END").
  bool ended() const;
  const PushClient& push_client() const;
  const SeedLinkBridgeStats& stats() const;
  // A requested station's resume point as acknowledged (what the state
  // file holds, or will hold after the next write); nullopt when none.
  std::optional<SeedLinkResumePoint> acknowledged(std::string_view station_id) const;
  const std::filesystem::path& state_path() const;
  // "HOST:PORT" of the SeedLink server, the key of its state lines.
  std::string server() const;

 private:
  struct Impl;
  explicit SeedLinkBridge(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Parses a command line's station list: entries separated by ',', each
// NET_STA[:SELECTOR[+SELECTOR...]] (selectors may also be separated by
// spaces), e.g. "GE_WLF:BHZ+HHZ,GE_APE,IU_ANMO:00BH?.D". NET_STA must be
// letters and digits without wildcards (the resume state is per station).
// InvalidArgument saying what is wrong; a station named twice is an error.
Result<std::vector<SeedLinkStationRequest>> parse_seedlink_streams(std::string_view list);

}  // namespace seisvault::client
