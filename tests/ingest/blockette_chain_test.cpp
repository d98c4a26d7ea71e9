// The blockette chain walk (ingest/src/blockette_chain.h) on crafted
// records, alone and through RecordValidator: every hostile chain is
// rejected before libmseed sees it. Run under valgrind
// (`valgrind --error-exitcode=1 build/tests/ingest/ingest_test "[blockettes]"`),
// no case reads outside its record.
#include <catch2/catch.hpp>

#include <bit>
#include <cstring>

#include <fmt/format.h>

#include "blockette_chain.h"
#include "seisvault/ingest/record_validator.h"
#include "support/record_factory.h"

using namespace seisvault;
using namespace seisvault::ingest;

namespace {

const TimeNs kNow = *parse_iso8601("2024-01-01T00:00:00Z");

// A record of `length` bytes with a fixed header (XX.TEST.00.HHZ,
// 2023-04-10, 1 Hz, no samples) and blockettes written by hand, in either
// byte order. Without samples, the chain is all there is to check: a
// crafted record that passes the walk is a valid record.
class Crafted {
 public:
  explicit Crafted(size_t length = 512, bool big_endian = true) : r_(length, 0), be_(big_endian) {
    std::memcpy(r_.data(), "000001D TEST 00HHZXX", 20);
    put16(20, 2023);  // year
    put16(22, 100);   // day
    put16(32, 1);     // sample rate factor
    put16(34, 1);     // sample rate multiplier
  }
  Crafted& first(uint16_t offset) { return put16(46, offset); }
  Crafted& blockette(size_t at, uint16_t type, uint16_t next) {
    ++r_[39];  // the fixed header's blockette count (libmseed only warns when it is wrong)
    put16(at, type);
    return put16(at + 2, next);
  }
  Crafted& b1000(size_t at, uint16_t next, uint8_t exponent = 9) {
    blockette(at, 1000, next);
    r_[at + 4] = 11;  // Steim-2
    r_[at + 5] = be_ ? 1 : 0;
    r_[at + 6] = exponent;
    return *this;
  }
  Crafted& b2000(size_t at, uint16_t next, uint16_t length) {
    blockette(at, 2000, next);
    return put16(at + 4, length);
  }
  Crafted& put16(size_t at, uint16_t v) {
    r_[at + (be_ ? 0 : 1)] = static_cast<uint8_t>(v >> 8);
    r_[at + (be_ ? 1 : 0)] = static_cast<uint8_t>(v);
    return *this;
  }
  // The usual chain: blockette 1000 at 48, blockette 1001 at 56.
  static Crafted usual(size_t length = 512, bool big_endian = true) {
    uint8_t exponent = 0;
    while ((size_t{1} << exponent) < length) ++exponent;
    Crafted c(length, big_endian);
    c.first(48).b1000(48, 56, exponent).blockette(56, 1001, 0);
    return c;
  }
  const std::vector<uint8_t>& bytes() const { return r_; }

 private:
  std::vector<uint8_t> r_;
  bool be_;
};

BlocketteChain walk(const Crafted& c) { return walk_blockette_chain(c.bytes()); }

Validation check(const std::vector<uint8_t>& bytes) {
  RecordValidator v;
  return v.validate(bytes, kNow);
}

// A real Steim-2 record (512 bytes, big-endian, blockettes 1000 and 1001 at
// bytes 48 and 56, the last of the chain at 56) holding few samples, so that
// its last frames are unused and can hold a crafted blockette.
std::vector<uint8_t> sparse_steim2_record() {
  test::RecordSpec spec;
  spec.start_ns = *parse_iso8601("2023-06-01T00:00:00Z");
  auto recs = test::pack_records(spec, test::random_walk(100));
  REQUIRE(recs.size() == 1);
  REQUIRE(check(recs[0]).ok());
  REQUIRE(recs[0][46] << 8 == 0);
  REQUIRE(recs[0][47] == 48);
  REQUIRE((recs[0][50] << 8 | recs[0][51]) == 56);
  REQUIRE((recs[0][58] << 8 | recs[0][59]) == 0);
  return recs[0];
}
size_t b1000_offset(const std::vector<uint8_t>& r) { return (r[48] << 8 | r[49]) == 1000 ? 48 : 56; }
void put_be16(std::vector<uint8_t>& r, size_t at, uint16_t v) {
  r[at] = static_cast<uint8_t>(v >> 8);
  r[at + 1] = static_cast<uint8_t>(v);
}

}  // namespace

