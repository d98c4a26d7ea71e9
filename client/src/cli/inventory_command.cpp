#include "inventory_command.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <memory>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "exit_codes.h"
#include "seisvault/client/query_client.h"
#include "seisvault/common/time.h"
#include "seisvault/storage/inventory_document.h"
#include "seisvault/storage/record_store.h"
#include "station_inventory.h"
#include "store_access.h"

namespace seisvault::cli {

namespace {

namespace fs = std::filesystem;

constexpr int kExitInvalid = kExitRejected;      // load: a file is not valid StationXML
constexpr int kExitStore = kExitNotDelivered;    // the store cannot be opened or written

std::string running_message(const std::string& data_dir, std::optional<pid_t> pid) {
  return fmt::format(
      "seisvaultd is running on {}{}: the store can be opened by one process at a time. Stop it (systemctl stop "
      "seisvaultd), run this again, then start it again: it serves the metadata from its next start",
      data_dir, pid ? fmt::format(" (pid {})", *pid) : "");
}

// Opens the store of `data_dir` for this command, or prints why not and
// sets *exit_code: kExitUsage for a wrong directory or user, kExitStore when
// the store is in use or cannot be opened.
// create: whether a data directory without a store yet gets one (load).
std::unique_ptr<storage::RecordStore> open_store(const std::string& command, const std::string& data_dir,
                                                 bool create, int* exit_code) {
  *exit_code = kExitUsage;
  std::error_code ec;
  if (!fs::is_directory(data_dir, ec)) {
    fmt::print(stderr, "seisvault inventory {}: {} is not a directory (give seisvaultd's --data-dir)\n", command,
               data_dir);
    return nullptr;
  }
  const auto store = store_dir(data_dir);
  const bool exists = fs::exists(store / "CURRENT", ec);
  if (!exists && !create) {
    fmt::print(stderr, "seisvault inventory {}: no store in {} (has seisvaultd ever run with --data-dir {}?)\n",
               command, data_dir, data_dir);
    return nullptr;
  }
  // Files this process writes belong to its user: the store's owner must
  // run it, or seisvaultd could not open them afterwards.
  struct stat st {};
  const fs::path owned = exists ? store : fs::path(data_dir);
  if (::stat(owned.c_str(), &st) == 0 && st.st_uid != ::geteuid()) {
    fmt::print(stderr,
               "seisvault inventory {}: {} belongs to user {}, not {}: run this as that user (sudo -u {} seisvault "
               "inventory ...), or the files written now would lock seisvaultd out of its store\n",
               command, owned.string(), user_name(st.st_uid), user_name(::geteuid()), user_name(st.st_uid));
    return nullptr;
  }
  *exit_code = kExitStore;
  if (const auto pid = store_lock_holder(store)) {
    fmt::print(stderr, "seisvault inventory {}: {}\n", command, running_message(data_dir, pid));
    return nullptr;
  }
  // No ingest reserve: a metadata document is small, and a full disk fails
  // the write cleanly.
  auto opened = storage::RecordStore::open(store, admin_store_options(create));
  if (!opened.ok()) {
    std::string lower = opened.status().message();
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower.find("lock") != std::string::npos) {
      fmt::print(stderr, "seisvault inventory {}: {}\n({})\n", command, running_message(data_dir, std::nullopt),
                 opened.status().message());
    } else {
      fmt::print(stderr, "seisvault inventory {}: {}\n", command, opened.status().message());
    }
    return nullptr;
  }
  return std::move(opened.value());
}

// The counts of one document: "1 network, 3 stations, 10 channels".
std::string counts(const server::StationInventory& inv) {
  auto plural = [](size_t n, const char* one, const char* many) {
    return fmt::format("{} {}", n, n == 1 ? one : many);
  };
  return fmt::format("{}, {}, {}", plural(inv.network_count(), "network", "networks"),
                     plural(inv.station_count(), "station", "stations"),
                     plural(inv.channel_count(), "channel", "channels"));
}

std::string size_text(size_t bytes) {
  if (bytes < 1024) return fmt::format("{} B", bytes);
  if (bytes < (size_t{1} << 20)) return fmt::format("{:.1f} KiB", static_cast<double>(bytes) / 1024);
  return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1 << 20));
}

