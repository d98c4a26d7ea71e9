// StationAccessList: which station keys may write which stations.
//
// The file (DATA_DIR/authorized_stations) is plain text, one key per line:
//
//   # comment lines start with '#' followed by a space (or nothing)
//   <public key, Z85, 40 chars>  <NET.STA patterns, comma-separated>  [# comment]
//
// for example
//
//   rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7  IU.ANMO,IU.COLA  # Albuquerque + College datalogger
//   Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID  XX.*            # test network, all stations
//
// Patterns use SEED wildcards ('?' one character, '*' any run) per code.
// seisvault authorize edits this file; an operator may edit it by hand, then
// send SIGHUP to seisvaultd to reload it.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "seisvault/common/status.h"
#include "seisvault/common/string_map.h"

namespace seisvault {

struct StationAccessEntry {
  std::string public_key;             // Z85
  std::vector<std::string> patterns;  // "NET.STA" with wildcards
  std::string comment;                // without the leading '#'
};

class StationAccessList {
 public:
  // Parses the file's text. InvalidArgument naming the line for a malformed
  // entry (bad key, missing or bad patterns) or a key listed twice.
  static Result<StationAccessList> parse(std::string_view text);
  // Parses what can be parsed: a malformed line is left out and described in
  // `problems` ("line 7: ..."), and a key it names (or a key listed twice)
  // is left out everywhere, so that a mistake in the file never leaves a
  // key more access than the operator wrote.
  static StationAccessList parse_lenient(std::string_view text, std::vector<std::string>& problems);
  // Reads and parses a file; a missing file is an empty list.
  static Result<StationAccessList> load(const std::filesystem::path& path);
  // Reads a file and parses it with parse_lenient(); a missing file is an
  // empty list. IoError only when the file cannot be read at all.
  static Result<StationAccessList> load_lenient(const std::filesystem::path& path,
                                                std::vector<std::string>& problems);

  // The entry of `public_key`, or nullptr.
  const StationAccessEntry* find(std::string_view public_key) const;
  // Whether `public_key` is listed at all (the ZAP handler's question).
  bool is_listed(std::string_view public_key) const;
  // Whether `public_key` may write station NET.STA.
  bool may_write(std::string_view public_key, std::string_view network, std::string_view station) const;

  // Adds the key or replaces its patterns and comment.
  void upsert(StationAccessEntry entry);
  // Removes the key; false if it was not listed.
  bool remove(std::string_view public_key);

  const std::vector<StationAccessEntry>& entries() const { return entries_; }
  // The file text (header comment, then one line per entry).
  std::string to_text() const;
  // Writes to_text() to `path` atomically and durably, mode 0644
  // (atomic_file.h: temporary file, fsync, rename, directory fsync).
  // IoError naming the file and the reason.
  Status save(const std::filesystem::path& path) const;

 private:
  std::vector<StationAccessEntry> entries_;
  StringMap<size_t> index_;  // public key -> position in entries_
};

// SEED wildcard match of one code: '?' one character, '*' any run.
bool wildcard_match(std::string_view pattern, std::string_view text);

}  // namespace seisvault
