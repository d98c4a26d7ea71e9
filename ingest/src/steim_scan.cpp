#include "steim_scan.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace seisvault::ingest {

namespace {

// How a data word holds its differences: `n` fields of `bits` bits, the
// first in the highest bits of the word arranged as `order` says; and the
// masks that sum them without a branch (see sum_of).
enum class Order : uint8_t {
  kData,    // the word in the data's byte order (swapped when `swap`)
  kMemory,  // the word's bytes in memory order, most significant first (8-bit differences)
  kHalves,  // two 16-bit halves in memory order, each in the data's byte order (Steim-1)
};
struct Layout {
  int8_t n = 0;  // differences in the word; 0: none; -1: undefined code (an error)
  int8_t bits = 8;
  Order order = Order::kData;
  uint8_t shift1 = 0, shift2 = 0, shift4 = 0;  // bits, 2 bits, 4 bits (at most 63)
  uint64_t fields = 0, signs = 0;           // every field's bits; every field's sign bit
  uint64_t pairs = 0, quads = 0, all = 0;   // the lanes of each step of the sum
  uint64_t bias = 0;                        // n * 2^(bits - 1)
};

constexpr uint64_t ones(int count) { return count >= 64 ? ~uint64_t{0} : (uint64_t{1} << count) - 1; }

constexpr Layout layout(int n, int bits, Order order) {
  Layout l;
  l.n = static_cast<int8_t>(n);
  l.bits = static_cast<int8_t>(bits);
  l.order = order;
  if (n <= 0) return l;  // all masks zero: sums to 0
  for (int i = 0; i < n; ++i) {
    l.fields |= ones(bits) << (i * bits);
    l.signs |= uint64_t{1} << (i * bits + bits - 1);
  }
  for (int i = 0; i < n; i += 2) l.pairs |= ones(bits) << (i * bits);
  for (int i = 0; i < n && i * bits < 64; i += 4) l.quads |= ones(2 * bits) << (i * bits);
  l.all = ones(4 * bits);
  l.shift1 = static_cast<uint8_t>(std::min(bits, 63));
  l.shift2 = static_cast<uint8_t>(std::min(2 * bits, 63));
  l.shift4 = static_cast<uint8_t>(std::min(4 * bits, 63));
  l.bias = static_cast<uint64_t>(n) << (bits - 1);
  return l;
}

// Steim-2, indexed by nibble * 4 + dnib (the word's top two bits; only
// nibbles 10 and 11 consult them).
constexpr Layout kSteim2[16] = {
    layout(0, 8, Order::kData),   layout(0, 8, Order::kData),   layout(0, 8, Order::kData),
    layout(0, 8, Order::kData),   layout(4, 8, Order::kMemory), layout(4, 8, Order::kMemory),
    layout(4, 8, Order::kMemory), layout(4, 8, Order::kMemory), layout(-1, 8, Order::kData),
    layout(1, 30, Order::kData),  layout(2, 15, Order::kData),  layout(3, 10, Order::kData),
    layout(5, 6, Order::kData),   layout(6, 5, Order::kData),   layout(7, 4, Order::kData),
    layout(-1, 8, Order::kData),
};

// Steim-1 by nibble: 01 four 8-bit, 10 two 16-bit, 11 one 32-bit difference.
constexpr Layout kSteim1[4] = {layout(0, 8, Order::kData), layout(4, 8, Order::kMemory),
                               layout(2, 16, Order::kHalves), layout(1, 32, Order::kData)};

inline uint32_t load(const uint8_t* p) {
  uint32_t w;
  std::memcpy(&w, p, 4);
  return w;
}

// The word with its differences from the highest bits down.
inline uint32_t arrange(Order order, uint32_t raw, uint32_t data_word, bool swap) {
  switch (order) {
    case Order::kData: return data_word;
    case Order::kMemory: return __builtin_bswap32(raw);
    case Order::kHalves: {
      uint16_t h[2];
      std::memcpy(h, &raw, 4);
      if (swap) {
        h[0] = __builtin_bswap16(h[0]);
        h[1] = __builtin_bswap16(h[1]);
      }
      return static_cast<uint32_t>(h[0]) << 16 | h[1];
    }
  }
  return data_word;
}

// Difference i (0 = first) of an arranged word.
inline int32_t difference(uint32_t word, const Layout& l, int i) {
  const int low = (l.n - 1 - i) * l.bits;
  return static_cast<int32_t>(word << (32 - low - l.bits)) >> (32 - l.bits);
}

// The sum of all of a word's differences, wrapping as 32-bit integers, with
// no branch on the word's code: real data makes that code unpredictable,
// and a switch on it mispredicted on most words (it cost about what
// libmseed's whole decoder costs). Flipping each field's sign bit turns a
// difference d into d + 2^(bits-1), unsigned; those are added in pairs, then
// fours, then all (seven at most), each step in lanes wide enough not to
// carry into the next; the bias comes off at the end. Field order does not
// matter to a sum, so Steim-1's 16-bit halves need no rearranging here.
inline uint32_t sum_of(uint32_t word, const Layout& l) {
  const uint64_t v = (word & l.fields) ^ l.signs;
  const uint64_t p = (v & l.pairs) + ((v >> l.shift1) & l.pairs);
  const uint64_t q = (p & l.quads) + ((p >> l.shift2) & l.quads);
  const uint64_t total = (q & l.all) + (q >> l.shift4);
  return static_cast<uint32_t>(total - l.bias);
}

}  // namespace

