#include "seisvault/client/export_bundle.h"

#include <sodium.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <set>
#include <stdexcept>
#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "seisvault/common/atomic_file.h"
#include "seisvault/common/ledger_chain_check.h"
#include "seisvault/common/ledger_checkpoint.h"
#include "seisvault/common/ledger_entry.h"

namespace seisvault::client {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

std::string base64(std::string_view bytes) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating zero
  return out;
}

std::optional<std::string> from_base64(const std::string& text) {
  std::string out(text.size() / 4 * 3 + 3, '\0');
  size_t length = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(), text.size(), nullptr,
                        &length, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0) {
    return std::nullopt;
  }
  out.resize(length);
  return out;
}

std::string hex(const Sha256Digest& d) { return to_hex(d); }

// A file name the manifest may use: relative, inside the bundle.
bool inside_bundle(const std::string& name) {
  return !name.empty() && name.find("..") == std::string::npos && !fs::path(name).is_absolute();
}

std::optional<Sha256Digest> digest_from_hex(const std::string& text) {
  Sha256Digest d{};
  size_t length = 0;
  if (text.size() != 64 ||
      sodium_hex2bin(d.data(), d.size(), text.data(), text.size(), nullptr, &length, nullptr) != 0 ||
      length != 32) {
    return std::nullopt;
  }
  return d;
}

std::string signature_hex(const std::string& signature) {
  return to_hex({reinterpret_cast<const uint8_t*>(signature.data()), signature.size()});
}

// A manifest that is not one: a field missing or of the wrong type.
struct BadManifest : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// j[key], which must be a whole number from 0 to `max` (nlohmann's get<>
// of a floating-point value out of range is undefined behaviour: found by
// fuzz_bundle_manifest).
uint64_t whole_at(const Json& j, const char* key, uint64_t max = UINT64_MAX) {
  const Json& v = j.at(key);
  if (!v.is_number_unsigned() || v.get<uint64_t>() > max) {
    throw BadManifest(fmt::format("\"{}\" is {}, not a whole number from 0 to {}", key, v.dump(), max));
  }
  return v.get<uint64_t>();
}

// A batch entry as the manifest shows it to a reader.
Json batch_view(const LedgerEntry& e) {
  Json hashes = Json::array();
  for (const auto& h : e.hashes) hashes.push_back(hex(h));
  return {{"entry", e.number},
          {"key", ledger_key_text(e.key_id, e.is_signed)},
          {"signed", e.is_signed},
          {"protocol_version", e.protocol_version},
          {"batch_id", e.batch_id},
          {"send_time_ns", e.send_ns},
          {"receive_time", format_iso8601(e.receive_ns)},
          {"signature", signature_hex(e.signature)},
          {"hashes", std::move(hashes)}};
}

}  // namespace