TEST_CASE("a well-formed chain of every blockette type libmseed knows is accepted", "[blockettes]") {
  for (const bool be : {true, false}) {
    INFO((be ? "big" : "little") << "-endian header");
    Crafted c(4096, be);
    c.first(48);
    size_t at = 48;
    const uint16_t types[] = {1000, 1001, 100, 200, 201, 300, 310, 320, 390, 395, 400, 500};
    for (size_t i = 0; i < std::size(types); ++i) {
      const uint16_t type = types[i];
      const size_t next = at + fixed_blockette_length(type);
      if (type == 1000) {
        c.b1000(at, static_cast<uint16_t>(next), 12);
      } else {
        c.blockette(at, type, static_cast<uint16_t>(next));
      }
      at = next;
    }
    c.b2000(at, 0, 40);  // 15-byte fixed part and 25 bytes of opaque data
    const auto w = walk(c);
    INFO(w.message());
    REQUIRE(w.ok());
    CHECK(w.blockettes == 13);
    CHECK(w.swapped == (be != (std::endian::native == std::endian::big)));
    CHECK(w.b1000_offset == 48);
    CHECK(w.b1000_record_length == 4096);
    const auto v = check(c.bytes());
    INFO(v.message);
    CHECK(v.ok());
  }
}

TEST_CASE("records without blockettes and the usual chain are accepted", "[blockettes]") {
  CHECK(check(Crafted::usual().bytes()).ok());
  const auto none = walk(Crafted(512));
  CHECK(none.ok());
  CHECK(none.blockettes == 0);
  CHECK(none.b1000_offset == 0);
  CHECK(check(Crafted(512).bytes()).ok());  // legacy: no blockette 1000, a power-of-two length
  // Without blockette 1000 the buffer is the record, unless another record
  // starts inside it (at a multiple of 128 bytes, as libmseed looks).
  auto two = Crafted(1024).bytes();
  std::memcpy(two.data() + 512, two.data(), 48);
  const auto v = check(two);
  CHECK(v.reason == RejectReason::kRecordLengthMismatch);
  CHECK_THAT(v.message, Catch::Contains("another record starts at byte 512"));
  CHECK(check(Crafted(384).bytes()).reason == RejectReason::kRecordLengthMismatch);  // not a power of two
}

TEST_CASE("a blockette 2000 whose length is below its fixed part is rejected", "[blockettes]") {
  // libmseed 2.19 copies `length - 4` bytes, which wraps to ~64 KiB for 1-3.
  for (uint16_t length : {0, 1, 2, 3, 4, 14}) {
    INFO("length " << length);
    auto c = Crafted::usual();
    c.put16(58, 64).b2000(64, 0, length);
    const auto w = walk(c);
    CHECK(w.problem == ChainProblem::kB2000TooShort);
    const auto v = check(c.bytes());
    CHECK(v.reason == RejectReason::kBadBlockettes);
    CHECK_THAT(v.message, Catch::Contains("blockette 2000 (opaque data) at byte 64 has length " +
                                          std::to_string(length) + ", less than its 15-byte fixed part"));
  }
  auto ok = Crafted::usual();
  ok.put16(58, 64).b2000(64, 0, 15);
  CHECK(check(ok.bytes()).ok());
}

