// The shared miniSEED corpus (../shared/testdata/miniseed) and its
// MANIFEST.tsv, for suites that test against real files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "seisvault/common/record_splitter.h"

namespace seisvault::test {

struct ManifestRow {
  std::string file;
  size_t records = 0;
  std::vector<std::string> nslc_ids;
  int64_t samples = 0;
  std::string start;  // ISO 8601, microseconds
  std::string end;
  std::string verdict;  // libmseed2_parses: "yes", "yes (warning: ...)", "no: ..."
  int mseed_version = 2;
  std::vector<double> sample_rates;
  std::string segments;  // "4 (3 gaps, 0 overlaps)"
  std::string decoded_samples_sha256;
  std::string notes;
  bool parses() const { return verdict.rfind("yes", 0) == 0; }
};

// The corpus folder: $SEISVAULT_TESTDATA when set, else the build's default
// (../shared/testdata/miniseed beside the checkout). nullopt when it has no
// MANIFEST.tsv.
std::optional<std::filesystem::path> corpus_dir();

// Ends the test process with CTest's skip code (4) after saying why, when
// the corpus is absent; otherwise returns the folder.
std::filesystem::path corpus_dir_or_skip();

std::vector<ManifestRow> read_manifest(const std::filesystem::path& dir);
std::vector<uint8_t> read_file(const std::filesystem::path& path);

struct Piece {
  RecordPiece where;
  std::vector<uint8_t> bytes;
};
// Every piece of a whole file, in order.
std::vector<Piece> split_file(const std::vector<uint8_t>& data);

// Decodes one record's samples with libmseed and appends them to `out`
// serialized as MANIFEST.tsv's decoded_samples_sha256 specifies (little-
// endian int32, float32 or float64; one byte per TEXT character). Returns
// the sample count, or -1 when libmseed cannot decode the record.
int64_t append_decoded_samples(const std::vector<uint8_t>& record, std::vector<uint8_t>& out);

}  // namespace seisvault::test
