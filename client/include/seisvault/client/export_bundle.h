// Export bundles (docs/provenance.md "Export bundles"): stored records as
// miniSEED files plus a manifest that proves, with nothing but the bundle
// and public keys, that each record is what its station signed and that
// the server's signed ledger holds it.
//
// Layout of a bundle directory:
//   manifest.json       the manifest (format below, version 1)
//   data/*.mseed        the records, one file per channel, byte-identical
//
// write_bundle_manifest() writes what `seisvault export` gathered;
// verify_bundle() is `seisvault verify --bundle`.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "seisvault/common/sha256.h"
#include "seisvault/common/signing_keys.h"
#include "seisvault/common/status.h"
#include "seisvault/common/time.h"
#include "seisvault/common/verify_problems.h"

namespace seisvault::client {

inline constexpr const char* kBundleFormat = "seisvault-export-bundle";
inline constexpr int kBundleVersion = 1;

struct BundleRecord {
  std::string file;  // relative to the bundle, "data/XX.STA..HHZ.mseed"
  uint64_t offset = 0;
  uint64_t length = 0;
  Sha256Digest sha256{};  // of the record's bytes
  std::string source_id;
  TimeNs start_ns = 0;
  uint64_t ledger_entry = 0;  // 0: stored before the ledger began
  uint32_t position = 0;      // in its batch
};

struct BundleManifest {
  // Descriptive: where and what was exported.
  TimeNs created_ns = 0;
  std::string server_api;
  std::vector<std::string> selection;
  std::optional<TimeNs> start_ns, end_ns;
  // The proof: the server's checkpoint (172 bytes) covering entries
  // 1..count, the ledger's entries chain_first..count, and the key events
  // of the bundle's signing keys from before chain_first.
  std::string checkpoint;
  uint64_t chain_first = 0;
  std::vector<std::string> chain;
  std::vector<std::string> key_events;
  std::vector<BundleRecord> records;
  std::map<std::string, uint64_t> file_sizes;  // file -> bytes
};

// Writes DIR/manifest.json (the JSON adds a readable view of each batch
// the records point to, and the public keys involved).
Status write_bundle_manifest(const std::filesystem::path& dir, const BundleManifest& manifest);

struct BundleReport : VerifyProblems {
  uint64_t records = 0;
  uint64_t files = 0;
  uint64_t chain_entries = 0;
  uint64_t chain_first = 0;
  uint64_t checkpoint_count = 0;
  uint64_t signed_batches = 0;
  uint64_t key_events = 0;
  std::string checkpoint_key;  // the key the checkpoint names, as text
  bool server_key_given = false;
};

// Checks the bundle in `dir`: every record's bytes against its hash, its
// hash against its batch's entry, every entry's station signature and key
// registration, the chain from the first entry to the checkpoint, the
// checkpoint's signature (by `server_key` when given), that the manifest's
// readable view agrees with the entries, and that the data files hold the
// records and nothing else. InvalidArgument when the manifest cannot be
// read at all (not a bundle); everything else is in the report.
Result<BundleReport> verify_bundle(const std::filesystem::path& dir, std::optional<SigningPublicKey> server_key);

}  // namespace seisvault::client