Status write_bundle_manifest(const fs::path& dir, const BundleManifest& m) {
  Json j;
  j["format"] = kBundleFormat;
  j["version"] = kBundleVersion;
  j["created"] = format_iso8601(m.created_ns);
  j["server_api"] = m.server_api;
  j["selection"] = m.selection;
  j["start"] = m.start_ns ? Json(format_iso8601(*m.start_ns)) : Json(nullptr);
  j["end"] = m.end_ns ? Json(format_iso8601(*m.end_ns)) : Json(nullptr);
  auto checkpoint = decode_checkpoint(m.checkpoint);
  if (!checkpoint.ok()) return checkpoint.status();
  j["server_key"] = signing_key_text(checkpoint->server_key);
  j["checkpoint"] = {{"count", checkpoint->count}, {"bytes", base64(m.checkpoint)}};
  Json chain = Json::array();
  for (const auto& e : m.chain) chain.push_back(base64(e));
  j["chain"] = {{"first", m.chain_first}, {"entries", std::move(chain)}};
  Json events = Json::array();
  for (const auto& e : m.key_events) events.push_back(base64(e));
  j["key_events"] = std::move(events);

  // The readable view: the batches the records point to, and the keys.
  std::set<uint64_t> wanted;
  for (const auto& r : m.records) {
    if (r.ledger_entry != 0) wanted.insert(r.ledger_entry);
  }
  Json batches = Json::array();
  Json keys = Json::object();
  auto add_key_event = [&](const LedgerEntry& e) {
    if (e.kind != kLedgerKindKeyEvent) return;
    keys[ledger_key_text(e.key_id, e.is_signed)].push_back(
        {{"entry", e.number},
         {"event", e.key_event == kKeyRegistered ? "registered" : "revoked"},
         {"time", format_iso8601(e.receive_ns)},
         {"station_key", e.station_key},
         {"patterns", e.station_patterns}});
  };
  for (const auto& bytes : m.key_events) {
    if (auto e = decode_ledger_entry(bytes); e.ok()) add_key_event(*e);
  }
  for (size_t i = 0; i < m.chain.size(); ++i) {
    auto e = decode_ledger_entry(m.chain[i]);
    if (!e.ok()) continue;
    add_key_event(*e);
    if (wanted.count(e->number) > 0 && e->kind == kLedgerKindBatch) batches.push_back(batch_view(*e));
  }
  j["batches"] = std::move(batches);
  j["keys"] = std::move(keys);

  Json files = Json::array();
  for (const auto& [file, size] : m.file_sizes) files.push_back({{"path", file}, {"bytes", size}});
  j["files"] = std::move(files);
  Json records = Json::array();
  for (const auto& r : m.records) {
    records.push_back({{"file", r.file},
                       {"offset", r.offset},
                       {"length", r.length},
                       {"sha256", hex(r.sha256)},
                       {"source_id", r.source_id},
                       {"start", format_iso8601(r.start_ns)},
                       {"ledger_entry", r.ledger_entry},
                       {"position", r.position}});
  }
  j["records"] = std::move(records);
  return write_file_atomically(dir / "manifest.json", j.dump(1) + "\n");
}

namespace {

class BundleVerifier {
 public:
  BundleVerifier(fs::path dir, std::optional<SigningPublicKey> server_key)
      : dir_(std::move(dir)), server_key_(server_key) {
    report_.server_key_given = server_key_.has_value();
  }

  Result<BundleReport> run() {
    std::ifstream in(dir_ / "manifest.json", std::ios::binary);
    if (!in) return Status::invalid_argument(fmt::format("{}: no manifest.json: not an export bundle", dir_.string()));
    Json j;
    try {
      j = Json::parse(in);
    } catch (const Json::exception& e) {
      return Status::invalid_argument(fmt::format("{}: manifest.json is not JSON: {}", dir_.string(), e.what()));
    }
    try {
      const bool format = j.is_object() && j.contains("format") && j["format"] == kBundleFormat;
      const bool version = format && j.contains("version") && j["version"].is_number_unsigned() &&
                           j["version"].get<uint64_t>() == kBundleVersion;
      if (!format || !version) {
        return Status::invalid_argument(fmt::format("{}: not a {} of version {}", (dir_ / "manifest.json").string(),
                                                    kBundleFormat, kBundleVersion));
      }
      check(j);
    } catch (const Json::exception& e) {
      report_.add("manifest-unreadable", "manifest.json",
                  fmt::format("a field is missing or of the wrong type: {}", e.what()));
    } catch (const BadManifest& e) {
      report_.add("manifest-unreadable", "manifest.json", e.what());
    }
    return report_;
  }

 private:

  std::optional<std::string> bytes_of(const Json& text, const std::string& where) {
    auto b = from_base64(text.get<std::string>());
    if (!b) report_.add("manifest-unreadable", where, "not base64");
    return b;
  }

