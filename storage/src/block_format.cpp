#include "block_format.h"

#include <fmt/format.h>
#include <xxhash.h>

#include "little_endian.h"

namespace seisvault::storage {

void BlockBuilder::begin(std::string& out, std::string& payload, uint32_t count, uint64_t first_sequence,
                         uint64_t segment, uint64_t payload_offset) {
  out_ = &out;
  payload_ = &payload;
  header_pos_ = out.size();
  out.resize(header_pos_ + kBlockHeaderSize + size_t{count} * kBlockEntrySize);
  auto* p = reinterpret_cast<uint8_t*>(out.data()) + header_pos_;
  std::memset(p, 0, kBlockHeaderSize);
  p[0] = kBlockFormat;
  put_le<uint32_t>(p + 4, count);
  put_le<uint64_t>(p + 8, first_sequence);
  put_le<uint64_t>(p + 16, segment);
  put_le<uint64_t>(p + 24, payload_offset);
  index_pos_ = header_pos_ + kBlockHeaderSize;
  payload_start_ = payload.size();
}

void BlockBuilder::add(TimeNs start, TimeNs end, TimeNs receive, double sample_rate, uint32_t sender_id,
                       std::span<const uint8_t, 32> sha, std::span<const uint8_t> bytes, uint64_t ledger_entry,
                       uint32_t batch_position) {
  auto* e = reinterpret_cast<uint8_t*>(out_->data()) + index_pos_;
  put_le<int64_t>(e, start);
  put_le<int64_t>(e + 8, end);
  put_le<int64_t>(e + 16, receive);
  put_le<double>(e + 24, sample_rate);
  put_le<uint32_t>(e + 32, sender_id);
  put_le<uint32_t>(e + 36, static_cast<uint32_t>(bytes.size()));
  std::memcpy(e + 40, sha.data(), 32);
  put_le<uint64_t>(e + 72, ledger_entry);
  put_le<uint32_t>(e + 80, batch_position);
  index_pos_ += kBlockEntrySize;
  payload_->append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

void BlockBuilder::finish() {
  const uint64_t checksum = XXH3_64bits(payload_->data() + payload_start_, payload_->size() - payload_start_);
  put_le<uint64_t>(reinterpret_cast<uint8_t*>(out_->data()) + header_pos_ + 32, checksum);
}

Status BlockView::parse(std::string_view value) {
  base_ = reinterpret_cast<const uint8_t*>(value.data());
  payload_ = nullptr;
  location_.reset();
  const uint8_t format = value.empty() ? 0 : base_[0];
  const bool in_segment = format == kBlockFormat || format == kBlockFormatWithoutLedger;
  header_size_ = in_segment                     ? kBlockHeaderSize
                 : format == kBlockFormatInline ? kBlockHeaderSizeInline
                                                : kBlockHeaderSizeWithoutSequence;
  has_ledger_ = format == kBlockFormat;
  entry_size_ = has_ledger_ ? kBlockEntrySize : kBlockEntrySizeWithoutLedger;
  if (value.size() < header_size_ || (!in_segment && format != kBlockFormatInline && format != kBlockFormatWithoutSequence)) {
    return Status::corruption(fmt::format("record block of {} bytes has no valid header", value.size()));
  }
  count_ = get_le<uint32_t>(base_ + 4);
  first_sequence_ = format == kBlockFormatWithoutSequence ? 0 : get_le<uint64_t>(base_ + 8);
  const size_t index_end = header_size_ + size_t{count_} * entry_size_;
  if (index_end > value.size()) {
    return Status::corruption(fmt::format("record block index ({} entries) runs past its {} bytes", count_,
                                          value.size()));
  }
  offsets_.resize(count_);
  size_t off = 0;
  for (uint32_t i = 0; i < count_; ++i) {
    offsets_[i] = static_cast<uint32_t>(off);
    off += get_le<uint32_t>(base_ + header_size_ + size_t{i} * entry_size_ + 36);
  }
  if (in_segment) {
    if (index_end != value.size()) {
      return Status::corruption(fmt::format("record block of {} bytes holds more than its index ({} entries)",
                                            value.size(), count_));
    }
    location_ = PayloadLocation{get_le<uint64_t>(base_ + 16), get_le<uint64_t>(base_ + 24), off,
                                get_le<uint64_t>(base_ + 32)};
    return {};
  }
  if (index_end + off != value.size()) {
    return Status::corruption(fmt::format("record block payload is {} bytes but its index describes {}",
                                          value.size() - index_end, off));
  }
  payload_ = base_ + index_end;
  return {};
}

Status BlockView::attach_payload(std::string_view payload) {
  if (!location_) return Status::internal("attach_payload() on a block that holds its payload");
  if (payload.size() != location_->length) {
    return Status::corruption(fmt::format("record block payload is {} bytes, its index describes {}", payload.size(),
                                          location_->length));
  }
  if (XXH3_64bits(payload.data(), payload.size()) != location_->checksum) {
    return Status::corruption(fmt::format("record block payload at offset {} of segment {} fails its checksum",
                                          location_->offset, location_->segment));
  }
  payload_ = reinterpret_cast<const uint8_t*>(payload.data());
  return {};
}

BlockEntry BlockView::entry(uint32_t i) const {
  const uint8_t* e = base_ + header_size_ + size_t{i} * entry_size_;
  return BlockEntry{get_le<int64_t>(e),
                    get_le<int64_t>(e + 8),
                    get_le<int64_t>(e + 16),
                    get_le<double>(e + 24),
                    get_le<uint32_t>(e + 32),
                    get_le<uint32_t>(e + 36),
                    e + 40,
                    payload_ == nullptr ? nullptr : payload_ + offsets_[i],
                    first_sequence_ == 0 ? 0 : first_sequence_ + i,
                    has_ledger_ ? get_le<uint64_t>(e + 72) : 0,
                    has_ledger_ ? get_le<uint32_t>(e + 80) : 0};
}

}  // namespace seisvault::storage
