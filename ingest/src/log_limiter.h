// LogLimiter: at most a few log lines per interval for one kind of event,
// then a count of what was left out. Internal to ingest/.
//
// A station (or an attacker) can cause events at network speed: refused
// handshakes, connections opened and closed, busy answers. Logging each
// would flood the log and cost a syscall each; this keeps the first
// `per_interval` lines of every interval and reports the rest as one line
// ("... and 5312 more in the last 10 s"). Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace seisvault::ingest {

class LogLimiter {
 public:
  LogLimiter(std::string what, spdlog::level::level_enum level, uint32_t per_interval = 10,
             std::chrono::seconds interval = std::chrono::seconds(10))
      : what_(std::move(what)), level_(level), per_interval_(per_interval), interval_(interval) {}

  // Logs `line` unless this interval's quota is used up (then counts it).
  template <class... Args>
  void log(fmt::format_string<Args...> format, Args&&... args) {
    std::lock_guard lock(mutex_);
    roll();
    if (logged_ < per_interval_) {
      ++logged_;
      spdlog::log(level_, format, std::forward<Args>(args)...);
    } else {
      ++suppressed_;
    }
  }

  // Reports what was left out once its interval is over (call now and then).
  void tick() {
    std::lock_guard lock(mutex_);
    roll();
  }

 private:
  void roll() {
    const auto now = std::chrono::steady_clock::now();
    if (now - start_ < interval_) return;
    if (suppressed_ > 0) {
      spdlog::log(level_, "... and {} more {} in the last {} s", suppressed_, what_,
                  std::chrono::duration_cast<std::chrono::seconds>(now - start_).count());
    }
    start_ = now;
    logged_ = 0;
    suppressed_ = 0;
  }

  const std::string what_;
  const spdlog::level::level_enum level_;
  const uint32_t per_interval_;
  const std::chrono::seconds interval_;
  std::mutex mutex_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  uint32_t logged_ = 0;
  uint64_t suppressed_ = 0;
};

}  // namespace seisvault::ingest
