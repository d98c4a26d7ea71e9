// Builds real miniSEED 2 records with libmseed's packer, for tests and
// benchmarks that must not depend on files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "seisvault/common/time.h"

namespace seisvault::test {

struct RecordSpec {
  std::string network = "XX";
  std::string station = "TEST";
  std::string location = "00";
  std::string channel = "HHZ";
  TimeNs start_ns = 1'700'000'000'000'000'000;  // 2023-11-14T22:13:20Z
  double sample_rate = 100.0;
  int encoding = 11;       // SEED code: 0 ASCII, 1 INT16, 3 INT32, 4 FLOAT32, 5 FLOAT64, 10 STEIM1, 11 STEIM2
  int record_length = 512;
  int byte_order = 1;      // 1 big-endian, 0 little-endian
  char quality = 'D';
};

// Integer samples: a random walk from a fixed seed (reproducible), the
// shape of real seismic noise, so Steim compresses it realistically.
std::vector<int32_t> random_walk(size_t count, uint32_t seed = 1, int32_t step = 50);

// Packs the samples into as many records as they need (the last may be
// partly filled). Each record carries blockette 1000 (and 1001 so that
// microsecond start times survive). Integer samples suit INT16/INT32/STEIM1/
// STEIM2; float and double samples FLOAT32/FLOAT64; text ASCII. Throws
// std::runtime_error when libmseed refuses.
std::vector<std::vector<uint8_t>> pack_records(const RecordSpec& spec, const std::vector<int32_t>& samples);
std::vector<std::vector<uint8_t>> pack_records(const RecordSpec& spec, const std::vector<float>& samples);
std::vector<std::vector<uint8_t>> pack_records(const RecordSpec& spec, const std::vector<double>& samples);
std::vector<std::vector<uint8_t>> pack_text_records(const RecordSpec& spec, const std::string& text);

}  // namespace seisvault::test
