#include "seisvault/common/logging.h"

#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>

namespace seisvault {

Status configure_logging(std::string_view level) {
  const auto lvl = spdlog::level::from_str(std::string(level));
  if (lvl == spdlog::level::off && level != "off") {
    return Status::invalid_argument(
        fmt::format("unknown log level '{}' (trace, debug, info, warn, error, off)", level));
  }
  spdlog::drop("seisvault");
  auto logger = spdlog::stderr_color_mt("seisvault");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%-5l%$ %v", spdlog::pattern_time_type::utc);
  spdlog::set_level(lvl);
  return {};
}

}  // namespace seisvault
