// scan_steim: checks that a Steim-1 or Steim-2 data section decodes, the
// way libmseed 2's decoders (msr_decode_steim1/2) decode it, without writing
// the samples out.
//
// The validator needs only three facts from the decoder: does the data
// decode, to how many samples, and does the last sample equal the reverse
// integration constant. libmseed's Steim-2 decoder was 13 % of all the CPU of
// the machine at 300 k records/s (0.9 us per 512-byte record: a switch per
// word that the branch predictor cannot learn on real data, and every
// sample stored). This walks the same frames with a table per control code
// and sums the differences, nothing stored.
//
// Same semantics as libmseed 2.19: frames of 64 bytes, as many as the data
// section holds whole; frame 0's words 1 and 2 are X0 and Xn; decoding stops
// once `expected` samples are out (words after that are never looked at,
// valid or not); the first difference is replaced by X0; sums wrap as 32-bit
// integers. A Steim-2 word with nibble 10 and dnib 00, or nibble 11 and dnib
// 11, is an error, as in libmseed. `swap`: the data is in the other byte
// order than this host (big-endian data on x86). tests/ingest/
// steim_scan_test.cpp holds it against libmseed's decoder on the corpus and
// on damaged records of both encodings and byte orders.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace seisvault::ingest {

struct SteimScan {
  int64_t samples = 0;  // decoded: at most `expected`, fewer if the frames run out
  int32_t last = 0;     // the last decoded sample (when samples > 0)
  int32_t xn = 0;       // frame 0's reverse integration constant
  std::string error;    // empty unless a word cannot be decoded (libmseed returns -1)
};

// `steim` is 1 or 2; `data` the data section (its whole 64-byte frames are
// read); `expected` the header's sample count (> 0).
SteimScan scan_steim(int steim, std::span<const uint8_t> data, int64_t expected, bool swap);

}  // namespace seisvault::ingest