// "2024-05-01T12:00:00Z": to the second.
std::string loaded_text(TimeNs t) { return format_iso8601(t).substr(0, 19) + "Z"; }

Result<std::string> read_file(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return Status::invalid_argument("not a readable file");
  const auto size = fs::file_size(path, ec);
  if (ec) return Status::invalid_argument(ec.message());
  if (size > storage::kMaxInventoryBytes) {
    return Status::invalid_argument(fmt::format("{} is larger than the {} MiB a document may have", size_text(size),
                                                storage::kMaxInventoryBytes >> 20));
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  if (!in) return Status::invalid_argument("cannot read it");
  return ss.str();
}

struct Loaded {
  std::string file;
  storage::InventoryDocument doc;
  std::string counts;
};

// Reads and validates every file; prints each problem. Returns kExitOk with
// `files` filled, or the exit code when any file is unreadable or invalid
// (then nothing may be loaded).
int read_files(const InventoryArgs& args, std::vector<Loaded>& files) {
  std::map<std::string, std::string> by_name;  // document name -> file
  size_t invalid = 0;
  bool unreadable = false;
  for (const auto& file : args.files) {
    const std::string name = fs::path(file).filename().string();
    if (auto [it, fresh] = by_name.emplace(name, file); !fresh) {
      fmt::print(stderr, "{} and {} would both be stored as '{}': load them under different file names\n",
                 it->second, file, name);
      unreadable = true;
      continue;
    }
    auto text = read_file(file);
    if (!text.ok()) {
      fmt::print(stderr, "{}: {}\n", file, text.status().message());
      unreadable = true;
      continue;
    }
    if (auto s = server::StationInventory::validate(*text); !s.ok()) {
      fmt::print(stderr, "{}: {}\n", file, s.message());
      ++invalid;
      continue;
    }
    auto inv = server::StationInventory::build({storage::InventoryDocument{name, *text, 0}});
    if (!inv.ok()) {  // validated just now: cannot happen
      fmt::print(stderr, "{}: {}\n", file, inv.status().message());
      ++invalid;
      continue;
    }
    files.push_back({file, {name, std::move(*text), 0}, counts(**inv)});
  }
  if (unreadable) {
    fmt::print(stderr, "seisvault inventory load: nothing loaded\n");
    return kExitUsage;
  }
  if (invalid > 0) {
    fmt::print(stderr, "seisvault inventory load: {} of {} file(s) not valid StationXML: nothing loaded\n", invalid,
               args.files.size());
    return kExitInvalid;
  }
  return kExitOk;
}

// The exit code of a failed call to a running server, after printing why.
int report_api_error(std::string_view command, const grpc::Status& st) {
  fmt::print(stderr, "seisvault inventory {}: {}: {}\n", command, client::grpc_code_name(st.error_code()),
             st.error_message());
  switch (st.error_code()) {
    case grpc::StatusCode::INVALID_ARGUMENT: return kExitInvalid;
    case grpc::StatusCode::NOT_FOUND: return kExitUsage;
    default: return kExitStore;
  }
}

std::optional<client::QueryClient> api_client(std::string_view command, const InventoryArgs& args, int* exit_code) {
  auto options = api_client_options(args.connection);
  if (!options.ok()) {
    fmt::print(stderr, "seisvault inventory {}: {}\n", command, options.status().message());
    *exit_code = kExitUsage;
    return std::nullopt;
  }
  return std::optional<client::QueryClient>(std::in_place, std::move(*options));
}

int load_through_api(const InventoryArgs& args, const std::vector<Loaded>& files) {
  int failed = kExitOk;
  auto client = api_client("load", args, &failed);
  if (!client) return failed;
  for (size_t i = 0; i < files.size(); ++i) {
    const auto& f = files[i];
    waveform::v1::InventoryDocumentInfo info;
    if (auto st = client->put_inventory(f.doc.name, f.doc.xml, &info); !st.ok()) {
      if (i > 0) fmt::print(stderr, "the {} file(s) before {} are loaded\n", i, f.file);
      return report_api_error("load", st);
    }
    fmt::print("{} {} as '{}': {}\n", info.replaced() ? "replaced" : "loaded", f.file, info.name(), f.counts);
  }
  fmt::print("seisvaultd at {} serves the station metadata now\n", args.connection.api);
  return kExitOk;
}

int run_load(const InventoryArgs& args) {
  std::vector<Loaded> files;
  if (int code = read_files(args, files); code != kExitOk) return code;
  if (!args.connection.api.empty()) return load_through_api(args, files);

  int failed = kExitOk;
  auto store = open_store("load", args.data_dir, true, &failed);
  if (!store) return failed;
  std::set<std::string> existing;
  if (auto docs = store->read_inventory(); docs.ok()) {
    for (const auto& d : *docs) existing.insert(d.name);
  }
  for (size_t i = 0; i < files.size(); ++i) {
    const auto& f = files[i];
    if (auto s = store->put_inventory(f.doc.name, f.doc.xml); !s.ok()) {
      fmt::print(stderr, "seisvault inventory load: storing {} failed: {}\n", f.file, s.message());
      if (i > 0) fmt::print(stderr, "the {} file(s) before it are loaded\n", i);
      return kExitStore;
    }
    fmt::print("{} {} as '{}': {}\n", existing.count(f.doc.name) ? "replaced" : "loaded", f.file, f.doc.name,
               f.counts);
  }
  fmt::print("seisvaultd serves the station metadata from its next start\n");
  return kExitOk;
}

void print_table_header(size_t width) {
  fmt::print("{:<{}}  {:<20}  {:>10}  {:>8}  {:>8}  {:>8}\n", "NAME", width, "LOADED", "SIZE", "NETWORKS",
             "STATIONS", "CHANNELS");
}

int list_through_api(const InventoryArgs& args) {
  int failed = kExitOk;
  auto client = api_client("list", args, &failed);
  if (!client) return failed;
  waveform::v1::ListInventoryResponse response;
  if (auto st = client->list_inventory(&response); !st.ok()) return report_api_error("list", st);
  if (response.documents().empty()) {
    fmt::print("no station metadata on {}: the FDSN station service answers \"no data\" (load some with "
               "seisvault inventory load)\n",
               args.connection.api);
    return kExitOk;
  }
  size_t width = 4;
  for (const auto& d : response.documents()) width = std::max(width, d.name().size());
  print_table_header(width);
  for (const auto& d : response.documents()) {
    fmt::print("{:<{}}  {:<20}  {:>10}  {:>8}  {:>8}  {:>8}\n", d.name(), width, loaded_text(d.loaded_ns()),
               size_text(d.bytes()), d.networks(), d.stations(), d.channels());
  }
  return kExitOk;
}

int run_list(const InventoryArgs& args) {
  if (!args.connection.api.empty()) return list_through_api(args);
  int failed = kExitOk;
  auto store = open_store("list", args.data_dir, false, &failed);
  if (!store) return failed;
  auto docs = store->read_inventory();
  if (!docs.ok()) {
    fmt::print(stderr, "seisvault inventory list: {}\n", docs.status().message());
    return kExitStore;
  }
  if (docs->empty()) {
    fmt::print("no station metadata in {}: the FDSN station service answers \"no data\" (load some with "
               "seisvault inventory load)\n",
               args.data_dir);
    return kExitOk;
  }
  size_t width = 4;
  for (const auto& d : *docs) width = std::max(width, d.name.size());
  print_table_header(width);
  for (const auto& d : *docs) {
    auto inv = server::StationInventory::build({d});
    if (!inv.ok()) {
      fmt::print("{:<{}}  {:<20}  {:>10}  not valid now: {}\n", d.name, width, loaded_text(d.loaded_ns),
                 size_text(d.xml.size()), inv.status().message());
      continue;
    }
    fmt::print("{:<{}}  {:<20}  {:>10}  {:>8}  {:>8}  {:>8}\n", d.name, width, loaded_text(d.loaded_ns),
               size_text(d.xml.size()), (*inv)->network_count(), (*inv)->station_count(), (*inv)->channel_count());
  }
  return kExitOk;
}

int remove_through_api(const InventoryArgs& args) {
  int failed = kExitOk;
  auto client = api_client("remove", args, &failed);
  if (!client) return failed;
  int code = kExitOk;
  for (const auto& name : args.names) {
    if (auto st = client->remove_inventory(name); !st.ok()) {
      code = std::max(code, report_api_error("remove", st));
      if (st.error_code() != grpc::StatusCode::NOT_FOUND) return code;
      continue;
    }
    fmt::print("removed '{}'\n", name);
  }
  if (code == kExitOk) fmt::print("seisvaultd at {} serves the change now\n", args.connection.api);
  return code;
}

int run_remove(const InventoryArgs& args) {
  if (!args.connection.api.empty()) return remove_through_api(args);
  int failed = kExitOk;
  auto store = open_store("remove", args.data_dir, false, &failed);
  if (!store) return failed;
  int code = kExitOk;
  for (const auto& name : args.names) {
    const auto s = store->remove_inventory(name);
    if (s.ok()) {
      fmt::print("removed '{}'\n", name);
      continue;
    }
    if (s.code() == StatusCode::kNotFound) {
      std::string loaded;
      if (auto docs = store->read_inventory(); docs.ok()) {
        for (const auto& d : *docs) loaded += (loaded.empty() ? "" : ", ") + d.name;
      }
      fmt::print(stderr, "seisvault inventory remove: no document named '{}' (loaded: {})\n", name,
                 loaded.empty() ? "none" : loaded);
      code = std::max(code, kExitUsage);
      continue;
    }
    fmt::print(stderr, "seisvault inventory remove: '{}': {}\n", name, s.message());
    return kExitStore;
  }
  if (code == kExitOk) fmt::print("seisvaultd serves the change from its next start\n");
  return code;
}

}  // namespace