TEST_CASE("a blockette 2000 running past the end of the record is rejected", "[blockettes]") {
  auto past = Crafted::usual();
  past.put16(58, 64).b2000(64, 0, 512 - 64 + 1);
  CHECK(walk(past).problem == ChainProblem::kB2000PastEnd);
  auto v = check(past.bytes());
  CHECK(v.reason == RejectReason::kBadBlockettes);
  CHECK_THAT(v.message, Catch::Contains("at byte 64 has length 449 and runs past the end of the 512-byte record"));

  auto exact = Crafted::usual();
  exact.put16(58, 64).b2000(64, 0, 512 - 64);
  CHECK(check(exact.bytes()).ok());

  // Its length field itself past the end (libmseed's ms_blktlen would read it there).
  for (uint16_t at : {498, 506, 508}) {
    INFO("at " << at);
    auto tail = Crafted::usual();
    tail.put16(58, at).blockette(at, 2000, 0);
    CHECK(walk(tail).problem == ChainProblem::kBodyPastEnd);
    v = check(tail.bytes());
    CHECK(v.reason == RejectReason::kBadBlockettes);
    CHECK_THAT(v.message, Catch::Contains("is 15 bytes and runs past the end of the 512-byte record"));
  }
}

TEST_CASE("a blockette header in the last 1-3 bytes of the record is rejected", "[blockettes]") {
  for (uint16_t at : {509, 510, 511}) {
    INFO("at " << at);
    auto c = Crafted::usual();
    c.put16(58, at);
    const auto w = walk(c);
    CHECK(w.problem == ChainProblem::kHeaderPastEnd);
    const auto v = check(c.bytes());
    CHECK(v.reason == RejectReason::kBadBlockettes);
    CHECK_THAT(v.message, Catch::Contains(fmt::format("blockette header at byte {} runs past the end of the "
                                                      "512-byte record ({} of its 4 bytes present)",
                                                      at, 512 - at)));
  }
}

TEST_CASE("a fixed-length blockette running past the end of the record is rejected", "[blockettes]") {
  // libmseed 2.19's ms_blktlen says 8 bytes for the 200-byte blockette 500
  // (and too little for 200, 201, 300, 310, 320), then copies the whole struct.
  for (const uint16_t type : {100, 200, 201, 300, 310, 320, 390, 395, 400, 500, 1001}) {
    INFO("type " << type);
    const uint16_t at = static_cast<uint16_t>(512 - fixed_blockette_length(type) + 4);
    auto c = Crafted::usual();
    c.put16(58, at).blockette(at, type, 0);
    const auto w = walk(c);
    CHECK(w.problem == ChainProblem::kBodyPastEnd);
    const auto v = check(c.bytes());
    CHECK(v.reason == RejectReason::kBadBlockettes);
    CHECK_THAT(v.message, Catch::Contains(fmt::format("blockette {} ", type)));
    CHECK_THAT(v.message, Catch::Contains("runs past the end of the 512-byte record"));

    auto fits = Crafted::usual();
    const uint16_t last = static_cast<uint16_t>(512 - fixed_blockette_length(type));
    fits.put16(58, last).blockette(last, type, 0);
    if (type != 1001) CHECK(check(fits.bytes()).ok());  // a second 1001 is refused on its own
  }
}