SteimScan scan_steim(int steim, std::span<const uint8_t> data, int64_t expected, bool swap) {
  SteimScan out;
  const size_t frames = data.size() / 64;
  if (frames == 0 || expected <= 0) return out;
  auto in_data_order = [swap](uint32_t raw) { return swap ? __builtin_bswap32(raw) : raw; };
  const auto x0 = static_cast<int32_t>(in_data_order(load(data.data() + 4)));
  out.xn = static_cast<int32_t>(in_data_order(load(data.data() + 8)));

  uint32_t last = 0;
  int64_t samples = 0;
  int64_t remaining = expected;
  for (size_t f = 0; f < frames && remaining > 0; ++f) {
    const uint8_t* frame = data.data() + 64 * f;
    const uint32_t nibbles = in_data_order(load(frame));
    for (int w = f == 0 ? 3 : 1; w < 16 && remaining > 0; ++w) {
      const int nibble = static_cast<int>(nibbles >> (30 - 2 * w)) & 3;
      const uint32_t raw = load(frame + 4 * w);
      const uint32_t data_word = in_data_order(raw);
      const Layout& l = steim == 2 ? kSteim2[nibble * 4 + static_cast<int>(data_word >> 30)] : kSteim1[nibble];
      if (l.n < 0) {
        out.error = fmt::format("undefined Steim-2 code: nibble {}{}, dnib {}{} (frame {}, word {})", nibble >> 1,
                                nibble & 1, data_word >> 31, (data_word >> 30) & 1, f, w);
        return out;
      }
      if (samples > 0 && remaining >= l.n) {
        // The common case: every difference of the word counts (none for nibble 00).
        const uint32_t memory = 0u - static_cast<uint32_t>(l.order == Order::kMemory);  // a mask, not a branch
        last += sum_of((__builtin_bswap32(raw) & memory) | (data_word & ~memory), l);
        samples += l.n;
        remaining -= l.n;
        continue;
      }
      // The first word (its first difference is replaced by X0) and the last
      // one (only the differences up to the expected count).
      const int take = static_cast<int>(std::min<int64_t>(l.n, remaining));
      const uint32_t word = arrange(l.order, raw, data_word, swap);
      for (int i = 0; i < take; ++i) {
        last = samples == 0 ? static_cast<uint32_t>(x0) : last + static_cast<uint32_t>(difference(word, l, i));
        ++samples;
      }
      remaining -= take;
    }
  }
  out.samples = samples;
  out.last = static_cast<int32_t>(last);
  return out;
}

}  // namespace seisvault::ingest
