#include "seisvault/common/reject_reason.h"

#include <array>

namespace seisvault {

namespace {

struct ReasonInfo {
  bool known = false;
  std::string_view name;
  bool transient = true;
  std::string_view meaning;
};

constexpr auto kReasons = [] {
  std::array<ReasonInfo, kRejectReasonCount> t{};
#define SEISVAULT_REJECT_INFO(e, n, name, transient, meaning) t[n] = {true, name, transient, meaning};
  SEISVAULT_REJECT_REASONS(SEISVAULT_REJECT_INFO)
#undef SEISVAULT_REJECT_INFO
  return t;
}();

// Every number below kRejectReasonCount is a reason, and none above it.
#define SEISVAULT_REJECT_CHECK(e, n, name, transient, meaning) static_assert(n < kRejectReasonCount);
SEISVAULT_REJECT_REASONS(SEISVAULT_REJECT_CHECK)
#undef SEISVAULT_REJECT_CHECK
static_assert([] {
  for (const auto& r : kReasons) {
    if (!r.known) return false;
  }
  return true;
}());

}  // namespace

std::string_view reject_reason_name(uint32_t code) {
  return code < kReasons.size() ? kReasons[code].name : std::string_view("unknown");
}

std::string_view reject_reason_name(RejectReason reason) { return reject_reason_name(static_cast<uint32_t>(reason)); }

std::string_view reject_reason_meaning(RejectReason reason) {
  const auto code = static_cast<uint32_t>(reason);
  return code < kReasons.size() ? kReasons[code].meaning : std::string_view("unknown reason");
}

bool reject_reason_is_transient(uint32_t code) { return code >= kReasons.size() || kReasons[code].transient; }

}  // namespace seisvault
