// ProgressReporter: what `seisvault push` shows while it works.
//
// On a terminal (stderr is a tty) one status line, redrawn about twice a
// second: records read, acknowledged, rejected, kept for resend (the server
// could not store them then), the rate, and "waiting for server" while it
// is. Messages (connection changes, unreadable files) are
// printed on their own lines above it. Off a terminal there is no status
// line and messages go to the log.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "seisvault/client/push_stats.h"

namespace seisvault::cli {

class ProgressReporter {
 public:
  // `interactive`: draw the status line (stderr is a terminal).
  explicit ProgressReporter(bool interactive);

  bool interactive() const { return interactive_; }

  // Redraws the status line when half a second has passed since the last
  // time (or always with `force`).
  void update(const client::PushStats& stats, client::ConnectionState state, uint64_t pieces_read,
              bool force = false);

  // Prints a message on its own line; `warning` selects the log level when
  // not interactive.
  void message(std::string_view text, bool warning);

  // Removes the status line (before the summary is printed).
  void finish();

 private:
  using Clock = std::chrono::steady_clock;
  void draw();

  bool interactive_;
  std::string line_;  // the status line as last drawn
  Clock::time_point last_draw_{};
  Clock::time_point rate_since_{};
  uint64_t rate_base_ = 0;
  double rate_ = 0;  // records acknowledged per second, smoothed
};

}  // namespace seisvault::cli
