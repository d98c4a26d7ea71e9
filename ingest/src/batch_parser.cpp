#include "batch_parser.h"

#include <algorithm>
#include <climits>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

namespace seisvault::ingest {

namespace {

using google::protobuf::io::CodedInputStream;
using WFL = google::protobuf::internal::WireFormatLite;

// Field numbers of proto/ingest.proto.
constexpr int kBatchProtocolVersion = 1;
constexpr int kBatchId = 2;
constexpr int kBatchRecords = 3;
constexpr int kRecordMseed = 1;
constexpr int kRecordSha256 = 2;

// A length-delimited field's contents as a view into `base`.
bool read_view(CodedInputStream& in, const uint8_t* base, std::span<const uint8_t>& out) {
  uint32_t length = 0;
  if (!in.ReadVarint32(&length)) return false;
  const int at = in.CurrentPosition();
  if (!in.Skip(static_cast<int>(length))) return false;
  out = {base + at, length};
  return true;
}

bool parse_record(std::span<const uint8_t> bytes, RecordView& out) {
  CodedInputStream in(bytes.data(), static_cast<int>(bytes.size()));
  while (in.CurrentPosition() < static_cast<int>(bytes.size())) {
    // 0: a malformed tag (a field number 0, or a varint cut short).
    const uint32_t tag = in.ReadTag();
    if (tag == 0) return false;
    const int field = WFL::GetTagFieldNumber(tag);
    if (field == 0) return false;
    const auto type = WFL::GetTagWireType(tag);
    if ((field == kRecordMseed || field == kRecordSha256) && type == WFL::WIRETYPE_LENGTH_DELIMITED) {
      if (!read_view(in, bytes.data(), field == kRecordMseed ? out.mseed : out.sha256)) return false;
    } else if (!WFL::SkipField(&in, tag)) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool parse_ingest_batch(std::span<const uint8_t> frame, ParsedBatch& out) {
  out.protocol_version = 0;
  out.batch_id = 0;
  out.records.clear();
  if (frame.size() > static_cast<size_t>(INT_MAX)) return false;
  CodedInputStream in(frame.data(), static_cast<int>(frame.size()));
  in.SetTotalBytesLimit(INT_MAX);
  while (in.CurrentPosition() < static_cast<int>(frame.size())) {
    const uint32_t tag = in.ReadTag();
    if (tag == 0) return false;
    const int field = WFL::GetTagFieldNumber(tag);
    if (field == 0) return false;
    const auto type = WFL::GetTagWireType(tag);
    if (field == kBatchProtocolVersion && type == WFL::WIRETYPE_VARINT) {
      if (!in.ReadVarint32(&out.protocol_version)) return false;
    } else if (field == kBatchId && type == WFL::WIRETYPE_VARINT) {
      if (!in.ReadVarint64(&out.batch_id)) return false;
    } else if (field == kBatchRecords && type == WFL::WIRETYPE_LENGTH_DELIMITED) {
      std::span<const uint8_t> bytes;
      if (!read_view(in, frame.data(), bytes)) return false;
      if (!parse_record(bytes, out.records.emplace_back())) return false;
    } else if (!WFL::SkipField(&in, tag)) {
      return false;
    }
  }
  return true;
}

uint64_t peek_batch_id(std::span<const uint8_t> frame) {
  const int size = static_cast<int>(std::min<size_t>(frame.size(), 64));
  CodedInputStream in(frame.data(), size);
  while (in.CurrentPosition() < size) {
    const uint32_t tag = in.ReadTag();
    if (tag == 0) return 0;
    const int field = WFL::GetTagFieldNumber(tag);
    const auto type = WFL::GetTagWireType(tag);
    if (type != WFL::WIRETYPE_VARINT) return 0;  // a record or something else: not before it
    uint64_t value = 0;
    if (!in.ReadVarint64(&value)) return 0;
    if (field == kBatchId) return value;
  }
  return 0;
}

}  // namespace seisvault::ingest
