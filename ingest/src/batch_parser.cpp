#include "batch_parser.h"

#include <algorithm>

namespace seisvault::ingest {

namespace {

// Field numbers of proto/ingest.proto.
constexpr uint32_t kBatchProtocolVersion = 1;
constexpr uint32_t kBatchId = 2;
constexpr uint32_t kBatchRecords = 3;
constexpr uint32_t kBatchSignature = 4;
constexpr uint32_t kRecordMseed = 1;
constexpr uint32_t kRecordSha256 = 2;
constexpr uint32_t kSignatureKey = 1;
constexpr uint32_t kSignatureSendTime = 2;
constexpr uint32_t kSignatureBytes = 3;

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kStartGroup = 3, kEndGroup = 4, kFixed32 = 5 };

// protobuf's recursion limit: each nested message or group uses one level.
constexpr int kRecursionLimit = 100;

// The protobuf wire format over [p, end), read as protobuf's parser reads it.
class WireReader {
 public:
  WireReader(const uint8_t* p, const uint8_t* end) : p_(p), end_(end) {}
  bool at_end() const { return p_ == end_; }
  const uint8_t* position() const { return p_; }

  // A value varint: up to 10 bytes, the low 64 bits kept.
  bool varint(uint64_t& out) {
    out = 0;
    for (int i = 0; i < 10; ++i) {
      if (p_ == end_) return false;
      const uint8_t byte = *p_++;
      out |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
      if (byte < 0x80) return true;
    }
    return false;
  }

  // A tag: up to 5 bytes (wrapping into 32 bits), never 0, never field 0.
  bool tag(uint32_t& out) {
    out = 0;
    for (int i = 0; i < 5; ++i) {
      if (p_ == end_) return false;
      const uint8_t byte = *p_++;
      out += static_cast<uint32_t>(byte & 0x7f) << (7 * i);
      if (byte < 0x80) return (out >> 3) != 0;
    }
    return false;
  }

  // A length: up to 5 bytes, below 2 GiB, and within what is left.
  bool length(uint32_t& out) {
    out = 0;
    for (int i = 0; i < 5; ++i) {
      if (p_ == end_) return false;
      const uint8_t byte = *p_++;
      if (i == 4 && byte >= 8) return false;
      out |= static_cast<uint32_t>(byte & 0x7f) << (7 * i);
      if (byte < 0x80) return out <= static_cast<size_t>(end_ - p_);
    }
    return false;
  }

  // A length-delimited field's contents as a view.
  bool bytes(std::span<const uint8_t>& out) {
    uint32_t n = 0;
    if (!length(n)) return false;
    out = {p_, n};
    p_ += n;
    return true;
  }

  bool skip(size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) return false;
    p_ += n;
    return true;
  }

  // Skips the value of an unknown field whose tag was just read. `depth`
  // is what is left of the recursion limit.
  bool skip_field(uint32_t tag, int depth) {
    switch (tag & 7) {
      case kVarint: {
        uint64_t ignored;
        return varint(ignored);
      }
      case kFixed64: return skip(8);
      case kFixed32: return skip(4);
      case kLengthDelimited: {
        std::span<const uint8_t> ignored;
        return bytes(ignored);
      }
      case kStartGroup: {
        if (--depth < 0) return false;
        const uint32_t field = tag >> 3;
        for (;;) {
          uint32_t inner = 0;
          if (!this->tag(inner)) return false;
          if ((inner & 7) == kEndGroup) return (inner >> 3) == field;
          if (!skip_field(inner, depth)) return false;
        }
      }
      default: return false;  // an end group out of place, or wire type 6/7
    }
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

bool parse_record(std::span<const uint8_t> bytes, RecordView& out, int depth) {
  WireReader in(bytes.data(), bytes.data() + bytes.size());
  while (!in.at_end()) {
    uint32_t tag = 0;
    if (!in.tag(tag)) return false;
    const uint32_t field = tag >> 3;
    if ((field == kRecordMseed || field == kRecordSha256) && (tag & 7) == kLengthDelimited) {
      if (!in.bytes(field == kRecordMseed ? out.mseed : out.sha256)) return false;
    } else if (!in.skip_field(tag, depth)) {
      return false;
    }
  }
  return true;
}

bool parse_signature(std::span<const uint8_t> bytes, SignatureView& out, int depth) {
  WireReader in(bytes.data(), bytes.data() + bytes.size());
  out.present = true;
  while (!in.at_end()) {
    uint32_t tag = 0;
    if (!in.tag(tag)) return false;
    const uint32_t field = tag >> 3;
    const uint32_t type = tag & 7;
    if ((field == kSignatureKey || field == kSignatureBytes) && type == kLengthDelimited) {
      if (!in.bytes(field == kSignatureKey ? out.key : out.signature)) return false;
    } else if (field == kSignatureSendTime && type == kVarint) {
      uint64_t v = 0;
      if (!in.varint(v)) return false;
      out.send_time_ns = static_cast<int64_t>(v);
    } else if (!in.skip_field(tag, depth)) {
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
  out.signature = {};
  WireReader in(frame.data(), frame.data() + frame.size());
  while (!in.at_end()) {
    uint32_t tag = 0;
    if (!in.tag(tag)) return false;
    const uint32_t field = tag >> 3;
    const uint32_t type = tag & 7;
    if (field == kBatchProtocolVersion && type == kVarint) {
      uint64_t v = 0;
      if (!in.varint(v)) return false;
      out.protocol_version = static_cast<uint32_t>(v);
    } else if (field == kBatchId && type == kVarint) {
      if (!in.varint(out.batch_id)) return false;
    } else if (field == kBatchRecords && type == kLengthDelimited) {
      std::span<const uint8_t> bytes;
      if (!in.bytes(bytes)) return false;
      // A record is a nested message: it uses one level of the limit.
      if (!parse_record(bytes, out.records.emplace_back(), kRecursionLimit - 1)) return false;
    } else if (field == kBatchSignature && type == kLengthDelimited) {
      std::span<const uint8_t> bytes;
      if (!in.bytes(bytes)) return false;
      if (!parse_signature(bytes, out.signature, kRecursionLimit - 1)) return false;
    } else if (!in.skip_field(tag, kRecursionLimit)) {
      return false;
    }
  }
  return true;
}

uint64_t peek_batch_id(std::span<const uint8_t> frame) {
  const size_t size = std::min<size_t>(frame.size(), 64);
  WireReader in(frame.data(), frame.data() + size);
  while (!in.at_end()) {
    uint32_t tag = 0;
    if (!in.tag(tag) || (tag & 7) != kVarint) return 0;  // a record or something else: not before it
    uint64_t value = 0;
    if (!in.varint(value)) return 0;
    if ((tag >> 3) == kBatchId) return value;
  }
  return 0;
}

}  // namespace seisvault::ingest
