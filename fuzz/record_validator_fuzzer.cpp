// libFuzzer target: RecordValidator::validate on arbitrary bytes, as a
// station's record arrives in a batch.
//
// Besides "no crash, no sanitizer report", it checks what the validator
// promises (ingest/include/seisvault/ingest/record_validator.h):
//   - a verdict is deterministic: the same bytes validated again by the same
//     (reused) validator give the same reason;
//   - a rejection has a reason and a message;
//   - an accepted record is the input unchanged, its length is the input's,
//     its source id is printable ASCII of the form NET.STA.LOC.CHA (three
//     dots), its start is not beyond the future margin, its rate is finite
//     and not negative, it does not end before it starts, its quality is
//     D, R, Q or M, and libmseed decodes its data to exactly the header's
//     sample count (the validator's own Steim walk must agree with libmseed).
#include <cmath>
#include <cstdint>
#include <span>
#include <string>

#include <fmt/format.h>
#include <libmseed.h>

#include "fuzz_check.h"
#include "seisvault/common/libmseed_lock.h"
#include "seisvault/common/mseed_record.h"
#include "seisvault/ingest/record_validator.h"

namespace {

using seisvault::LibmseedLock;
using seisvault::MseedRecord;
using seisvault::TimeNs;
using seisvault::ingest::RecordValidator;
using seisvault::ingest::Validation;

// A fixed "now" keeps verdicts reproducible: 2030-01-01T00:00:00Z.
constexpr TimeNs kNow = 1'893'456'000LL * seisvault::kNanosPerSecond;

void check_accepted(const Validation& v, std::span<const uint8_t> input, const RecordValidator& validator) {
  const auto& r = v.record;
  FUZZ_CHECK(r.bytes.data() == input.data() && r.bytes.size() == input.size(),
             "an accepted record must be the input bytes, unchanged");
  FUZZ_CHECK(r.record_length == input.size(), fmt::format("record_length {} for {} bytes", r.record_length, input.size()));
  const std::string_view id = r.source_id();
  FUZZ_CHECK(id.size() <= seisvault::ingest::kMaxSourceIdLength, fmt::format("source id of {} bytes", id.size()));
  int dots = 0;
  for (char c : id) {
    FUZZ_CHECK(c > 0x20 && c < 0x7f, fmt::format("source id '{}' holds byte 0x{:02X}", id, static_cast<uint8_t>(c)));
    dots += c == '.';
  }
  FUZZ_CHECK(dots == 3, fmt::format("source id '{}' is not NET.STA.LOC.CHA", id));
  FUZZ_CHECK(r.start_ns <= kNow + validator.options().future_margin_ns,
             fmt::format("accepted a record starting at {} ns", r.start_ns));
  FUZZ_CHECK(std::isfinite(r.sample_rate) && r.sample_rate >= 0, fmt::format("sample rate {}", r.sample_rate));
  FUZZ_CHECK(r.end_ns >= r.start_ns, fmt::format("ends ({}) before it starts ({})", r.end_ns, r.start_ns));
  FUZZ_CHECK(r.sample_count >= 0, fmt::format("sample count {}", r.sample_count));
  FUZZ_CHECK(r.quality == 'D' || r.quality == 'R' || r.quality == 'Q' || r.quality == 'M',
             fmt::format("quality 0x{:02X}", static_cast<uint8_t>(r.quality)));

  // What a reader does later with a stored record (GetSamples, Verify):
  // libmseed unpacks it, samples included, and must find the header's count.
  LibmseedLock lock;
  MseedRecord msr;
  auto* raw = reinterpret_cast<char*>(const_cast<uint8_t*>(input.data()));
  const int rc = msr_parse(raw, static_cast<int>(input.size()), msr.out(), static_cast<int>(input.size()), 1, 0);
  FUZZ_CHECK(rc == MS_NOERROR, fmt::format("accepted, but libmseed cannot unpack it: {} ({})", ms_errorstr(rc),
                                           lock.first_error()));
  FUZZ_CHECK(msr->numsamples == r.sample_count,
             fmt::format("accepted with {} samples, libmseed decodes {}", r.sample_count, msr->numsamples));
  FUZZ_CHECK(!lock.error_logged(), fmt::format("accepted, but libmseed logs an error: {}", lock.first_error()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // One validator for the whole run, as a validation worker keeps one: state
  // left behind by one record must not change the verdict on the next.
  static RecordValidator validator;
  const std::span<const uint8_t> input(data, size);
  const Validation first = validator.validate(input, kNow);
  const Validation again = validator.validate(input, kNow);
  FUZZ_CHECK(first.reason == again.reason,
             fmt::format("verdict changed on revalidation: '{}' then '{}'", first.message, again.message));
  if (!first.ok()) {
    FUZZ_CHECK(!first.message.empty(), "a rejection without a message");
    return 0;
  }
  check_accepted(first, input, validator);
  return 0;
}
