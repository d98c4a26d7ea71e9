#include "seisvault/client/push_stats.h"

#include <fmt/format.h>

#include "seisvault/proto/ingest.pb.h"

namespace seisvault::client {

std::string_view record_status_name(RecordStatus status) {
  switch (status) {
    case RecordStatus::kStored: return "stored";
    case RecordStatus::kDuplicate: return "duplicate";
    case RecordStatus::kRejected: return "rejected";
  }
  return "?";
}

std::string reject_code_name(uint32_t code) {
  const auto value = static_cast<int>(code);
  if (ingest::v1::RejectCode_IsValid(value)) return ingest::v1::RejectCode_Name(value);
  return fmt::format("REJECT_CODE_{}", code);
}

std::string_view connection_state_name(ConnectionState state) {
  switch (state) {
    case ConnectionState::kConnecting: return "connecting";
    case ConnectionState::kConnected: return "connected";
    case ConnectionState::kWaiting: return "waiting for server";
    case ConnectionState::kRefused: return "refused";
  }
  return "?";
}

}  // namespace seisvault::client
