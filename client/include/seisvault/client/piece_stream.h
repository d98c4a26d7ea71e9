// PieceStream: cuts a byte stream that arrives in chunks (a file read in
// blocks, stdin, a file that is still growing) into the pieces of
// common's next_piece(): each one miniSEED record, or bytes that are not.
//
// Every byte ends up in exactly one piece; nothing is dropped. A piece that
// cannot be decided until more bytes arrive (a record not yet complete)
// stays buffered until it can, or until drain() is told the stream ended.
// Memory: the unread chunk plus at most one record (<= 1 MiB) held back.
//
// Not thread-safe. Movable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "seisvault/common/record_splitter.h"
#include "seisvault/common/status.h"

namespace seisvault::client {

// Receives one piece; a non-OK status stops the drain (see drain()).
using PieceSink = std::function<Status(std::span<const uint8_t> piece, PieceKind kind)>;

class PieceStream {
 public:
  // Room for up to `max` more bytes at the end of the stream, to read into;
  // then commit() how many were written (at most `max`). The span is valid
  // until the next call on this stream.
  std::span<uint8_t> prepare(size_t max);
  void commit(size_t written);
  // Appends bytes (prepare + copy + commit).
  void feed(std::span<const uint8_t> bytes);

  // Hands every piece that can be decided to `sink`, in stream order. With
  // `at_eof` (no more bytes will come) that is everything buffered. Returns
  // the first non-OK status of `sink`; the piece it refused stays buffered
  // and comes first on the next drain.
  Status drain(bool at_eof, const PieceSink& sink);

  // Bytes buffered and not yet handed on.
  size_t buffered() const { return data_.size() - start_; }
  // Bytes handed on since the stream began (the stream offset of the next piece).
  uint64_t consumed() const { return consumed_; }
  // Forgets everything buffered and starts a new stream at offset 0.
  void reset();
  // Gives back memory beyond what the buffered bytes need, for streams that
  // sit idle between reads (a followed file).
  void shrink();

 private:
  std::vector<uint8_t> data_;
  size_t start_ = 0;    // first byte not yet handed on
  size_t pending_ = 0;  // bytes prepare()d and not yet commit()ted
  uint64_t consumed_ = 0;
};

}  // namespace seisvault::client
