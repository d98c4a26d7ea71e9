// `seisvault query verify`: the server re-reads the stored records of the
// scope and reports each one that no longer matches what arrived; exit 1 when
// it found any.
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "exit_codes.h"
#include "query_command.h"
#include "query_format.h"
#include "query_subcommands.h"

namespace seisvault::cli {

namespace v1 = waveform::v1;

int run_query_verify(const QueryContext& ctx) {
  auto problems = nlohmann::ordered_json::array();
  std::optional<v1::VerifySummary> summary;
  auto status = ctx.client.verify(ctx.scope, [&](const v1::VerifyReport& r) {
    if (r.has_summary()) {
      summary = r.summary();
    } else if (r.has_problem()) {
      const auto& p = r.problem();
      if (ctx.json) {
        problems.push_back({{"source_id", p.source_id()},
                            {"start", format_iso8601(p.start_ns())},
                            {"start_ns", p.start_ns()},
                            {"problem", p.problem()}});
      } else {
        fmt::print("PROBLEM  {}  {}  {}\n", p.source_id(), human_time(p.start_ns()), p.problem());
      }
    }
    return true;
  });
  if (!status.ok()) return report_rpc_error(status);
  if (!summary) {
    return report_rpc_error({grpc::StatusCode::INTERNAL, "the server ended verify without its summary"});
  }

  if (ctx.json) {
    const nlohmann::ordered_json out = {{"records_checked", summary->records_checked()},
                                {"problem_count", summary->problems()},
                                {"problems", problems}};
    fmt::print("{}\n", out.dump(2));
    if (summary->records_checked() == 0) fmt::print(stderr, "{}\n", kNoData);
  } else if (summary->records_checked() == 0) {
    fmt::print("{}: no record in this selection and window\n", kNoData);
  } else if (summary->problems() == 0) {
    fmt::print("checked {} records: no problems\n", summary->records_checked());
  } else {
    fmt::print("checked {} records: {} problem{}\n", summary->records_checked(), summary->problems(),
               summary->problems() == 1 ? "" : "s");
  }
  return summary->problems() > 0 ? kExitQueryProblems : kExitOk;
}

}  // namespace seisvault::cli
