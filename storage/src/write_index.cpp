#include "write_index.h"

#include <cstring>

#include <fmt/format.h>

namespace seisvault::storage {
namespace {

constexpr uint8_t kWriteIndexFormat = 1;
constexpr size_t kHeaderSize = 24;
constexpr size_t kEntrySize = 20;

template <class T>
void put(uint8_t* p, T v) {
  std::memcpy(p, &v, sizeof v);
}
template <class T>
T get(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace

void WriteIndexBuilder::begin(std::string& out, TimeNs commit_ns, uint64_t first_block_seq) {
  out_ = &out;
  count_ = 0;
  out.assign(kHeaderSize, '\0');
  auto* p = reinterpret_cast<uint8_t*>(out.data());
  p[0] = kWriteIndexFormat;
  put<int64_t>(p + 8, commit_ns);
  put<uint64_t>(p + 16, first_block_seq);
}

void WriteIndexBuilder::add(const WriteIndexBlock& block) {
  const size_t at = out_->size();
  out_->resize(at + kEntrySize);
  auto* e = reinterpret_cast<uint8_t*>(out_->data()) + at;
  std::memset(e, 0, kEntrySize);
  e[0] = block.long_cf ? 1 : 0;
  put<uint32_t>(e + 4, block.channel_id);
  put<int64_t>(e + 8, block.start_ns);
  put<uint32_t>(e + 16, block.record_count);
  ++count_;
  put<uint32_t>(reinterpret_cast<uint8_t*>(out_->data()) + 4, count_);
}

Status WriteIndexView::parse(std::string_view value) {
  base_ = reinterpret_cast<const uint8_t*>(value.data());
  if (value.size() < kHeaderSize || base_[0] != kWriteIndexFormat) {
    return Status::corruption(fmt::format("a sequence index entry of {} bytes has no valid header", value.size()));
  }
  count_ = get<uint32_t>(base_ + 4);
  if (value.size() != kHeaderSize + size_t{count_} * kEntrySize) {
    return Status::corruption(fmt::format("a sequence index entry of {} bytes does not hold its {} blocks",
                                          value.size(), count_));
  }
  commit_ns_ = get<int64_t>(base_ + 8);
  first_block_seq_ = get<uint64_t>(base_ + 16);
  records_ = 0;
  for (uint32_t i = 0; i < count_; ++i) records_ += block(i).record_count;
  return {};
}

WriteIndexBlock WriteIndexView::block(uint32_t i) const {
  const uint8_t* e = base_ + kHeaderSize + size_t{i} * kEntrySize;
  return WriteIndexBlock{e[0] == 1, get<uint32_t>(e + 4), get<int64_t>(e + 8), get<uint32_t>(e + 16)};
}

}  // namespace seisvault::storage
