// Names the calling thread for top, perf, /proc/PID/task/TID/comm and the
// benchmarks' CPU-per-stage figures. Linux keeps at most 15 bytes: longer
// names are cut. The names SeisVault uses start with "sv-" (sv-receiver,
// sv-validate, sv-committer, sv-syncer, sv-zap, sv-sl-io, sv-sl-feed,
// sv-sl-read, sv-hub); RocksDB names its own ("rocksdb:low", "rocksdb:high").
#pragma once

#include <string_view>

namespace seisvault {

void set_thread_name(std::string_view name);

}  // namespace seisvault