CLI::App* add_inventory_command(CLI::App& app, InventoryArgs& args) {
  auto* cmd = app.add_subcommand(
      "inventory", "station metadata (FDSN StationXML) for the FDSN station service: load, list, remove, through a "
                   "running server's API (--api) or in a stopped server's data directory (--data-dir)");
  cmd->require_subcommand(1);
  // Where: exactly one of --data-dir and --api.
  const auto where = [&](CLI::App* sub) {
    auto* dir = sub->add_option("--data-dir", args.data_dir, "a stopped seisvaultd's data directory");
    auto* api = add_api_connection_options(sub, args.connection, false);
    dir->excludes(api);
    api->excludes(dir);
  };
  auto* load = cmd->add_subcommand(
      "load", "validate StationXML files, then store each under its file name (nothing is stored if any is invalid)");
  where(load);
  load->add_option("FILE", args.files, "StationXML files")->required();
  auto* list = cmd->add_subcommand("list", "the stored documents: name, load time, size, counts");
  where(list);
  auto* remove = cmd->add_subcommand("remove", "remove stored documents by name (as `list` shows them)");
  where(remove);
  remove->add_option("NAME", args.names, "document names")->required();
  return cmd;
}

int run_inventory(const CLI::App& inventory, const InventoryArgs& args) {
  if (args.data_dir.empty() && args.connection.api.empty()) {
    fmt::print(stderr, "seisvault inventory: give --api HOST:PORT (a running seisvaultd) or --data-dir DIR (a "
                       "stopped one)\n");
    return kExitUsage;
  }
  if (inventory.got_subcommand("load")) return run_load(args);
  if (inventory.got_subcommand("list")) return run_list(args);
  if (inventory.got_subcommand("remove")) return run_remove(args);
  return kExitUsage;
}

}  // namespace seisvault::cli
