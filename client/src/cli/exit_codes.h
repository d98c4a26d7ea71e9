// The exit codes of `seisvault`, the same for every subcommand.
#pragma once

namespace seisvault::cli {

inline constexpr int kExitOk = 0;            // done; for push: every record stored or duplicate
inline constexpr int kExitRejected = 1;      // push: the server rejected some records
inline constexpr int kExitUsage = 2;         // bad arguments, keys, files or directories
inline constexpr int kExitNotDelivered = 3;  // push: could not deliver (refused, timed out, interrupted)

}  // namespace seisvault::cli
