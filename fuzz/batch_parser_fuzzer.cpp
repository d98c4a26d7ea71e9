// libFuzzer target: parse_ingest_batch (ingest/src/batch_parser.h), the
// receiver's zero-copy reader of an IngestBatch frame, on arbitrary bytes.
//
// Checks: every record view lies inside the frame (the parser hands out
// pointers into it), and the result agrees with protobuf's generated parser,
// the reference for the wire format: both accept the same frames and read
// the same protocol version, batch id and records.
#include <cstdint>
#include <span>
#include <string_view>

#include <fmt/format.h>

#include "batch_parser.h"
#include "fuzz_check.h"
#include "seisvault/proto/ingest.pb.h"

namespace {

using seisvault::ingest::ParsedBatch;

std::string_view as_text(std::span<const uint8_t> v) { return {reinterpret_cast<const char*>(v.data()), v.size()}; }

bool inside(std::span<const uint8_t> view, std::span<const uint8_t> frame) {
  if (view.empty()) return true;  // an empty field may point anywhere (or nowhere)
  return view.data() >= frame.data() && view.data() + view.size() <= frame.data() + frame.size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> frame(data, size);
  static ParsedBatch parsed;  // reused, as the receiver reuses its batches
  const bool ok = seisvault::ingest::parse_ingest_batch(frame, parsed);

  seisvault::ingest::v1::IngestBatch reference;
  const bool reference_ok = reference.ParseFromArray(data, static_cast<int>(size));
  FUZZ_CHECK(ok == reference_ok, fmt::format("parse_ingest_batch says {}, protobuf says {}", ok, reference_ok));
  if (!ok) return 0;

  FUZZ_CHECK(parsed.protocol_version == reference.protocol_version(),
             fmt::format("protocol_version {} vs protobuf's {}", parsed.protocol_version, reference.protocol_version()));
  FUZZ_CHECK(parsed.batch_id == reference.batch_id(),
             fmt::format("batch_id {} vs protobuf's {}", parsed.batch_id, reference.batch_id()));
  FUZZ_CHECK(parsed.records.size() == static_cast<size_t>(reference.records_size()),
             fmt::format("{} records vs protobuf's {}", parsed.records.size(), reference.records_size()));
  for (size_t i = 0; i < parsed.records.size(); ++i) {
    const auto& r = parsed.records[i];
    FUZZ_CHECK(inside(r.mseed, frame) && inside(r.sha256, frame), fmt::format("record {}: a view outside the frame", i));
    const auto& expected = reference.records(static_cast<int>(i));
    FUZZ_CHECK(as_text(r.mseed) == expected.mseed(), fmt::format("record {}: mseed differs from protobuf's", i));
    FUZZ_CHECK(as_text(r.sha256) == expected.sha256(), fmt::format("record {}: sha256 differs from protobuf's", i));
  }
  const auto& sig = parsed.signature;
  FUZZ_CHECK(sig.present == reference.has_signature(),
             fmt::format("signature present {} vs protobuf's {}", sig.present, reference.has_signature()));
  FUZZ_CHECK(inside(sig.key, frame) && inside(sig.signature, frame), "a signature view outside the frame");
  FUZZ_CHECK(as_text(sig.key) == reference.signature().key(), "signature key differs from protobuf's");
  FUZZ_CHECK(sig.send_time_ns == reference.signature().send_time_ns(),
             fmt::format("send_time_ns {} vs protobuf's {}", sig.send_time_ns, reference.signature().send_time_ns()));
  FUZZ_CHECK(as_text(sig.signature) == reference.signature().signature(), "signature differs from protobuf's");
  return 0;
}
