// What the `seisvault` commands that work on a data directory share: where
// seisvaultd keeps its store, and whether a running seisvaultd holds it.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>

#include "seisvault/storage/store_options.h"

namespace seisvault::cli {

// DATA_DIR/store (server/src/main.cpp).
std::filesystem::path store_dir(const std::string& data_dir);

// The pid of a process holding RocksDB's lock on the store, if any. RocksDB
// takes a POSIX write lock on store/LOCK while the database is open;
// F_GETLK asks without taking it.
std::optional<pid_t> store_lock_holder(const std::filesystem::path& store);

// Options for a short administrative session on a store (no server
// running): small memtables and cache, one background thread, no
// free-space reserve.
storage::StoreOptions admin_store_options(bool create_if_missing);

// The name of a user, or "uid N".
std::string user_name(uid_t uid);

}  // namespace seisvault::cli
