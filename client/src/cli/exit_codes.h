// The exit codes of `seisvault`, the same for every subcommand.
#pragma once

namespace seisvault::cli {

inline constexpr int kExitOk = 0;            // done; push: every record stored or duplicate
inline constexpr int kExitRejected = 1;      // push: the server rejected some records; query verify: problems found
inline constexpr int kExitUsage = 2;         // bad arguments, keys, files or directories (query: also INVALID_ARGUMENT)
inline constexpr int kExitNotDelivered = 3;  // push: could not deliver (refused, timed out, interrupted);
                                             // query: the server could not be reached or refused the call

}  // namespace seisvault::cli
