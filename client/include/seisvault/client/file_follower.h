// FileFollower: reads a file that keeps growing (a datalogger writing
// records as they are recorded), like `tail -F`, and cuts what is appended
// into pieces.
//
// Each poll() reads what was appended since the last one. A record still
// being written is held back until it is complete (so no half-written
// record is ever sent as a truncated one); held_back_bytes() says how many
// bytes wait. The follower keeps its file open, so it notices:
//   - the file replaced (renamed away, a new file under the path): the rest
//     of the old file is read and handed on in full, then the new file is
//     read from its start;
//   - the file removed: the rest of it is read and handed on, and the path
//     is followed again if a file appears under it;
//   - the file truncated in place: what was held back is handed on, and the
//     file is read again from its start.
// A path with no file (yet) is not an error: there is nothing to read.
//
// One open file per follower, and memory for what is held back only (the
// read buffer is given back between polls). Not thread-safe. Movable.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>

#include "seisvault/client/piece_stream.h"
#include "seisvault/client/unique_fd.h"
#include "seisvault/common/status.h"

namespace seisvault::client {

class FileFollower {
 public:
  explicit FileFollower(std::filesystem::path path, size_t block_size = size_t{64} << 10);

  const std::filesystem::path& path() const { return path_; }

  // Reads what was appended and hands every complete piece to `sink`.
  // Returns the first error of `sink` (the refused piece stays held back
  // and goes first next time) or IoError when the file cannot be read.
  // `bytes_read`, when given, is increased as bytes are read.
  Status poll(const PieceSink& sink, uint64_t* bytes_read = nullptr);

  // Bytes read but not yet handed on: the start of a record being written.
  size_t held_back_bytes() const { return stream_.buffered(); }
  // How often the file was found replaced, removed or truncated.
  uint64_t restarts() const { return restarts_; }

 private:
  Status read_to_end(const PieceSink& sink, uint64_t* bytes_read);
  Status finish(const PieceSink& sink, uint64_t* bytes_read);

  std::filesystem::path path_;
  size_t block_size_;
  UniqueFd fd_;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
  uint64_t offset_ = 0;  // bytes of the open file read so far
  uint64_t restarts_ = 0;
  PieceStream stream_;
};

}  // namespace seisvault::client
