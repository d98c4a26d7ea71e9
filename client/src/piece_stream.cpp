#include "seisvault/client/piece_stream.h"

#include <algorithm>
#include <cstring>

namespace seisvault::client {

std::span<uint8_t> PieceStream::prepare(size_t max) {
  // Move what is left to the front once the handed-on part dominates, so
  // the buffer does not grow with the stream.
  if (start_ > 0 && start_ >= data_.size() / 2) {
    data_.erase(data_.begin(), data_.begin() + static_cast<std::ptrdiff_t>(start_));
    start_ = 0;
  }
  const size_t old = data_.size();
  data_.resize(old + max);
  pending_ = max;
  return {data_.data() + old, max};
}

void PieceStream::commit(size_t written) {
  // prepare() grew the buffer by `max`; keep only what was written.
  data_.resize(data_.size() - (pending_ - std::min(written, pending_)));
  pending_ = 0;
}

void PieceStream::feed(std::span<const uint8_t> bytes) {
  auto room = prepare(bytes.size());
  std::memcpy(room.data(), bytes.data(), bytes.size());
  commit(bytes.size());
}

Status PieceStream::drain(bool at_eof, const PieceSink& sink) {
  for (;;) {
    const std::span<const uint8_t> rest(data_.data() + start_, data_.size() - start_);
    const auto piece = next_piece(rest, at_eof);
    if (!piece) return {};
    if (auto s = sink(rest.subspan(piece->offset, piece->length), piece->kind); !s.ok()) return s;
    start_ += piece->offset + piece->length;
    consumed_ += piece->offset + piece->length;
  }
}

void PieceStream::shrink() {
  if (start_ > 0) {
    data_.erase(data_.begin(), data_.begin() + static_cast<std::ptrdiff_t>(start_));
    start_ = 0;
  }
  if (data_.capacity() > 2 * data_.size() + 4096) data_.shrink_to_fit();
}

void PieceStream::reset() {
  data_.clear();
  start_ = 0;
  pending_ = 0;
  consumed_ = 0;
}

}  // namespace seisvault::client