  void check(const Json& j) {
    // The checkpoint and the chain up to it.
    auto checkpoint = bytes_of(j.at("checkpoint").at("bytes"), "checkpoint");
    if (!checkpoint) return;
    const uint64_t count = whole_at(j.at("checkpoint"), "count");
    if (auto c = decode_checkpoint(*checkpoint); c.ok()) report_.checkpoint_key = signing_key_text(c->server_key);
    report_.checkpoint_count = count;
    LedgerChainCheck chain(server_key_, {{count, *checkpoint}},
                           [&](const std::string& kind, std::string where, std::string what) {
                             report_.add(kind, std::move(where), std::move(what));
                           });
    const uint64_t first = whole_at(j.at("chain"), "first");
    report_.chain_first = first;
    for (const auto& text : j.at("key_events")) {
      auto bytes = bytes_of(text, "key_events");
      if (!bytes) continue;
      auto e = decode_ledger_entry(*bytes);
      if (!e.ok() || e->kind != kLedgerKindKeyEvent || e->number >= first) {
        report_.add("manifest-mismatch", "key_events",
                    e.ok() ? fmt::format("entry {} is not a key event from before the chain's first entry {}",
                                         e->number, first)
                           : e.status().message());
        continue;
      }
      if (auto s = chain.add_key_event(*bytes); !s.ok()) report_.add("manifest-mismatch", "key_events", s.message());
    }
    // Only the batch entries the records and the readable view name are
    // kept decoded: the chain also holds other stations' batches.
    std::set<uint64_t> named;
    for (const auto& r : j.at("records")) named.insert(whole_at(r, "ledger_entry"));
    for (const auto& b : j.at("batches")) named.insert(whole_at(b, "entry"));
    chain.start_at(first);
    uint64_t number = first;
    for (const auto& text : j.at("chain").at("entries")) {
      auto bytes = bytes_of(text, fmt::format("chain entry {}", number));
      if (!bytes) return;
      const LedgerEntry* e = chain.add_entry(number, *bytes);
      if (e != nullptr && e->kind == kLedgerKindBatch && named.count(number) > 0) entries_.emplace(number, *e);
      ++number;
    }
    if (number - 1 != count) {
      report_.add("manifest-mismatch", "chain",
                  fmt::format("the chain runs from entry {} to {}, the checkpoint covers entries up to {}: it "
                              "must end there",
                              first, number - 1, count));
    }
    chain.finish();
    report_.chain_entries = chain.entries();
    report_.signed_batches = chain.signed_entries();
    report_.key_events = chain.key_events();

    check_batch_views(j.at("batches"));
    check_records(j.at("records"));
    check_files(j.at("files"));
  }

  // The readable view must say what the entries say.
  void check_batch_views(const Json& batches) {
    for (const auto& b : batches) {
      const uint64_t n = whole_at(b, "entry");
      const auto e = entries_.find(n);
      const std::string where = fmt::format("batches: entry {}", n);
      if (e == entries_.end()) {
        report_.add("manifest-mismatch", where, "the chain holds no such batch entry");
        continue;
      }
      if (batch_view(e->second) != b) {
        report_.add("manifest-mismatch", where,
                    "the readable view of the batch (key, id, times, signature or hashes) differs from its ledger "
                    "entry");
      }
    }
  }

  void check_records(const Json& records) {
    std::set<std::pair<uint64_t, uint32_t>> places;
    for (const auto& r : records) {
      ++report_.records;
      const std::string file = r.at("file").get<std::string>();
      const uint64_t offset = whole_at(r, "offset"), length = whole_at(r, "length");
      const std::string where = fmt::format("{} record at {} ({} bytes at offset {} of {})",
                                            r.at("source_id").get<std::string>(), r.at("start").get<std::string>(),
                                            length, offset, file);
      covered_[file].push_back({offset, length});
      const auto sha = digest_from_hex(r.at("sha256").get<std::string>());
      if (!sha) {
        report_.add("manifest-unreadable", where, "its sha256 is not 64 hex digits");
        continue;
      }
      auto bytes = read_range(file, offset, length);
      if (!bytes) {
        report_.add("bundle-file", where, "the file does not hold these bytes (missing, or too short)");
      } else if (const auto actual = sha256({reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size()});
                 actual != *sha) {
        report_.add("record-hash", where,
                    fmt::format("its bytes hash to {}, the manifest says {}: the file was changed", hex(actual),
                                hex(*sha)));
      }
      const uint64_t n = whole_at(r, "ledger_entry");
      const auto position = static_cast<uint32_t>(whole_at(r, "position", UINT32_MAX));
      if (n == 0) {
        report_.add("record-not-in-ledger", where,
                    "stored before the ledger began: nothing proves what the station sent");
        continue;
      }
      const std::string in = fmt::format("ledger entry {} position {}", n, position);
      if (!places.insert({n, position}).second) {
        report_.add("record-twice", where, fmt::format("a second record at {}", in));
      }
      const auto e = entries_.find(n);
      if (e == entries_.end()) {
        report_.add("record-ledger-mismatch", where,
                    fmt::format("it points to {}, which the bundle's chain lacks", in));
        continue;
      }
      const LedgerEntry& entry = e->second;
      if (n > report_.checkpoint_count) {
        report_.add("record-ledger-mismatch", where,
                    fmt::format("it points to {}, past the checkpoint's {} entries: nothing the server signed "
                                "covers it",
                                in, report_.checkpoint_count));
      } else {
        for (auto& what : record_entry_mismatches(entry, position, *sha, in)) {
          report_.add("record-ledger-mismatch", where, std::move(what));
        }
      }
    }
  }

