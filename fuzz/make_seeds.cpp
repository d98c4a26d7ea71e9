// fuzz_make_seeds: builds the fuzz targets' seed corpora from the shared
// miniSEED corpus, so that nothing taken from other projects is committed
// here. scripts/fuzz.sh runs it before fuzzing.
//
//   fuzz_make_seeds TESTDATA_DIR OUT_DIR
//
// Writes, under OUT_DIR:
//   record_validator/  the pieces of every corpus file (records, and the
//                      truncated, miniSEED 3 and non-record pieces), at
//                      most kPiecesPerFile per file
//   batch_parser/      per file, an IngestBatch of its first pieces with
//                      their SHA-256, as a station sends it
//   spool_reader/      those batches as spool batch files, written by Spool
//   record_splitter/   the first kSplitterBytes of every file
//   miniseed_repack/   the same pieces as record_validator/ (what the
//                      store holds and SeedLink v3 clients get repacked)
//   seedlink_wire/     per file, its first piece framed as a SeedLink
//                      server sends it (v3 "SL" + sequence, v4 "SE" header),
//                      written by seedlink_wire.h's encoders; plus the v3
//                      INFO headers and "END"
// Seeds are named by the SHA-256 of their content (libFuzzer's own naming),
// so running it again changes nothing. Exits 1 with a message on any error.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "seisvault/client/spool.h"
#include "seisvault/common/record_splitter.h"
#include "seisvault/common/seedlink_wire.h"
#include "seisvault/common/sha256.h"
#include "seisvault/proto/ingest.pb.h"

namespace fs = std::filesystem;

namespace {

constexpr size_t kPiecesPerFile = 16;
constexpr size_t kRecordsPerBatch = 4;
constexpr size_t kSplitterBytes = 16384;

// A directory removed with everything in it when this goes out of scope.
struct ScratchDir {
  explicit ScratchDir(fs::path p) : path(std::move(p)) { fs::remove_all(path); }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  fs::path path;
};

std::span<const uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::vector<uint8_t> read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("cannot read {}", path.string()));
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_seed(const fs::path& dir, std::span<const uint8_t> content) {
  const fs::path path = dir / seisvault::to_hex(seisvault::sha256(content));
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(content.data()), static_cast<std::streamsize>(content.size()));
  if (!out) throw std::runtime_error(fmt::format("cannot write {}", path.string()));
}

std::vector<std::span<const uint8_t>> pieces_of(const std::vector<uint8_t>& data) {
  std::vector<std::span<const uint8_t>> out;
  const std::span<const uint8_t> all(data);
  for (size_t at = 0; at < data.size();) {
    const auto p = seisvault::next_piece(all.subspan(at), /*at_eof=*/true);
    if (!p) break;
    out.push_back(all.subspan(at, p->length));
    at += p->length;
  }
  return out;
}

std::string batch_of(const std::vector<std::span<const uint8_t>>& pieces, uint64_t batch_id) {
  seisvault::ingest::v1::IngestBatch batch;
  batch.set_protocol_version(seisvault::ingest::v1::PROTOCOL_VERSION_1);
  batch.set_batch_id(batch_id);
  for (size_t i = 0; i < pieces.size() && i < kRecordsPerBatch; ++i) {
    auto* r = batch.add_records();
    r->set_mseed(pieces[i].data(), pieces[i].size());
    const auto digest = seisvault::sha256(pieces[i]);
    r->set_sha256(digest.data(), digest.size());
  }
  return batch.SerializeAsString();
}

int run(const fs::path& testdata, const fs::path& out) {
  for (const char* sub : {"record_validator", "batch_parser", "spool_reader", "record_splitter", "miniseed_repack",
                          "seedlink_wire"}) {
    fs::create_directories(out / sub);
  }
  // Spool files are written by the real Spool, in a scratch spool.
  const ScratchDir scratch(fs::temp_directory_path() / fmt::format("seisvault-make-seeds-{}", ::getpid()));
  auto spool = seisvault::client::Spool::open(scratch.path);
  if (!spool.ok()) throw std::runtime_error(spool.status().message());

  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(testdata)) {
    const auto name = entry.path().filename().string();
    if (entry.is_regular_file() && name != "MANIFEST.tsv" && name != "README.md") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) throw std::runtime_error(fmt::format("no miniSEED files in {}", testdata.string()));

  size_t records = 0, batches = 0;
  uint64_t batch_id = 1;
  for (const auto& file : files) {
    const auto data = read_all(file);
    const auto pieces = pieces_of(data);
    for (size_t i = 0; i < pieces.size() && i < kPiecesPerFile; ++i, ++records) {
      write_seed(out / "record_validator", pieces[i]);
      write_seed(out / "miniseed_repack", pieces[i]);
    }
    if (!pieces.empty()) {
      const auto& first = pieces.front();
      std::string v3;
      seisvault::seedlink::append_v3_header(v3, batch_id * 0x10101);
      v3.append(reinterpret_cast<const char*>(first.data()), first.size());
      write_seed(out / "seedlink_wire", bytes_of(v3));
      std::string v4;
      seisvault::seedlink::append_v4_header(v4, seisvault::seedlink::kFormatMiniSeed2,
                                            seisvault::seedlink::kSubformatData, static_cast<uint32_t>(first.size()),
                                            batch_id * 1000003, fmt::format("XX_S{}", batch_id));
      v4.append(reinterpret_cast<const char*>(first.data()), first.size());
      write_seed(out / "seedlink_wire", bytes_of(v4));
    }
    const std::string batch = batch_of(pieces, batch_id);
    write_seed(out / "batch_parser", bytes_of(batch));
    if (auto s = spool->write(batch_id, bytes_of(batch)); !s.ok()) throw std::runtime_error(s.message());
    write_seed(out / "spool_reader", read_all(spool->batch_path(batch_id)));
    ++batch_id;
    ++batches;
    write_seed(out / "record_splitter", std::span(data).first(std::min(data.size(), kSplitterBytes)));
  }
  // An empty batch, and one with a field this protocol version does not know.
  write_seed(out / "batch_parser", bytes_of(batch_of({}, 7)));
  const std::string unknown = batch_of({}, 8) + std::string("\x22\x03xyz", 5);  // field 4, length-delimited
  write_seed(out / "batch_parser", bytes_of(unknown));
  for (const bool more : {true, false}) {
    std::string info;
    seisvault::seedlink::append_v3_info_header(info, more);
    write_seed(out / "seedlink_wire", bytes_of(info));
  }
  write_seed(out / "seedlink_wire", bytes_of(std::string(seisvault::seedlink::kEndMarker)));

  std::printf("fuzz_make_seeds: %zu files -> %zu record seeds, %zu batches and spool files, in %s\n", files.size(),
              records, batches, out.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s TESTDATA_DIR OUT_DIR\n", argv[0]);
    return 2;
  }
  try {
    return run(argv[1], argv[2]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_make_seeds: %s\n", e.what());
    return 1;
  }
}
