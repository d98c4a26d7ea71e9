#include "test_records.h"

#include "support/record_factory.h"

namespace seisvault::test {

std::vector<std::vector<uint8_t>> make_records(size_t count, uint32_t seed) {
  RecordSpec spec;
  std::vector<std::vector<uint8_t>> out;
  size_t samples = count * 400 + 1000;
  while (out.size() < count) {
    out = pack_records(spec, random_walk(samples, seed));
    samples *= 2;
  }
  out.resize(count);
  return out;
}

std::vector<uint8_t> concatenate(const std::vector<std::vector<uint8_t>>& records) {
  std::vector<uint8_t> out;
  for (const auto& r : records) out.insert(out.end(), r.begin(), r.end());
  return out;
}

}  // namespace seisvault::test
