#include "bench_server.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "seisvault/common/station_access_list.h"

namespace seisvault::bench {

namespace {

std::string read_line(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::string s;
  std::getline(in, s);
  return s;
}

}  // namespace

BenchServer::BenchServer(const std::filesystem::path& seisvaultd, const std::filesystem::path& dir,
                         std::vector<std::string> flags, bool signing) {
  std::filesystem::create_directories(dir);
  auto keys = load_or_create_server_keys(dir);
  if (!keys.ok()) throw std::runtime_error(keys.status().message());
  server_keys_ = *keys;
  station_keys_ = generate_curve_key_pair().value();
  StationAccessList list;
  if (signing) signing_key_ = generate_signing_key_pair().value();
  list.upsert({station_keys_.public_key, {"*.*"}, "benchmark station",
               signing ? signing_key_text(signing_key_->public_key) : std::string(), /*allow_unsigned=*/!signing});
  if (auto s = list.save(dir / "authorized_stations"); !s.ok()) throw std::runtime_error(s.message());
  std::filesystem::remove(dir / "ingest.endpoint");

  std::vector<std::string> argv = {seisvaultd.string(), "--data-dir", dir.string(), "--log-level", "info"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  log_ = dir / "seisvaultd.log";
  const auto log = log_;
  pid_ = fork();
  if (pid_ == 0) {
    if (FILE* f = std::freopen(log.c_str(), "a", stderr)) (void)f;
    execv(args[0], args.data());
    _exit(127);
  }
  for (int i = 0; i < 300; ++i) {
    if (std::filesystem::exists(dir / "ingest.endpoint")) break;
    int st;
    if (waitpid(pid_, &st, WNOHANG) == pid_) throw std::runtime_error("seisvaultd exited at start-up");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ingest_ = read_line(dir / "ingest.endpoint");
  api_ = read_line(dir / "api.endpoint");
  if (std::filesystem::exists(dir / "http.endpoint")) http_ = read_line(dir / "http.endpoint");
  if (std::filesystem::exists(dir / "seedlink.endpoint")) seedlink_ = read_line(dir / "seedlink.endpoint");
  if (ingest_.empty()) throw std::runtime_error("seisvaultd did not come up");
}

BenchServer::~BenchServer() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    int st;
    waitpid(pid_, &st, 0);
  }
}

std::string BenchServer::log_line(const std::string& needle) const {
  std::ifstream in(log_);
  std::string line, found;
  while (std::getline(in, line)) {
    if (line.find(needle) != std::string::npos) found = line;
  }
  return found;
}

client::PushOptions BenchServer::push_options() const {
  client::PushOptions o;
  o.endpoint = ingest_;
  o.server_public_key = server_keys_.public_key;
  o.client_keys = station_keys_;
  o.signing_key = signing_key_;
  return o;
}

int BenchServer::stop() {
  kill(pid_, SIGTERM);
  int st = 0;
  waitpid(pid_, &st, 0);
  pid_ = -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

}  // namespace seisvault::bench