TEST_CASE("next blockette offsets that do not move forward inside the record are rejected", "[blockettes]") {
  struct Case {
    const char* name;
    uint16_t next;  // of the blockette 1001 at byte 56 (ends at 64)
    ChainProblem problem;
    const char* message;
  };
  for (const Case& k : {Case{"backwards, a loop", 48, ChainProblem::kNextBackwards, "next blockette offset 48, backwards"},
                        Case{"backwards, into the fixed header", 8, ChainProblem::kNextBackwards, "backwards"},
                        Case{"into itself", 56, ChainProblem::kNextInsideBlockette,
                             "next blockette offset 56, inside itself (it ends at byte 64)"},
                        Case{"into the current blockette", 60, ChainProblem::kNextInsideBlockette, "inside itself"},
                        Case{"one past the end of the record", 512, ChainProblem::kNextBeyondRecord,
                             "next blockette offset 512, beyond record length 512"},
                        Case{"far past the record", 0x3800, ChainProblem::kNextBeyondRecord, "beyond record length"}}) {
    INFO(k.name);
    auto c = Crafted::usual();
    c.put16(58, k.next);
    const auto w = walk(c);
    CHECK(w.problem == k.problem);
    CHECK(w.at == 56);
    CHECK(w.type == 1001);
    const auto v = check(c.bytes());
    CHECK(v.reason == RejectReason::kBadBlockettes);
    CHECK_THAT(v.message, Catch::Contains(k.message));
  }
  auto adjacent = Crafted::usual();
  adjacent.put16(58, 64).blockette(64, 100, 0);
  CHECK(check(adjacent.bytes()).ok());
}

TEST_CASE("a first blockette offset inside the fixed header or past the record is rejected", "[blockettes]") {
  for (uint16_t first : {1, 20, 47}) {
    auto c = Crafted::usual();
    c.first(first);
    CHECK(walk(c).problem == ChainProblem::kFirstOffsetInFixedHeader);
    CHECK(check(c.bytes()).reason == RejectReason::kBadBlockettes);
  }
  for (uint16_t first : {512, 600, 0xFFFF}) {
    auto c = Crafted::usual();
    c.first(first);
    CHECK(walk(c).problem == ChainProblem::kFirstOffsetBeyondRecord);
    const auto v = check(c.bytes());
    CHECK(v.reason == RejectReason::kBadBlockettes);
    CHECK_THAT(v.message, Catch::Contains(fmt::format("first blockette offset {} is beyond record length 512", first)));
  }
}

TEST_CASE("unknown blockette types and the variable-length blockette 405 are rejected", "[blockettes]") {
  for (uint16_t type : {0, 1, 99, 999, 1002, 2001, 0xFFFF}) {
    auto c = Crafted::usual();
    c.put16(58, 64).blockette(64, type, 0);
    CHECK(walk(c).problem == ChainProblem::kUnknownType);
    const auto v = check(c.bytes());
    CHECK(v.reason == RejectReason::kBadBlockettes);
    CHECK_THAT(v.message, Catch::Contains(fmt::format("unknown blockette type {} at byte 64", type)));
  }
  auto beam_delay = Crafted::usual();
  beam_delay.put16(58, 64).blockette(64, 405, 0);
  CHECK(walk(beam_delay).problem == ChainProblem::kVariableLength);
  const auto v = check(beam_delay.bytes());
  CHECK(v.reason == RejectReason::kBadBlockettes);
  CHECK_THAT(v.message, Catch::Contains("blockette 405 (beam delay) at byte 64"));
}

TEST_CASE("a second blockette 100, 1000 or 1001 is rejected", "[blockettes]") {
  for (uint16_t type : {100, 1000, 1001}) {
    INFO("type " << type);
    auto c = Crafted::usual();
    c.put16(58, 64).blockette(64, 100, 76);
    if (type == 1000) {
      c.b1000(76, 0);
    } else {
      c.blockette(76, type, 0);
    }
    const auto w = walk(c);
    CHECK(w.problem == ChainProblem::kDuplicate);
    const auto v = check(c.bytes());
    CHECK(v.reason == RejectReason::kBadBlockettes);
    CHECK_THAT(v.message, Catch::Contains(fmt::format("a second blockette {} at byte 76", type)));
  }
}

