// ServerProcess: a real seisvaultd on loopback, for end-to-end tests.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "support/process.h"

namespace seisvault::test {

class ServerProcess {
 public:
  // Starts build/server/seisvaultd --data-dir DIR --ingest ENDPOINT plus
  // `extra` flags, and waits (up to 20 s) until it writes DIR/ingest.endpoint.
  // Throws std::runtime_error when it does not come up (the log is in the message).
  ServerProcess(std::filesystem::path data_dir, std::string ingest = "tcp://127.0.0.1:*",
                std::vector<std::string> extra = {});

  const std::string& endpoint() const { return endpoint_; }
  // The query API's host:port.
  const std::string& api() const { return api_; }
  // The HTTP face's "host:port" (DATA_DIR/http.endpoint).
  const std::string& http() const { return http_; }
  // The SeedLink face's "host:port" (DATA_DIR/seedlink.endpoint; "" when off).
  const std::string& seedlink() const { return seedlink_; }
  std::string public_key() const;  // from DIR/server.pub
  const std::filesystem::path& data_dir() const { return dir_; }
  std::filesystem::path log_path() const { return dir_ / "seisvaultd.log"; }
  std::string log() const { return read_text(log_path()); }
  ChildProcess& process() { return *process_; }

  // SIGTERM and wait; returns the exit code (nullopt: did not exit in time).
  std::optional<int> stop();
  void kill9();

 private:
  std::filesystem::path dir_;
  std::string endpoint_;
  std::string api_;
  std::string http_;
  std::string seedlink_;
  std::unique_ptr<ChildProcess> process_;
};

// A free TCP port on 127.0.0.1 (bound and released; fine for tests that
// must restart a server on the same port).
int free_loopback_port();

}  // namespace seisvault::test
