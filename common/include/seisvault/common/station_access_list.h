// StationAccessList: which station keys may write which stations.
//
// The file (DATA_DIR/authorized_stations) is plain text, one key per line:
//
//   # comment lines start with '#' followed by a space (or nothing)
//   <public key, Z85, 40 chars>  <NET.STA patterns, comma-separated>  <signing>  [# comment]
//
// where <signing> is the station's Ed25519 signing public key
// ("ed25519:" + 40 Z85 characters, from PREFIX.sign.pub): every batch of
// the key must carry a valid signature by it (docs/provenance.md); or the
// word `allow-unsigned`: the key's batches are taken without a signature
// and its records are stored marked unsigned (for stations whose client
// cannot sign yet, during a migration). A line with neither is read (an
// older file) but its key cannot store anything until the operator says
// which. For example
//
//   rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7  IU.ANMO,IU.COLA  ed25519:Hd<3...  # Albuquerque + College
//   Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID  XX.*  allow-unsigned             # old test datalogger
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
  // The station's Ed25519 signing key (text form, signing_keys.h), or
  // empty. With it, every batch must be signed by it.
  std::string signing_key;
  // Without a signing key: whether unsigned batches are taken (marked
  // unsigned in the store). Never together with a signing key.
  bool allow_unsigned = false;
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
