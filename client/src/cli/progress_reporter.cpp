#include "progress_reporter.h"

#include <cstdio>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace seisvault::cli {

namespace {

constexpr auto kRedrawInterval = std::chrono::milliseconds(500);
constexpr char kClearLine[] = "\r\x1b[K";

}  // namespace

ProgressReporter::ProgressReporter(bool interactive) : interactive_(interactive) {}

void ProgressReporter::update(const client::PushStats& stats, client::ConnectionState state, uint64_t pieces_read,
                              bool force) {
  if (!interactive_) return;
  const auto now = Clock::now();
  if (!force && now - last_draw_ < kRedrawInterval) return;
  const uint64_t acked = stats.records_acked();
  if (rate_since_ == Clock::time_point{}) {
    rate_since_ = now;
    rate_base_ = acked;
  } else if (now - rate_since_ >= kRedrawInterval) {
    const double seconds = std::chrono::duration<double>(now - rate_since_).count();
    const double current = static_cast<double>(acked - rate_base_) / seconds;
    rate_ = rate_ == 0 ? current : 0.5 * rate_ + 0.5 * current;
    rate_since_ = now;
    rate_base_ = acked;
  }
  line_ = fmt::format("{} read, {} acknowledged ({} stored, {} duplicate), {} rejected, {:.0f} rec/s", pieces_read,
                      acked, stats.stored, stats.duplicate, stats.rejected, rate_);
  if (stats.records_kept > 0) line_ += fmt::format(", {} kept for resend", stats.records_kept);
  if (stats.batches_resent > 0) line_ += fmt::format(", {} batches resent", stats.batches_resent);
  if (state == client::ConnectionState::kWaiting || state == client::ConnectionState::kConnecting) {
    line_ += fmt::format(" - {}", client::connection_state_name(state));
  }
  last_draw_ = now;
  draw();
}

void ProgressReporter::draw() {
  fmt::print(stderr, "{}{}", kClearLine, line_);
  std::fflush(stderr);
}

void ProgressReporter::message(std::string_view text, bool warning) {
  if (!interactive_) {
    if (warning) {
      spdlog::warn("{}", text);
    } else {
      spdlog::info("{}", text);
    }
    return;
  }
  fmt::print(stderr, "{}{}\n", kClearLine, text);
  if (!line_.empty()) draw();
}

void ProgressReporter::finish() {
  if (interactive_ && !line_.empty()) {
    fmt::print(stderr, "{}", kClearLine);
    std::fflush(stderr);
  }
  line_.clear();
}

}  // namespace seisvault::cli