TEST_CASE("at most 64 blockettes: the 65th is rejected, and ~8,000 cost no more than 65", "[blockettes]") {
  // Blockettes 395 and 400 are 16 bytes each: 4096 bytes hold 252 of them.
  auto chain_of = [](size_t total, size_t length) {
    uint8_t exponent = 0;
    while ((size_t{1} << exponent) < length) ++exponent;
    Crafted c(length);
    c.first(48).b1000(48, 56, exponent);
    size_t at = 56;
    for (size_t i = 1; i < total; ++i) {
      const bool last = i + 1 == total;
      c.blockette(at, i % 2 ? 395 : 400, last ? 0 : static_cast<uint16_t>(at + 16));
      at += 16;
    }
    return c;
  };
  const auto at_cap = chain_of(kMaxBlockettes, 4096);
  const auto w64 = walk(at_cap);
  INFO(w64.message());
  CHECK(w64.ok());
  CHECK(w64.blockettes == kMaxBlockettes);
  CHECK(check(at_cap.bytes()).ok());

  const auto over = chain_of(kMaxBlockettes + 1, 4096);
  const auto w65 = walk(over);
  CHECK(w65.problem == ChainProblem::kTooMany);
  auto v = check(over.bytes());
  CHECK(v.reason == RejectReason::kBadBlockettes);
  CHECK_THAT(v.message, Catch::Contains("more than 64 blockettes"));

  // 64 KiB: 4,000 16-byte blockettes; the walk stops at the 65th.
  const auto many = chain_of(4000, 65536);
  const auto wmany = walk(many);
  CHECK(wmany.problem == ChainProblem::kTooMany);
  CHECK(wmany.blockettes == kMaxBlockettes + 1);
  CHECK(check(many.bytes()).reason == RejectReason::kBadBlockettes);

  // The record of the issue: ~8,000 8-byte blockettes (1001s, which
  // libmseed accepts any number of) in 64 KiB.
  Crafted b1001s(65536);
  b1001s.first(48).b1000(48, 56, 16);
  for (size_t i = 0, at = 56; i < 8000; ++i, at += 8) {
    b1001s.blockette(at, 1001, i + 1 == 8000 ? 0 : static_cast<uint16_t>(at + 8));
  }
  const auto w8000 = walk(b1001s);
  CHECK_FALSE(w8000.ok());
  CHECK(w8000.blockettes <= kMaxBlockettes + 1);
  v = check(b1001s.bytes());
  CHECK(v.reason == RejectReason::kBadBlockettes);
}

TEST_CASE("a blockette 1000 record-length exponent outside 7-20 or unequal to the length is rejected",
          "[blockettes]") {
  struct Case {
    uint8_t exponent;
    RejectReason reason;
    const char* message;
  };
  // 41 is libmseed's `1 << 41`, which x86 computes as 1 << 9 = 512.
  for (const Case& k : {Case{41, RejectReason::kBadBlockettes, "record length exponent 41, outside 7-20"},
                        Case{6, RejectReason::kBadBlockettes, "record length exponent 6, outside 7-20"},
                        Case{21, RejectReason::kBadBlockettes, "record length exponent 21, outside 7-20"},
                        Case{0, RejectReason::kBadBlockettes, "exponent 0, outside"},
                        Case{255, RejectReason::kBadBlockettes, "exponent 255, outside"},
                        Case{8, RejectReason::kRecordLengthMismatch,
                             "blockette 1000 gives a record length of 256 bytes but 512 bytes were sent as one record"},
                        Case{10, RejectReason::kTruncated,
                             "truncated record: blockette 1000 gives a record length of 1024 bytes, 512 present"},
                        Case{20, RejectReason::kTruncated, "record length of 1048576 bytes, 512 present"}}) {
    INFO("exponent " << int{k.exponent});
    auto c = Crafted::usual();
    c.b1000(48, 56, k.exponent);
    const auto w = walk(c);
    CHECK(w.reason() == k.reason);
    const auto v = check(c.bytes());
    CHECK(v.reason == k.reason);
    CHECK_THAT(v.message, Catch::Contains(k.message));
  }
  for (size_t length : {128, 256, 1024, 65536, 1048576}) {
    INFO("length " << length);
    CHECK(check(Crafted::usual(length).bytes()).ok());
  }
}

