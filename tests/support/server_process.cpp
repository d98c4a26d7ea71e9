#include "support/server_process.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>

#include "seisvault/common/curve_keys.h"

namespace seisvault::test {

ServerProcess::ServerProcess(std::filesystem::path data_dir, std::string ingest, std::vector<std::string> extra)
    : dir_(std::move(data_dir)) {
  std::filesystem::create_directories(dir_);
  std::filesystem::remove(dir_ / "ingest.endpoint");
  std::filesystem::remove(dir_ / "api.endpoint");
  std::filesystem::remove(dir_ / "http.endpoint");
  std::filesystem::remove(dir_ / "seedlink.endpoint");
  std::vector<std::string> argv = {built_program("server/seisvaultd").string(), "--data-dir", dir_.string(),
                                   "--ingest", ingest, "--log-level", "debug"};
  // Small defaults for tests, unless the test gives its own.
  for (const auto& [flag, value] : {std::pair<const char*, const char*>{"--api", "127.0.0.1:0"},  // free ports: tests run in parallel
                                    {"--http", "127.0.0.1:0"},
                                    {"--seedlink", "127.0.0.1:0"},
                                    {"--memtable-mib", "16"},
                                    {"--block-cache-mib", "16"},
                                    {"--min-free-space", "64MiB"}}) {
    if (std::find(extra.begin(), extra.end(), flag) == extra.end()) argv.insert(argv.end(), {flag, value});
  }
  argv.insert(argv.end(), extra.begin(), extra.end());
  process_ = std::make_unique<ChildProcess>(argv, log_path());
  const auto endpoint_file = dir_ / "ingest.endpoint";
  if (!eventually([&] { return std::filesystem::exists(endpoint_file) || !process_->running(); },
                  std::chrono::seconds(20)) ||
      !std::filesystem::exists(endpoint_file)) {
    throw std::runtime_error("seisvaultd did not start:\n" + log());
  }
  endpoint_ = read_text(endpoint_file);
  while (!endpoint_.empty() && endpoint_.back() == '\n') endpoint_.pop_back();
  api_ = read_text(dir_ / "api.endpoint");
  while (!api_.empty() && api_.back() == '\n') api_.pop_back();
  http_ = read_text(dir_ / "http.endpoint");
  while (!http_.empty() && http_.back() == '\n') http_.pop_back();
  if (std::filesystem::exists(dir_ / "seedlink.endpoint")) {
    seedlink_ = read_text(dir_ / "seedlink.endpoint");
    while (!seedlink_.empty() && seedlink_.back() == '\n') seedlink_.pop_back();
  }
}

std::string ServerProcess::public_key() const {
  auto key = read_key_file(dir_ / "server.pub");
  if (!key.ok()) throw std::runtime_error(key.status().message());
  return *key;
}

std::optional<int> ServerProcess::stop() {
  process_->signal(SIGTERM);
  return process_->wait(std::chrono::seconds(30));
}

void ServerProcess::kill9() {
  process_->signal(SIGKILL);
  process_->wait(std::chrono::seconds(10));
}

int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

}  // namespace seisvault::test
