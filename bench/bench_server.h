// A seisvaultd child process for the benchmarks, with a station key
// authorized for every station (signing its batches, unless asked not to).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "seisvault/client/push_options.h"
#include "seisvault/common/curve_keys.h"
#include "seisvault/common/signing_keys.h"

namespace seisvault::bench {

class BenchServer {
 public:
  // Prepares `dir` (server keys, authorized_stations with one station key)
  // and starts build/server/seisvaultd on it with `flags`; waits until it
  // serves. Throws std::runtime_error on failure.
  // With `signing`, the station has a signing key registered and
  // push_options() signs with it; without, its entry is allow-unsigned.
  BenchServer(const std::filesystem::path& seisvaultd, const std::filesystem::path& dir,
              std::vector<std::string> flags, bool signing = true);
  ~BenchServer();  // SIGKILL if still running

  int pid() const { return pid_; }
  const std::string& ingest_endpoint() const { return ingest_; }
  const std::string& api_address() const { return api_; }
  // The HTTP face's "host:port" (pass --http 127.0.0.1:0).
  const std::string& http_address() const { return http_; }
  // The SeedLink face's "host:port" (pass --seedlink 127.0.0.1:0).
  const std::string& seedlink_address() const { return seedlink_; }
  const CurveKeyPair& server_keys() const { return server_keys_; }
  const CurveKeyPair& station_keys() const { return station_keys_; }
  // The station's signing key (none when started without signing).
  const std::optional<SigningKeyPair>& signing_key() const { return signing_key_; }
  // Options for a PushClient of the authorized station, to this server.
  client::PushOptions push_options() const;
  // SIGTERM and wait; returns the exit status.
  int stop();
  // The last line of the server's log containing `needle` ("" if none).
  std::string log_line(const std::string& needle) const;

 private:
  pid_t pid_ = -1;
  std::string ingest_, api_, http_, seedlink_;
  std::filesystem::path log_;
  CurveKeyPair server_keys_, station_keys_;
  std::optional<SigningKeyPair> signing_key_;
};

}  // namespace seisvault::bench
