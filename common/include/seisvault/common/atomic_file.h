// Atomic, durable file writing: the one way SeisVault replaces a small file
// that must never be seen half-written or be lost after it was reported
// written (spool batches and counters, key files, the authorized-stations
// list, the server's endpoint files).
//
// How: the bytes go to a temporary file in the same directory
// (".<name>.<pid>.tmp", created with the final mode, never through a
// symbolic link), which is fsynced, renamed over PATH (or, when replacing is
// not allowed, moved to PATH only if nothing is there), after which the
// directory is fsynced so that the new name itself survives a crash of the
// machine. A crash at any moment leaves PATH with its old content (or
// absent) or with all of the new bytes, never a mix; at worst a temporary
// file is left behind (callers that care, like the spool, delete leftovers
// matching ".<their prefix>...tmp" when they start).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>

#include "seisvault/common/status.h"

namespace seisvault {

struct AtomicWriteOptions {
  // The new file's permission bits, exactly (the umask is not applied):
  // 0600 for a secret, 0644 for what anybody may read. The temporary file
  // has them from its creation, so a secret is never readable by others,
  // not even for a moment.
  mode_t mode = 0644;
  // Whether an existing PATH is replaced. false: PATH is never overwritten;
  // if it exists the write fails with InvalidArgument and leaves it as it
  // was (checked by the final rename itself, so two writers cannot both
  // win).
  bool replace = true;
};

// Writes the concatenation of `parts` to `path` atomically and durably (see
// above). OK: the file is complete under its name and survives a crash of
// the process or of the machine. Errors: IoError naming the file and the
// operating system's reason (e.g. "cannot fsync /x/.y.12.tmp: No space left
// on device"), after which nothing is left under the temporary name and PATH
// is as it was (except when only the final directory fsync failed: then PATH
// has the new content but may not survive a power failure); InvalidArgument
// when `replace` is false and PATH exists.
//
// Thread-safety: writes to different paths are independent; writes to the
// same path from several threads of one process must be serialized by the
// caller (they would share the temporary name).
Status write_file_atomically(const std::filesystem::path& path, std::span<const std::span<const uint8_t>> parts,
                             const AtomicWriteOptions& options = {});

// The same for one piece of text or bytes.
Status write_file_atomically(const std::filesystem::path& path, std::string_view content,
                             const AtomicWriteOptions& options = {});

// fsyncs a directory, so that names created, renamed or removed in it so far
// survive a crash of the machine. IoError naming it otherwise.
Status fsync_directory(const std::filesystem::path& dir);

}  // namespace seisvault
