#include "support/corpus.h"

#include <libmseed.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <stdexcept>

#include "seisvault/common/libmseed_lock.h"
#include "seisvault/common/mseed_record.h"

#ifndef SEISVAULT_DEFAULT_TESTDATA
#define SEISVAULT_DEFAULT_TESTDATA ""
#endif

namespace seisvault::test {

std::optional<std::filesystem::path> corpus_dir() {
  std::filesystem::path dir = SEISVAULT_DEFAULT_TESTDATA;
  if (const char* env = std::getenv("SEISVAULT_TESTDATA"); env && *env) dir = env;
  if (dir.empty() || !std::filesystem::exists(dir / "MANIFEST.tsv")) return std::nullopt;
  return dir;
}

std::filesystem::path corpus_dir_or_skip() {
  auto dir = corpus_dir();
  if (!dir) {
    std::cout << "SKIPPED: no miniSEED corpus (set SEISVAULT_TESTDATA to a folder with MANIFEST.tsv; default "
              << SEISVAULT_DEFAULT_TESTDATA << ")" << std::endl;
    std::exit(4);
  }
  return *dir;
}

namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(s);
  while (std::getline(in, item, sep)) out.push_back(item);
  if (!s.empty() && s.back() == sep) out.emplace_back();
  return out;
}

}  // namespace

std::vector<ManifestRow> read_manifest(const std::filesystem::path& dir) {
  std::ifstream in(dir / "MANIFEST.tsv");
  std::string line;
  if (!std::getline(in, line)) throw std::runtime_error("empty MANIFEST.tsv");
  const auto header = split(line, '\t');
  auto col = [&](const std::string& name) {
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] == name) return i;
    }
    throw std::runtime_error("MANIFEST.tsv has no column " + name);
  };
  const size_t c_file = col("file"), c_records = col("records"), c_ids = col("nslc_ids"), c_samples = col("samples"),
               c_start = col("start"), c_end = col("end"), c_verdict = col("libmseed2_parses"),
               c_version = col("mseed_version"), c_rate = col("samprate_hz"), c_segments = col("segments"),
               c_hash = col("decoded_samples_sha256"), c_notes = col("notes");
  std::vector<ManifestRow> rows;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto f = split(line, '\t');
    f.resize(header.size());
    ManifestRow r;
    r.file = f[c_file];
    r.records = std::stoul(f[c_records]);
    r.nslc_ids = split(f[c_ids], ';');
    r.samples = f[c_samples].empty() ? 0 : std::stoll(f[c_samples]);
    r.start = f[c_start];
    r.end = f[c_end];
    r.verdict = f[c_verdict];
    r.mseed_version = std::stoi(f[c_version]);
    for (const auto& rate : split(f[c_rate], ',')) {
      if (!rate.empty()) r.sample_rates.push_back(std::stod(rate));
    }
    r.segments = f[c_segments];
    r.decoded_samples_sha256 = f[c_hash];
    r.notes = f[c_notes];
    rows.push_back(std::move(r));
  }
  return rows;
}

std::vector<uint8_t> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  return {std::istreambuf_iterator<char>(in), {}};
}

std::vector<Piece> split_file(const std::vector<uint8_t>& data) {
  std::vector<Piece> out;
  size_t off = 0;
  while (auto p = next_piece(std::span(data).subspan(off), true)) {
    Piece piece;
    piece.where = *p;
    piece.where.offset = off;
    piece.bytes.assign(data.begin() + off, data.begin() + off + p->length);
    out.push_back(std::move(piece));
    off += p->length;
  }
  return out;
}

int64_t append_decoded_samples(const std::vector<uint8_t>& record, std::vector<uint8_t>& out) {
  LibmseedLock lock;
  MseedRecord msr;
  auto buf = record;  // libmseed wants a mutable buffer
  if (msr_parse(reinterpret_cast<char*>(buf.data()), static_cast<int>(buf.size()), msr.out(),
                static_cast<int>(buf.size()), 1, 0) != MS_NOERROR) {
    return -1;
  }
  if (msr->numsamples == 0) return 0;  // e.g. an event-detection record
  size_t size = 0;
  switch (msr->sampletype) {
    case 'i': size = 4; break;
    case 'f': size = 4; break;
    case 'd': size = 8; break;
    case 'a': size = 1; break;
    default: return -1;
  }
  const auto* p = static_cast<const uint8_t*>(msr->datasamples);
  out.insert(out.end(), p, p + size * static_cast<size_t>(msr->numsamples));  // host order is little-endian
  return msr->numsamples;
}

}  // namespace seisvault::test
