// `seisvault query verify`: the server re-reads the stored records of the
// scope and reports each one that no longer matches what arrived or its
// ledger entry; then this tool fetches the whole ledger and the server's
// checkpoints and checks them itself (common's LedgerChainCheck: chain,
// station signatures, checkpoints), trusting nothing the server says about
// them. Exit 1 when anything is wrong.
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "exit_codes.h"
#include "seisvault/common/ledger_chain_check.h"
#include "seisvault/common/signing_keys.h"
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

  // The ledger, checked here.
  std::optional<SigningPublicKey> server_key;
  if (!ctx.args.server_key.empty()) {
    auto key = read_signing_public_file(ctx.args.server_key);
    if (!key.ok()) return report_usage_error(key.status().message());
    server_key = *key;
  }
  std::vector<std::pair<uint64_t, std::string>> checkpoints;
  status = ctx.client.get_checkpoints([&](const v1::Checkpoint& c) {
    checkpoints.emplace_back(c.count(), c.checkpoint());
    return true;
  });
  if (!status.ok()) return report_rpc_error(status);
  auto ledger_problems = nlohmann::ordered_json::array();
  uint64_t ledger_problem_count = 0;
  LedgerChainCheck check(server_key, std::move(checkpoints),
                         [&](const std::string& kind, std::string where, std::string what) {
                           ++ledger_problem_count;
                           if (ctx.json) {
                             ledger_problems.push_back({{"kind", kind}, {"where", where}, {"problem", what}});
                           } else {
                             fmt::print("PROBLEM  {}  {}: {}\n", kind, where, what);
                           }
                         });
  status = ctx.client.get_ledger(1, 0, [&](const v1::LedgerEntries& m) {
    for (const auto& e : m.entries()) check.add_entry(e.number(), e.entry());
    return true;
  });
  if (!status.ok()) return report_rpc_error(status);
  check.finish();
  const std::string ledger_line = fmt::format(
      "ledger: {} entries ({} signed by their station, {} station key event(s)), {} checkpoint(s), the newest valid "
      "one covering {}{}",
      check.entries(), check.signed_entries(), check.key_events(), check.checkpoints(), check.last_checkpoint_count(),
      server_key ? "" : " (no --server-key: checkpoints checked against the key they name)");

  if (ctx.json) {
    const nlohmann::ordered_json out = {{"records_checked", summary->records_checked()},
                                        {"problem_count", summary->problems()},
                                        {"problems", problems},
                                        {"ledger_entries", check.entries()},
                                        {"ledger_signed_entries", check.signed_entries()},
                                        {"checkpoints", check.checkpoints()},
                                        {"last_checkpoint_count", check.last_checkpoint_count()},
                                        {"ledger_problem_count", ledger_problem_count},
                                        {"ledger_problems", ledger_problems}};
    fmt::print("{}\n", out.dump(2));
    if (summary->records_checked() == 0) fmt::print(stderr, "{}\n", kNoData);
  } else {
    if (summary->records_checked() == 0) {
      fmt::print("{}: no record in this selection and window\n", kNoData);
    } else if (summary->problems() == 0) {
      fmt::print("checked {} records: no problems\n", summary->records_checked());
    } else {
      fmt::print("checked {} records: {} problem{}\n", summary->records_checked(), summary->problems(),
                 summary->problems() == 1 ? "" : "s");
    }
    fmt::print("{}: {}\n", ledger_line,
               ledger_problem_count == 0 ? std::string("no problems") : fmt::format("{} problem(s)", ledger_problem_count));
  }
  return summary->problems() > 0 || ledger_problem_count > 0 ? kExitQueryProblems : kExitOk;
}

}  // namespace seisvault::cli
