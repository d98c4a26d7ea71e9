// parse_ingest_batch: reads an IngestBatch (proto/ingest.proto) from the
// received frame without copying its records. Internal to ingest/.
//
// protobuf's generated ParseFromArray copies every `bytes` field into a
// string of its own (two heap allocations and a copy per record, freed again
// once the batch is acknowledged); at hundreds of thousands of records per
// second that was most of the receiver's and a good part of the syncer's CPU.
// This reads the same wire format and returns views into the frame, which
// must outlive them.
//
// Semantics are protobuf's (3.21, Debian 12), held to its generated parser by
// tests/ingest/batch_parser_test.cpp and fuzz/fuzz_batch_parser.cpp: for a
// scalar or bytes field the last occurrence wins, every occurrence of
// `records` adds a record, unknown fields are skipped, and anything that is
// not well-formed wire format is an error -- including what protobuf refuses
// although it is decodable: a tag or a length of more than 5 bytes, a length
// of 2 GiB or more, groups nested deeper than protobuf's recursion limit
// (100, one level of which a record uses).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace seisvault::ingest {

struct RecordView {
  std::span<const uint8_t> mseed;
  std::span<const uint8_t> sha256;
};

// IngestBatch.signature (BatchSignature). Occurrences of the field merge,
// as protobuf merges a repeated message field: each subfield's last value.
struct SignatureView {
  bool present = false;  // the field occurred at all
  std::span<const uint8_t> key;
  int64_t send_time_ns = 0;
  std::span<const uint8_t> signature;
};

struct ParsedBatch {
  uint32_t protocol_version = 0;
  uint64_t batch_id = 0;
  std::vector<RecordView> records;
  SignatureView signature;
};

// False when `frame` is not a well-formed IngestBatch; `out` is then
// unspecified. Reuses out.records' capacity.
bool parse_ingest_batch(std::span<const uint8_t> frame, ParsedBatch& out);

// The batch_id of a frame too large to be parsed, read from the fields
// before its first record (a station writes protocol_version and batch_id
// first); 0 when it is not there. Reads at most a few bytes.
uint64_t peek_batch_id(std::span<const uint8_t> frame);

}  // namespace seisvault::ingest
