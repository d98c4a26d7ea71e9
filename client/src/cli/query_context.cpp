#include "query_context.h"

#include <fmt/format.h>

#include "exit_codes.h"

namespace seisvault::cli {

int report_rpc_error(const grpc::Status& status) {
  fmt::print(stderr, "seisvault query: {}: {}\n", client::grpc_code_name(status.error_code()),
             status.error_message().empty() ? "(no message)" : status.error_message());
  return status.error_code() == grpc::StatusCode::INVALID_ARGUMENT ? kExitUsage : kExitNotDelivered;
}

int report_usage_error(std::string_view message) {
  fmt::print(stderr, "seisvault query: {}\n", message);
  return kExitUsage;
}

}  // namespace seisvault::cli
