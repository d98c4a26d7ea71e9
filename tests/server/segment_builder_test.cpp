#include <catch2/catch.hpp>

#include "segment_builder.h"
#include "support/record_factory.h"

using namespace seisvault;
using namespace seisvault::server;

TEST_CASE("a long contiguous run is split into messages marked as continuing", "[segments]") {
  test::RecordSpec spec;
  const auto walk = test::random_walk(5000, 3);
  const auto records = test::pack_records(spec, walk);
  std::vector<waveform::v1::Segment> out;
  SegmentBuilder b({}, 1000, [&](waveform::v1::Segment& s) {
    out.push_back(s);
    return true;
  });
  for (const auto& r : records) REQUIRE(b.add("XX.TEST.00.HHZ", r).ok());
  REQUIRE(b.finish());
  REQUIRE(out.size() == 5);
  CHECK_FALSE(out[0].continues_previous());
  std::vector<int32_t> all;
  for (size_t i = 0; i < out.size(); ++i) {
    if (i > 0) CHECK(out[i].continues_previous());
    CHECK(out[i].start_ns() == spec.start_ns + static_cast<TimeNs>(i) * 1000 * 10'000'000LL);
    all.insert(all.end(), out[i].int32_samples().begin(), out[i].int32_samples().end());
  }
  CHECK(all == walk);
}

TEST_CASE("a consumer that stops ends the builder", "[segments]") {
  test::RecordSpec spec;
  const auto records = test::pack_records(spec, test::random_walk(5000, 3));
  SegmentBuilder b({}, 100, [](waveform::v1::Segment&) { return false; });
  Status st;
  for (const auto& r : records) {
    st = b.add("XX.TEST.00.HHZ", r);
    if (!st.ok()) break;
  }
  CHECK(st.code() == StatusCode::kCancelled);
}
