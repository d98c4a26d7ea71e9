// Logging: spdlog, configured once at program start.
//
// Every component logs through spdlog's default logger. Lines carry a
// timestamp, level and message; nothing logs per record on hot paths.
#pragma once

#include <string_view>

#include <spdlog/spdlog.h>

#include "seisvault/common/status.h"

namespace seisvault {

// Sets the default logger's level ("trace", "debug", "info", "warn",
// "error", "off") and pattern; logs go to stderr. Call before starting
// threads. InvalidArgument for an unknown level.
Status configure_logging(std::string_view level);

}  // namespace seisvault
