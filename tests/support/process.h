// ChildProcess: a real program started by a test, killed when the object
// goes out of scope.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace seisvault::test {

class ChildProcess {
 public:
  // Starts `argv` (argv[0] is a path) with stdout and stderr appended to
  // `log_path`. Throws std::runtime_error if fork/exec fails.
  ChildProcess(std::vector<std::string> argv, const std::filesystem::path& log_path);
  ~ChildProcess();  // SIGKILL if still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig) const;
  // Waits for the exit status (as from WEXITSTATUS; 128+N for a signal);
  // nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  bool running();

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// Path of a program built by this build (e.g. "server/seisvaultd").
std::filesystem::path built_program(const std::string& relative);

// Polls `condition` every 20 ms until it holds or `timeout` passes.
template <class F>
bool eventually(F condition, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (condition()) return true;
    struct timespec ts{0, 20'000'000};
    nanosleep(&ts, nullptr);
  }
  return condition();
}

std::string read_text(const std::filesystem::path& path);

// One run of the `seisvault` tool: its exit status and what it printed
// (stdout and stderr together).
struct ToolRun {
  int code = -1;
  std::string output;
};

// Runs this build's client/seisvault with `args` (shell words), stdin from
// `input`, its output kept in `work_dir`/tool-output.txt; killed after 60 s
// (exit status 124).
ToolRun run_seisvault(const std::filesystem::path& work_dir, const std::string& args,
                      const std::string& input = "/dev/null");

}  // namespace seisvault::test
