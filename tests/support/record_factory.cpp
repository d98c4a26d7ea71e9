#include "support/record_factory.h"

#include <libmseed.h>

#include <cstring>
#include <random>
#include <stdexcept>

#include "seisvault/common/libmseed_lock.h"
#include "seisvault/common/mseed_record.h"

namespace seisvault::test {

std::vector<int32_t> random_walk(size_t count, uint32_t seed, int32_t step) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> d(-step, step);
  std::vector<int32_t> out(count);
  int32_t v = 0;
  for (auto& s : out) s = v += d(rng);
  return out;
}

namespace {

void collect(char* record, int reclen, void* handler_data) {
  auto* out = static_cast<std::vector<std::vector<uint8_t>>*>(handler_data);
  out->emplace_back(reinterpret_cast<uint8_t*>(record), reinterpret_cast<uint8_t*>(record) + reclen);
}

std::vector<std::vector<uint8_t>> pack(const RecordSpec& spec, void* samples, size_t count, char type) {
  std::vector<std::vector<uint8_t>> out;
  LibmseedLock lock;
  MSRecord* msr = msr_init(nullptr);
  if (!msr) throw std::runtime_error("msr_init failed");
  std::strncpy(msr->network, spec.network.c_str(), sizeof msr->network - 1);
  std::strncpy(msr->station, spec.station.c_str(), sizeof msr->station - 1);
  std::strncpy(msr->location, spec.location.c_str(), sizeof msr->location - 1);
  std::strncpy(msr->channel, spec.channel.c_str(), sizeof msr->channel - 1);
  msr->dataquality = spec.quality;
  msr->starttime = spec.start_ns / 1000;  // libmseed 2 counts microseconds
  msr->samprate = spec.sample_rate;
  msr->reclen = spec.record_length;
  msr->encoding = static_cast<int8_t>(spec.encoding);
  msr->byteorder = static_cast<int8_t>(spec.byte_order);
  msr->sampletype = type;
  msr->datasamples = samples;
  msr->numsamples = static_cast<int64_t>(count);
  // Blockette 1001 carries the microseconds that the fixed header's 100 us
  // field cannot; msr_pack fills its offset from the start time.
  blkt_1001_s b1001{};
  msr_addblockette(msr, reinterpret_cast<char*>(&b1001), sizeof b1001, 1001, 0);
  int64_t packed = 0;
  const int records = msr_pack(msr, &collect, &out, &packed, 1, 0);
  msr->datasamples = nullptr;  // owned by the caller
  msr_free(&msr);
  if (records < 0 || static_cast<size_t>(packed) != count) {
    throw std::runtime_error("msr_pack failed: " + std::string(lock.first_error()));
  }
  return out;
}

}  // namespace

std::vector<std::vector<uint8_t>> pack_records(const RecordSpec& spec, const std::vector<int32_t>& samples) {
  auto copy = samples;
  return pack(spec, copy.data(), copy.size(), 'i');
}
std::vector<std::vector<uint8_t>> pack_records(const RecordSpec& spec, const std::vector<float>& samples) {
  auto copy = samples;
  return pack(spec, copy.data(), copy.size(), 'f');
}
std::vector<std::vector<uint8_t>> pack_records(const RecordSpec& spec, const std::vector<double>& samples) {
  auto copy = samples;
  return pack(spec, copy.data(), copy.size(), 'd');
}
std::vector<std::vector<uint8_t>> pack_text_records(const RecordSpec& spec, const std::string& text) {
  auto copy = text;
  return pack(spec, copy.data(), copy.size(), 'a');
}

}  // namespace seisvault::test
