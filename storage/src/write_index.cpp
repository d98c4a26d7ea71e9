#include "write_index.h"

#include <cstring>

#include <fmt/format.h>

#include "little_endian.h"

namespace seisvault::storage {
namespace {

constexpr uint8_t kWriteIndexFormat = 1;
constexpr size_t kHeaderSize = 24;
constexpr size_t kEntrySize = 20;

}  // namespace

void WriteIndexBuilder::begin(std::string& out, TimeNs commit_ns, uint64_t first_block_seq) {
  out_ = &out;
  count_ = 0;
  out.assign(kHeaderSize, '\0');
  auto* p = reinterpret_cast<uint8_t*>(out.data());
  p[0] = kWriteIndexFormat;
  put_le<int64_t>(p + 8, commit_ns);
  put_le<uint64_t>(p + 16, first_block_seq);
}

void WriteIndexBuilder::add(const WriteIndexBlock& block) {
  const size_t at = out_->size();
  out_->resize(at + kEntrySize);
  auto* e = reinterpret_cast<uint8_t*>(out_->data()) + at;
  std::memset(e, 0, kEntrySize);
  e[0] = block.long_cf ? 1 : 0;
  put_le<uint32_t>(e + 4, block.channel_id);
  put_le<int64_t>(e + 8, block.start_ns);
  put_le<uint32_t>(e + 16, block.record_count);
  ++count_;
  put_le<uint32_t>(reinterpret_cast<uint8_t*>(out_->data()) + 4, count_);
}

Status WriteIndexView::parse(std::string_view value) {
  base_ = reinterpret_cast<const uint8_t*>(value.data());
  if (value.size() < kHeaderSize || base_[0] != kWriteIndexFormat) {
    return Status::corruption(fmt::format("a sequence index entry of {} bytes has no valid header", value.size()));
  }
  count_ = get_le<uint32_t>(base_ + 4);
  if (value.size() != kHeaderSize + size_t{count_} * kEntrySize) {
    return Status::corruption(fmt::format("a sequence index entry of {} bytes does not hold its {} blocks",
                                          value.size(), count_));
  }
  commit_ns_ = get_le<int64_t>(base_ + 8);
  first_block_seq_ = get_le<uint64_t>(base_ + 16);
  records_ = 0;
  for (uint32_t i = 0; i < count_; ++i) records_ += block(i).record_count;
  return {};
}

WriteIndexBlock WriteIndexView::block(uint32_t i) const {
  const uint8_t* e = base_ + kHeaderSize + size_t{i} * kEntrySize;
  return WriteIndexBlock{e[0] == 1, get_le<uint32_t>(e + 4), get_le<int64_t>(e + 8), get_le<uint32_t>(e + 16)};
}

}  // namespace seisvault::storage
