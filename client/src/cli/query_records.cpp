// `seisvault query records`: the stored records, byte-identical, into a file
// (written under a temporary name and renamed when complete, so FILE never
// holds a partial answer) or stdout.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "exit_codes.h"
#include "query_command.h"
#include "query_format.h"
#include "query_subcommands.h"

namespace seisvault::cli {

namespace {

struct CloseFile {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, CloseFile>;

struct Tally {
  uint64_t records = 0;
  uint64_t bytes = 0;
  uint64_t channels = 0;
  std::string last_source_id;
  TimeNs first_start = kTimeMax;
  TimeNs last_end = kTimeMin;
};

}  // namespace

int run_query_records(const QueryContext& ctx) {
  const std::string& out_name = ctx.args.out;
  const bool to_stdout = out_name == "-";
  if (to_stdout && ::isatty(STDOUT_FILENO)) {
    return report_usage_error("stdout is a terminal: redirect it, or give --out FILE.mseed");
  }
  const std::string partial = out_name + ".partial";
  FilePtr file;
  std::FILE* out = stdout;
  if (!to_stdout) {
    file.reset(std::fopen(partial.c_str(), "wb"));
    if (!file) return report_usage_error(fmt::format("cannot write {}: {}", partial, std::strerror(errno)));
    out = file.get();
  }
  const auto discard = [&] {
    if (to_stdout) return;
    file.reset();
    std::filesystem::remove(partial);
  };

  Tally t;
  bool write_failed = false;
  auto status = ctx.client.get_records(ctx.scope, [&](const waveform::v1::Record& r) {
    if (std::fwrite(r.mseed().data(), 1, r.mseed().size(), out) != r.mseed().size()) {
      write_failed = true;
      return false;
    }
    ++t.records;
    t.bytes += r.mseed().size();
    if (r.source_id() != t.last_source_id) {
      ++t.channels;
      t.last_source_id = r.source_id();
    }
    t.first_start = std::min(t.first_start, r.start_ns());
    t.last_end = std::max(t.last_end, r.end_ns());
    return true;
  });
  if (!status.ok()) {
    discard();
    return report_rpc_error(status);
  }
  if (write_failed || std::fflush(out) != 0 || std::ferror(out)) {
    const int e = errno;
    discard();
    return report_usage_error(fmt::format("cannot write {}: {}", to_stdout ? "stdout" : partial, std::strerror(e)));
  }
  if (!to_stdout) {
    file.reset();
    std::error_code ec;
    std::filesystem::rename(partial, out_name, ec);
    if (ec) {
      std::filesystem::remove(partial);
      return report_usage_error(fmt::format("cannot rename {} to {}: {}", partial, out_name, ec.message()));
    }
  }

  const std::string where = to_stdout ? "stdout" : out_name;
  if (ctx.json) {
    nlohmann::ordered_json summary = {{"records", t.records}, {"bytes", t.bytes}, {"channels", t.channels},
                              {"out", where}};
    if (t.records > 0) {
      summary["first_start"] = format_iso8601(t.first_start);
      summary["last_end"] = format_iso8601(t.last_end);
    }
    fmt::print(stderr, "{}\n", summary.dump());
  }
  if (t.records == 0) {
    fmt::print(stderr, "seisvault query: {}: no record in this selection and window{}\n", kNoData,
               to_stdout ? "" : fmt::format(" ({} is empty)", out_name));
  } else if (!ctx.json) {
    fmt::print(stderr, "seisvault query: {} records, {} bytes ({}) of {} channel{}, {} to {}, written to {}\n",
               t.records, t.bytes, human_bytes(t.bytes), t.channels, t.channels == 1 ? "" : "s",
               human_time(t.first_start), human_time(t.last_end), where);
  }
  return kExitOk;
}

}  // namespace seisvault::cli
