// Editing the server's authorized-stations list (DATA_DIR/authorized_stations,
// format in common's station_access_list.h): what `seisvault authorize` does.
//
// The file is read, changed and written back atomically (temporary file,
// fsync, rename). A running seisvaultd rereads it on SIGHUP. These functions
// do not lock the file: do not run two of them on one data directory at once.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "seisvault/common/status.h"

namespace seisvault::client {

// The list's file in a server data directory.
std::filesystem::path authorized_stations_path(const std::filesystem::path& data_dir);

enum class AuthorizeChange {
  kAdded,      // the key was not listed
  kUpdated,    // the key was listed; its stations and comment were replaced
  kUnchanged,  // the key was listed with exactly these stations and comment
};

// How a key's batches are signed (station_access_list.h): by the Ed25519
// key `signing_key` (text form, "ed25519:..."), or not at all when
// `allow_unsigned` (one of the two, never both).
struct StationSigning {
  std::string signing_key;
  bool allow_unsigned = false;
};

// Lets `public_key` write the stations `patterns` ("NET.STA", with SEED
// wildcards '?' and '*', e.g. "IU.ANMO", "XX.*"), signed as `signing`
// says, replacing whatever the key was allowed before. InvalidArgument for
// a malformed key, pattern or comment, neither or both of a signing key
// and allow_unsigned, or a list file that does not parse; NotFound when
// `data_dir` does not exist; IoError when the file cannot be written.
Result<AuthorizeChange> authorize_station_key(const std::filesystem::path& data_dir, const std::string& public_key,
                                              const std::vector<std::string>& patterns, const std::string& comment,
                                              const StationSigning& signing);

// Removes `public_key` from the list. Returns false when it was not listed
// (the file is then left as it was). Errors as above.
Result<bool> revoke_station_key(const std::filesystem::path& data_dir, const std::string& public_key);

// Splits "IU.ANMO,IU.COLA" (commas, spaces allowed around them) into patterns.
std::vector<std::string> split_station_patterns(const std::string& text);

}  // namespace seisvault::client
