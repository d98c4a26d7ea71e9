// Where the SeedLink client and the bridge send what they have to say: the
// caller's sink when there is one (the CLI's progress display), else the log.
// Internal to client/.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

namespace seisvault::client {

using MessageSink = std::function<void(std::string_view message, bool warning)>;

inline void say_to(const MessageSink& sink, const std::string& message, bool warning) {
  if (sink) {
    sink(message, warning);
  } else if (warning) {
    spdlog::warn("{}", message);
  } else {
    spdlog::info("{}", message);
  }
}

}  // namespace seisvault::client
