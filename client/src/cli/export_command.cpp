#include "export_command.h"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <set>

#include <fmt/format.h>

#include "exit_codes.h"
#include "query_context.h"
#include "query_scope.h"
#include "seisvault/client/export_bundle.h"
#include "seisvault/common/ledger_checkpoint.h"
#include "seisvault/common/ledger_entry.h"

namespace seisvault::cli {

namespace fs = std::filesystem;
namespace v1 = waveform::v1;

namespace {

int fail(std::string_view message, int code) {
  fmt::print(stderr, "seisvault export: {}\n", message);
  return code;
}

struct CloseFile {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

// A channel's file name: its source id with anything but letters, digits,
// '.', '_' and '-' replaced by '_'.
std::string file_name(const std::string& source_id) {
  std::string name = source_id;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') c = '_';
  }
  return "data/" + name + ".mseed";
}

}  // namespace

CLI::App* add_export_command(CLI::App& app, ExportArgs& args) {
  auto* cmd = app.add_subcommand(
      "export",
      "write stored records with their proof (ledger entries, station signatures, the server's signed checkpoint) "
      "as a bundle that seisvault verify --bundle checks with nothing else");
  add_api_connection_options(cmd, args.connection, true);
  cmd->add_option("SELECTION", args.patterns,
                  "NET.STA.LOC.CHA patterns (? and * wildcards, comma lists, -- for an empty location); none selects "
                  "every channel");
  cmd->add_option("--start", args.start, "window start, ISO 8601 UTC")->required();
  cmd->add_option("--end", args.end, "window end (inclusive), ISO 8601 UTC")->required();
  cmd->add_option("--out", args.out, "the bundle directory to create (must not exist)")->required();
  return cmd;
}

int run_export(const ExportArgs& args) {
  client::QueryScope scope;
  scope.patterns = args.patterns;
  auto start = parse_time_option("--start", args.start);
  auto end = parse_time_option("--end", args.end);
  if (!start.ok()) return fail(start.status().message(), kExitUsage);
  if (!end.ok()) return fail(end.status().message(), kExitUsage);
  scope.start_ns = *start;
  scope.end_ns = *end;
  if (*scope.end_ns < *scope.start_ns) return fail("--end is before --start", kExitUsage);
  const fs::path out(args.out);
  std::error_code ec;
  if (fs::exists(out, ec)) return fail(fmt::format("{} exists: give a new directory", out.string()), kExitUsage);
  auto options = api_client_options(args.connection);
  if (!options.ok()) return fail(options.status().message(), kExitUsage);
  const client::QueryClient api(std::move(*options));
  const auto rpc_failed = [](std::string_view what, const grpc::Status& s) {
    return fail(fmt::format("{}: {}: {}", what, client::grpc_code_name(s.error_code()), s.error_message()),
                s.error_code() == grpc::StatusCode::INVALID_ARGUMENT ? kExitUsage : kExitNotDelivered);
  };

  // 1. The records, into DIR.partial/data/, one file per channel.
  const fs::path partial = out.string() + ".partial";
  fs::remove_all(partial, ec);
  fs::create_directories(partial / "data", ec);
  if (ec) return fail(fmt::format("cannot create {}: {}", partial.string(), ec.message()), kExitUsage);
  const auto discard = [&] { fs::remove_all(partial, ec); };
  client::BundleManifest m;
  m.created_ns = now_ns();
  m.server_api = args.connection.api;
  m.selection = args.patterns;
  m.start_ns = scope.start_ns;
  m.end_ns = scope.end_ns;
  std::map<std::string, std::unique_ptr<std::FILE, CloseFile>> files;
  std::string write_error;
  auto status = api.get_records(scope, [&](const v1::Record& r) {
    const std::string name = file_name(r.source_id());
    auto& f = files[name];
    if (!f) f.reset(std::fopen((partial / name).c_str(), "wb"));
    if (!f) {
      write_error = fmt::format("cannot write {}: {}", (partial / name).string(), std::strerror(errno));
      return false;
    }
    client::BundleRecord br;
    br.file = name;
    br.offset = m.file_sizes[name];
    br.length = r.mseed().size();
    br.sha256 = sha256({reinterpret_cast<const uint8_t*>(r.mseed().data()), r.mseed().size()});
    br.source_id = r.source_id();
    br.start_ns = r.start_ns();
    br.ledger_entry = r.ledger_entry();
    br.position = r.batch_position();
    if (std::fwrite(r.mseed().data(), 1, r.mseed().size(), f.get()) != r.mseed().size()) {
      write_error = fmt::format("cannot write {}: {}", (partial / name).string(), std::strerror(errno));
      return false;
    }
    m.file_sizes[name] += br.length;
    m.records.push_back(std::move(br));
    return true;
  });
  for (auto& [name, f] : files) {
    if (f && std::fclose(f.release()) != 0 && write_error.empty()) {
      write_error = fmt::format("cannot write {}: {}", (partial / name).string(), std::strerror(errno));
    }
  }
  if (!write_error.empty()) {
    discard();
    return fail(write_error, kExitUsage);
  }
  if (!status.ok()) {
    discard();
    return rpc_failed("reading the records", status);
  }
  if (m.records.empty()) {
    discard();
    fmt::print("{}\n", kNoData);
    return kExitOk;
  }

  // 2. A checkpoint covering every entry the records point to.
  uint64_t lowest = 0, highest = 0, unproven = 0;
  for (const auto& r : m.records) {
    if (r.ledger_entry == 0) {
      ++unproven;
      continue;
    }
    lowest = lowest == 0 ? r.ledger_entry : std::min(lowest, r.ledger_entry);
    highest = std::max(highest, r.ledger_entry);
  }
  if (highest == 0) {
    discard();
    return fail("every selected record was stored before the ledger began: there is nothing to prove them with",
                kExitUsage);
  }
  status = api.get_checkpoints([&](const v1::Checkpoint& c) {
    if (c.count() >= highest && m.checkpoint.empty()) m.checkpoint = c.checkpoint();
    return m.checkpoint.empty();
  });
  if (!status.ok()) {
    discard();
    return rpc_failed("reading the checkpoints", status);
  }
  if (m.checkpoint.empty()) {
    discard();
    return fail(fmt::format("no checkpoint of the server covers ledger entry {} yet: seisvaultd signs one every "
                            "--checkpoint-interval-s (60 s by default) while the ledger grows, and at shutdown; run "
                            "the export again then",
                            highest),
                kExitNotDelivered);
  }
  auto checkpoint = decode_checkpoint(m.checkpoint);
  if (!checkpoint.ok()) {
    discard();
    return fail(fmt::format("the server sent a checkpoint that does not decode: {}", checkpoint.status().message()),
                kExitNotDelivered);
  }

  // 3. The chain from the first entry the records need to the checkpoint,
  // and the key events of their signing keys from before it.
  m.chain_first = lowest;
  std::set<std::string> signing_keys;
  status = api.get_ledger(lowest, checkpoint->count, [&](const v1::LedgerEntries& batch) {
    for (const auto& e : batch.entries()) {
      if (e.number() != m.chain_first + m.chain.size()) return false;
      m.chain.push_back(e.entry());
      if (auto d = decode_ledger_entry(e.entry()); d.ok() && d->is_signed) signing_keys.insert(d->key_id);
    }
    return true;
  });
  if (!status.ok()) {
    discard();
    return rpc_failed("reading the ledger", status);
  }
  if (m.chain.size() != checkpoint->count - lowest + 1) {
    discard();
    return fail(fmt::format("the server sent {} ledger entries from {}, not the {} up to its checkpoint",
                            m.chain.size(), lowest, checkpoint->count - lowest + 1),
                kExitNotDelivered);
  }
  if (lowest > 1) {
    status = api.get_ledger(
        1, lowest - 1,
        [&](const v1::LedgerEntries& batch) {
          for (const auto& e : batch.entries()) {
            auto d = decode_ledger_entry(e.entry());
            if (d.ok() && d->kind == kLedgerKindKeyEvent && d->is_signed && signing_keys.count(d->key_id) > 0) {
              m.key_events.push_back(e.entry());
            }
          }
          return true;
        },
        /*key_events_only=*/true);
    if (!status.ok()) {
      discard();
      return rpc_failed("reading the ledger's key events", status);
    }
  }

  // 4. The manifest, then the bundle under its name.
  if (auto s = client::write_bundle_manifest(partial, m); !s.ok()) {
    discard();
    return fail(s.message(), kExitUsage);
  }
  fs::rename(partial, out, ec);
  if (ec) {
    discard();
    return fail(fmt::format("cannot rename {} to {}: {}", partial.string(), out.string(), ec.message()), kExitUsage);
  }
  uint64_t bytes = 0;
  for (const auto& [_, size] : m.file_sizes) bytes += size;
  fmt::print("{}: {} records ({} bytes) in {} file(s); ledger entries {} to {} under the server's checkpoint signed "
             "by {}\n",
             out.string(), m.records.size(), bytes, m.file_sizes.size(), lowest, checkpoint->count,
             signing_key_text(checkpoint->server_key));
  if (unproven > 0) {
    fmt::print(stderr,
               "seisvault export: warning: {} record(s) were stored before the ledger began: nothing proves them, "
               "and verify --bundle reports them\n",
               unproven);
  }
  fmt::print("check it with: seisvault verify --bundle {} --server-key SERVER_DATA_DIR/server.sign.pub\n",
             out.string());
  return kExitOk;
}

}  // namespace seisvault::cli
