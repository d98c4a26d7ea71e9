// The rejection reasons are defined once (common/reject_reason.h); the wire
// protocol's RejectCode and the client's names must agree with that list.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <string>

#include "seisvault/client/push_stats.h"
#include "seisvault/common/reject_reason.h"
#include "seisvault/proto/ingest.pb.h"

using namespace seisvault;
namespace pb = seisvault::ingest::v1;

namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::toupper(c); });
  return out;
}

}  // namespace

TEST_CASE("every reason of the C++ list is the protocol's RejectCode of the same number and name", "[reject]") {
  for (uint32_t code = 1; code < static_cast<uint32_t>(kRejectReasonCount); ++code) {
    INFO("code " << code << " (" << reject_reason_name(code) << ")");
    REQUIRE(pb::RejectCode_IsValid(static_cast<int>(code)));
    CHECK(pb::RejectCode_Name(static_cast<int>(code)) == upper(reject_reason_name(code)));
    CHECK(client::reject_code_name(code) == upper(reject_reason_name(code)));
  }
}

TEST_CASE("every RejectCode of the protocol is in the C++ list", "[reject]") {
  const auto* e = pb::RejectCode_descriptor();
  for (int i = 0; i < e->value_count(); ++i) {
    const int n = e->value(i)->number();
    if (n == 0) continue;  // REJECT_CODE_UNSPECIFIED
    INFO(e->value(i)->name());
    CHECK(n < kRejectReasonCount);
    CHECK(upper(reject_reason_name(static_cast<uint32_t>(n))) == e->value(i)->name());
  }
  CHECK(e->value_count() == kRejectReasonCount);  // the list's kNone is the protocol's UNSPECIFIED
}

TEST_CASE("only reasons about the server's state are transient; unknown numbers are kept", "[reject]") {
  CHECK(reject_reason_is_transient(static_cast<uint32_t>(RejectReason::kInternal)));
  CHECK(reject_reason_is_transient(static_cast<uint32_t>(RejectReason::kBatchTooLarge)));
  CHECK(reject_reason_is_transient(static_cast<uint32_t>(RejectReason::kNewChannelBudget)));
  for (auto r : {RejectReason::kNotMiniSeed, RejectReason::kHashMismatch, RejectReason::kNotAuthorized,
                 RejectReason::kFutureTime, RejectReason::kSteimIntegrity, RejectReason::kTooManyChannels}) {
    CHECK_FALSE(reject_reason_is_transient(static_cast<uint32_t>(r)));
  }
  CHECK(reject_reason_is_transient(999));
  CHECK(reject_reason_name(999u) == "unknown");
}