  // Each data file holds its records end to end and nothing else; no file
  // lies beside them unlisted.
  void check_files(const Json& files) {
    std::set<std::string> listed;
    for (const auto& f : files) {
      const std::string name = f.at("path").get<std::string>();
      listed.insert(name);
      ++report_.files;
      if (!inside_bundle(name)) {
        report_.add("bundle-file", name, "a file outside the bundle");
        continue;
      }
      std::error_code ec;
      const auto size = fs::file_size(dir_ / name, ec);
      if (ec) {
        report_.add("bundle-file", name, fmt::format("cannot be read: {}", ec.message()));
        continue;
      }
      auto ranges = covered_[name];
      std::sort(ranges.begin(), ranges.end());
      uint64_t at = 0;
      for (const auto& [offset, length] : ranges) {
        if (offset != at) break;
        at += length;
      }
      const uint64_t listed_size = whole_at(f, "bytes");
      if (at != size || size != listed_size) {
        report_.add("bundle-file", name,
                    fmt::format("it holds {} bytes, the manifest lists {} and its records cover {} from the "
                                "start: bytes were added, removed or moved",
                                size, listed_size, at));
      }
    }
    for (const auto& [name, _] : covered_) {
      if (listed.count(name) == 0) {
        report_.add("bundle-file", name, "records point to a file the manifest does not list");
      }
    }
    std::error_code ec;
    for (fs::recursive_directory_iterator it(dir_ / "data", ec), end; !ec && it != end; it.increment(ec)) {
      if (!it->is_regular_file()) continue;
      const std::string name = fs::relative(it->path(), dir_).generic_string();
      if (listed.count(name) == 0) report_.add("bundle-file", name, "a file the manifest does not list");
    }
  }

  // Records come file by file: the file read last stays open.
  std::optional<std::string> read_range(const std::string& file, uint64_t offset, uint64_t length) {
    if (file != open_name_) {
      open_name_ = file;
      open_.close();
      open_size_.reset();
      if (!inside_bundle(file)) return std::nullopt;
      std::error_code ec;
      const auto size = fs::file_size(dir_ / file, ec);
      if (ec) return std::nullopt;
      open_.open(dir_ / file, std::ios::binary);
      if (open_) open_size_ = size;
    }
    // Checked before allocating what the manifest claims.
    if (!open_size_ || offset > *open_size_ || length > *open_size_ - offset) return std::nullopt;
    open_.clear();
    open_.seekg(static_cast<std::streamoff>(offset));
    std::string out(length, '\0');
    if (!open_.read(out.data(), static_cast<std::streamsize>(length))) return std::nullopt;
    return out;
  }

  fs::path dir_;
  std::optional<SigningPublicKey> server_key_;
  BundleReport report_;
  std::unordered_map<uint64_t, LedgerEntry> entries_;  // the chain's batch entries the manifest names
  std::string open_name_;  // read_range()'s open file, and its size when it opened
  std::ifstream open_;
  std::optional<uint64_t> open_size_;
  std::map<std::string, std::vector<std::pair<uint64_t, uint64_t>>> covered_;  // file -> (offset, length)
};

}  // namespace

Result<BundleReport> verify_bundle(const fs::path& dir, std::optional<SigningPublicKey> server_key) {
  return BundleVerifier(dir, server_key).run();
}

}  // namespace seisvault::client
