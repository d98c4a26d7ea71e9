#include "block_format.h"

#include <fmt/format.h>

#include "little_endian.h"

namespace seisvault::storage {

void BlockBuilder::begin(std::string& out, uint32_t count, uint64_t first_sequence) {
  out_ = &out;
  const size_t start = out.size();
  out.resize(start + kBlockHeaderSize + size_t{count} * kBlockEntrySize);
  auto* p = reinterpret_cast<uint8_t*>(out.data()) + start;
  std::memset(p, 0, kBlockHeaderSize);
  p[0] = kBlockFormat;
  put_le<uint32_t>(p + 4, count);
  put_le<uint64_t>(p + 8, first_sequence);
  index_pos_ = start + kBlockHeaderSize;
}

void BlockBuilder::add(TimeNs start, TimeNs end, TimeNs receive, double sample_rate, uint32_t sender_id,
                       std::span<const uint8_t, 32> sha, std::span<const uint8_t> bytes) {
  auto* e = reinterpret_cast<uint8_t*>(out_->data()) + index_pos_;
  put_le<int64_t>(e, start);
  put_le<int64_t>(e + 8, end);
  put_le<int64_t>(e + 16, receive);
  put_le<double>(e + 24, sample_rate);
  put_le<uint32_t>(e + 32, sender_id);
  put_le<uint32_t>(e + 36, static_cast<uint32_t>(bytes.size()));
  std::memcpy(e + 40, sha.data(), 32);
  index_pos_ += kBlockEntrySize;
  out_->append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

Status BlockView::parse(std::string_view value) {
  base_ = reinterpret_cast<const uint8_t*>(value.data());
  const bool with_sequence = !value.empty() && base_[0] == kBlockFormat;
  header_size_ = with_sequence ? kBlockHeaderSize : kBlockHeaderSizeWithoutSequence;
  if (value.size() < header_size_ || (base_[0] != kBlockFormat && base_[0] != kBlockFormatWithoutSequence)) {
    return Status::corruption(fmt::format("record block of {} bytes has no valid header", value.size()));
  }
  count_ = get_le<uint32_t>(base_ + 4);
  first_sequence_ = with_sequence ? get_le<uint64_t>(base_ + 8) : 0;
  const size_t index_end = header_size_ + size_t{count_} * kBlockEntrySize;
  if (index_end > value.size()) {
    return Status::corruption(fmt::format("record block index ({} entries) runs past its {} bytes", count_,
                                          value.size()));
  }
  offsets_.resize(count_);
  size_t off = index_end;
  for (uint32_t i = 0; i < count_; ++i) {
    offsets_[i] = static_cast<uint32_t>(off);
    off += get_le<uint32_t>(base_ + header_size_ + size_t{i} * kBlockEntrySize + 36);
  }
  if (off != value.size()) {
    return Status::corruption(
        fmt::format("record block payload is {} bytes but its index describes {}", value.size() - index_end,
                    off - index_end));
  }
  return {};
}

BlockEntry BlockView::entry(uint32_t i) const {
  const uint8_t* e = base_ + header_size_ + size_t{i} * kBlockEntrySize;
  return BlockEntry{get_le<int64_t>(e),
                    get_le<int64_t>(e + 8),
                    get_le<int64_t>(e + 16),
                    get_le<double>(e + 24),
                    get_le<uint32_t>(e + 32),
                    get_le<uint32_t>(e + 36),
                    e + 40,
                    base_ + offsets_[i],
                    first_sequence_ == 0 ? 0 : first_sequence_ + i};
}

}  // namespace seisvault::storage