TEST_CASE("little-endian headers are walked in their byte order", "[blockettes]") {
  const auto le = Crafted::usual(512, false);
  const auto w = walk(le);
  REQUIRE(w.ok());
  CHECK(w.swapped == (std::endian::native == std::endian::big));
  CHECK(check(le.bytes()).ok());
  auto bad = Crafted::usual(512, false);
  bad.put16(58, 510);
  CHECK(walk(bad).problem == ChainProblem::kHeaderPastEnd);
  auto b2000 = Crafted::usual(512, false);
  b2000.put16(58, 64).b2000(64, 0, 1);
  CHECK(check(b2000.bytes()).reason == RejectReason::kBadBlockettes);
}

TEST_CASE("hostile chains in real Steim-2 records, which were stored before, are rejected", "[blockettes]") {
  // The records of the issue: blockette 2000 with length 1 and 3, placed
  // in the record's unused last frame, and blockette 1000 exponent 41.
  for (uint16_t length : {1, 3}) {
    auto rec = sparse_steim2_record();
    put_be16(rec, 58, 448);  // the next of the chain's last blockette
    put_be16(rec, 448, 2000);
    put_be16(rec, 450, 0);
    put_be16(rec, 452, length);
    const auto v = check(rec);
    CHECK(v.reason == RejectReason::kBadBlockettes);
    CHECK_THAT(v.message, Catch::Contains("blockette 2000 (opaque data) at byte 448 has length"));
  }
  auto rec = sparse_steim2_record();
  rec[b1000_offset(rec) + 6] = 41;
  const auto v = check(rec);
  CHECK(v.reason == RejectReason::kBadBlockettes);
  CHECK_THAT(v.message, Catch::Contains("exponent 41"));
}

TEST_CASE("the walk never reads outside the record and ends within the blockette cap", "[blockettes]") {
  // Every prefix of crafted chains, each in a buffer of exactly its size
  // (valgrind and AddressSanitizer see any byte read past it), and random
  // chain bytes after a valid header.
  std::vector<std::vector<uint8_t>> sources = {Crafted::usual().bytes()};
  {
    auto c = Crafted::usual();
    c.put16(58, 64).b2000(64, 100, 36).blockette(100, 500, 300).b2000(300, 0, 3);
    sources.push_back(c.bytes());
  }
  for (const auto& src : sources) {
    for (size_t n = 48; n <= src.size(); ++n) {
      const std::vector<uint8_t> prefix(src.begin(), src.begin() + static_cast<long>(n));
      const auto w = walk_blockette_chain(prefix);
      CHECK(w.blockettes <= kMaxBlockettes + 1);
      (void)w.message();
    }
  }
  uint32_t x = 99;
  auto next = [&] { return x = x * 1664525u + 1013904223u; };
  const uint16_t known[] = {100, 200, 201, 300, 310, 320, 390, 395, 400, 405, 500, 1000, 1001, 2000};
  size_t accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    const size_t length = size_t{128} << (next() % 4);
    auto c = Crafted::usual(length);
    // A chain of random known or unknown types at random forward or backward offsets.
    size_t at = 56;
    for (int k = 0; k < 6; ++k) {
      const uint16_t to = static_cast<uint16_t>(next() % 3 ? at + 4 + next() % 80 : next() % (length + 8));
      const uint16_t type = next() % 8 ? known[next() % std::size(known)] : static_cast<uint16_t>(next());
      if (at + 6 > length) break;
      c.blockette(at, type, k == 5 ? 0 : to);
      if (type == 2000) c.put16(at + 4, static_cast<uint16_t>(next() % 64));
      if (size_t{to} + 6 > length || to <= at) break;
      at = to;
    }
    const auto w = walk(c);
    CHECK(w.blockettes <= kMaxBlockettes + 1);
    if (w.ok()) {
      ++accepted;
    } else {
      CHECK_FALSE(w.message().empty());
    }
  }
  CHECK(accepted > 0);
}
