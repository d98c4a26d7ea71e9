// scan_steim against libmseed's own decoder (msr_unpack_data), record by
// record: the same error or not, the same number of samples, the same last
// sample. On every Steim record of the shared corpus, on records packed by
// libmseed (Steim-1 and Steim-2, both byte orders, signals that use every
// difference size), and on thousands of damaged copies of them: flipped
// bits, rewritten control words (undefined Steim-2 codes among them), random
// data words, sample counts from 1 to past what the frames hold, short data
// sections. And through RecordValidator: the verdict libmseed's decoder
// gave before is the verdict now.
#include <catch2/catch.hpp>

#include <libmseed.h>

#include <cstring>
#include <random>
#include <span>
#include <vector>

#include "seisvault/common/libmseed_lock.h"
#include "seisvault/ingest/record_validator.h"
#include "steim_scan.h"
#include "support/corpus.h"
#include "support/record_factory.h"

using namespace seisvault;
using namespace seisvault::ingest;

namespace {

// What the validator needs to find the data section, read by libmseed.
struct Header {
  bool ok = false;
  int encoding = 0;
  int64_t count = 0;
  size_t data_offset = 0;
  bool swap = false;
};

Header read_header(std::vector<uint8_t>& record) {
  LibmseedLock lock;
  MSRecord* msr = nullptr;
  Header h;
  const int size = static_cast<int>(record.size());
  if (msr_parse(reinterpret_cast<char*>(record.data()), size, &msr, size, 0, 0) == MS_NOERROR && msr->fsdh) {
    h.ok = true;
    h.encoding = msr->encoding;
    h.count = msr->samplecnt;
    h.data_offset = msr->fsdh->data_offset;
    if (msr->Blkt1000) {
      h.swap = msr->byteorder > 0;
    } else {
      uint16_t year, day;
      std::memcpy(&year, record.data() + 20, 2);
      std::memcpy(&day, record.data() + 22, 2);
      h.swap = !MS_ISVALIDYEARDAY(year, day);
    }
  }
  msr_free(&msr);
  return h;
}

// libmseed's decode of the record's data, as the validator used it.
struct Reference {
  int64_t decoded = 0;  // < 0: libmseed's error (libmseed 2.19 also fails when fewer samples than the header's come out)
  bool error_logged = false;  // by the decode, not the header's parse
  int32_t last = 0;
};

Reference libmseed_decode(std::vector<uint8_t>& record, bool swap) {
  LibmseedLock lock;
  MSRecord* msr = nullptr;
  const int size = static_cast<int>(record.size());
  REQUIRE(msr_parse(reinterpret_cast<char*>(record.data()), size, &msr, size, 0, 0) == MS_NOERROR);
  lock.clear_messages();
  Reference r;
  r.decoded = msr_unpack_data(msr, swap, 0);
  r.error_logged = lock.error_logged();
  if (r.decoded > 0) r.last = static_cast<const int32_t*>(msr->datasamples)[r.decoded - 1];
  msr_free(&msr);
  return r;
}

struct Tally {
  size_t compared = 0, undefined_codes = 0, short_counts = 0, integrity = 0, clean = 0;
};

// One record: scan_steim and libmseed agree. Records whose header does not
// parse, or whose encoding is not Steim, are skipped (false).
bool agree(std::vector<uint8_t> record, Tally& tally) {
  const Header h = read_header(record);
  if (!h.ok || (h.encoding != DE_STEIM1 && h.encoding != DE_STEIM2)) return false;
  if (h.count <= 0 || h.data_offset < 48 || h.data_offset + 64 > record.size()) return false;  // checked before decoding
  const auto data = std::span<const uint8_t>(record).subspan(h.data_offset);
  const auto scan = scan_steim(h.encoding == DE_STEIM1 ? 1 : 2, data, h.count, h.swap);
  const auto ref = libmseed_decode(record, h.swap);
  INFO("encoding " << h.encoding << ", " << h.count << " samples expected, swap " << h.swap << "; libmseed "
                   << ref.decoded << " (error logged: " << ref.error_logged << "), scan " << scan.samples << " '"
                   << scan.error << "'");
  ++tally.compared;
  const bool scan_fails = !scan.error.empty() || scan.samples != h.count;
  CHECK((ref.decoded < 0) == scan_fails);
  int32_t xn;
  std::memcpy(&xn, data.data() + 8, 4);
  if (h.swap) xn = static_cast<int32_t>(__builtin_bswap32(static_cast<uint32_t>(xn)));
  CHECK(scan.xn == xn);
  if (ref.decoded < 0) {
    ++(scan.error.empty() ? tally.short_counts : tally.undefined_codes);
    return true;
  }
  CHECK_FALSE(ref.error_logged);  // every libmseed error is a negative return
  CHECK(scan.samples == ref.decoded);
  CHECK(scan.last == ref.last);
  ++(scan.last != scan.xn ? tally.integrity : tally.clean);
  return true;
}

// The header's sample count (bytes 30-31) in the header's byte order.
void set_count(std::vector<uint8_t>& record, uint16_t count, bool header_big_endian) {
  record[30] = static_cast<uint8_t>(header_big_endian ? count >> 8 : count & 0xFF);
  record[31] = static_cast<uint8_t>(header_big_endian ? count & 0xFF : count >> 8);
}

// Records packed by libmseed from signals that use every difference size:
// small steps (4-bit to 8-bit differences), larger ones, and jumps that need
// 16 to 32 bits.
std::vector<std::vector<uint8_t>> packed_records(int encoding, int byte_order) {
  std::vector<std::vector<uint8_t>> out;
  test::RecordSpec spec;
  spec.encoding = encoding;
  spec.byte_order = byte_order;
  for (int32_t step : {3, 12, 50, 400, 20000, 1 << 22}) {
    auto samples = test::random_walk(3000, static_cast<uint32_t>(step), step);
    for (size_t i = 500; i < samples.size(); i += 700) samples[i] += (i % 1400 == 500 ? 1 : -1) * (1 << 27);  // spikes
    for (auto& r : test::pack_records(spec, samples)) out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

TEST_CASE("scan_steim decodes every Steim record of the corpus as libmseed does", "[ingest][steim]") {
  const auto dir = test::corpus_dir_or_skip();
  Tally tally;
  for (const auto& row : test::read_manifest(dir)) {
    for (const auto& piece : test::split_file(test::read_file(dir / row.file))) {
      if (piece.where.kind != PieceKind::kRecord) continue;
      INFO(row.file << " at byte " << piece.where.offset);
      agree(piece.bytes, tally);
    }
  }
  INFO("records compared: " << tally.compared);
  CHECK(tally.compared > 300);
  CHECK(tally.clean > 300);
}

TEST_CASE("scan_steim agrees with libmseed on packed records and damaged copies of them", "[ingest][steim]") {
  std::mt19937 rng(20261126);
  Tally tally;
  for (int encoding : {DE_STEIM1, DE_STEIM2}) {
    for (int byte_order : {1, 0}) {
      const auto records = packed_records(encoding, byte_order);
      REQUIRE(records.size() > 20);
      for (size_t k = 0; k < records.size(); ++k) {
        const auto& original = records[k];
        REQUIRE(agree(original, tally));
        auto copy = original;
        const size_t data_offset = read_header(copy).data_offset;
        const size_t words = (original.size() - data_offset) / 4;
        for (int m = 0; m < 60; ++m) {
          auto r = original;
          auto word = [&](size_t i) { return r.data() + data_offset + 4 * i; };
          switch (m % 6) {
            case 0:  // flipped bits anywhere in the data
              for (int b = 0, n = 1 + static_cast<int>(rng() % 8); b < n; ++b) {
                const size_t bit = rng() % ((r.size() - data_offset) * 8);
                r[data_offset + bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
              }
              break;
            case 1: {  // a frame's control word rewritten
              const uint32_t w = rng();
              std::memcpy(word(16 * (rng() % (words / 16))), &w, 4);
              break;
            }
            case 2: {  // a data word's top bits (Steim-2's dnib) changed: undefined codes too
              const size_t i = 1 + rng() % (words - 1);
              word(i)[byte_order == 1 ? 0 : 3] ^= static_cast<uint8_t>((1 + rng() % 3) << 6);
              break;
            }
            case 3:  // random data words
              for (int i = 0; i < 4; ++i) {
                const uint32_t w = rng();
                std::memcpy(word(rng() % words), &w, 4);
              }
              break;
            case 4:  // sample counts from 1 to past what the frames hold
              set_count(r, static_cast<uint16_t>(1 + rng() % 1200), byte_order == 1);
              break;
            case 5:  // the last sample (Xn) changed
              *word(2) ^= static_cast<uint8_t>(1 + rng() % 255);
              break;
          }
          agree(r, tally);
        }
      }
    }
  }
  INFO("compared " << tally.compared << ": " << tally.undefined_codes << " undefined codes, " << tally.short_counts
                   << " short, " << tally.integrity << " integrity failures, " << tally.clean << " clean");
  // Every kind of outcome was exercised.
  CHECK(tally.undefined_codes > 50);
  CHECK(tally.short_counts > 50);
  CHECK(tally.integrity > 50);
  CHECK(tally.clean > 200);
}

TEST_CASE("RecordValidator gives the verdicts libmseed's decoder gave", "[ingest][steim][validator]") {
  std::mt19937 rng(7);
  RecordValidator validator;
  size_t checked = 0;
  for (int encoding : {DE_STEIM1, DE_STEIM2}) {
    for (int byte_order : {1, 0}) {
      for (const auto& original : packed_records(encoding, byte_order)) {
        for (int m = 0; m < 10; ++m) {
          auto r = original;
          if (m > 0) {
            const size_t bit = rng() % ((r.size() - 64) * 8);
            r[64 + bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
          }
          const Header h = read_header(r);
          REQUIRE(h.ok);
          const auto ref = libmseed_decode(r, h.swap);
          int32_t xn;
          std::memcpy(&xn, r.data() + 64 + 8, 4);
          if (h.swap) xn = static_cast<int32_t>(__builtin_bswap32(static_cast<uint32_t>(xn)));
          RejectReason expected = RejectReason::kNone;
          if (ref.decoded < 0 || ref.decoded != h.count || ref.error_logged) {
            expected = RejectReason::kDecodeFailed;
          } else if (ref.last != xn) {
            expected = RejectReason::kSteimIntegrity;
          }
          const auto v = validator.validate(r, now_ns());
          INFO("encoding " << encoding << ", byte order " << byte_order << ": " << v.message);
          CHECK(v.reason == expected);
          ++checked;
        }
      }
    }
  }
  CHECK(checked > 500);
}
