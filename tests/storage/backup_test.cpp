// RecordStore::backup: a consistent copy of a store that is being written,
// which opens as a store of its own and serves every record.
#include <catch2/catch.hpp>

#include <atomic>
#include <algorithm>
#include <filesystem>
#include <set>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "seisvault/storage/record_store.h"
#include "store_test_records.h"
#include "support/temp_dir.h"

using namespace seisvault;
using namespace seisvault::storage;
using namespace seisvault::storage_test;
using seisvault::test::TempDir;

namespace {

std::vector<Rec> batch_of(int batch, int channels, int per_channel) {
  std::vector<Rec> out;
  for (int c = 0; c < channels; ++c) {
    for (int i = 0; i < per_channel; ++i) {
      out.push_back(rec("XX.B" + std::to_string(c) + "..HHZ", kT0 + (batch * per_channel + i) * 5 * kSecond, 500,
                        100.0, static_cast<uint32_t>(batch), 512));
    }
  }
  return out;
}

std::multiset<std::vector<uint8_t>> bytes_of(const std::vector<Got>& got) {
  std::multiset<std::vector<uint8_t>> out;
  for (const auto& g : got) out.insert(g.bytes);
  return out;
}

}  // namespace

TEST_CASE("a backup taken while records are written opens as a store of its own, with every record written "
          "before it began, byte-identical, and nothing that was not written",
          "[store][backup]") {
  TempDir tmp;
  auto o = small_options(8);
  o.segment_mib = 1;  // several segments: full ones are linked, the active one copied
  auto store = open_store(tmp.path() / "store", o);
  std::vector<Rec> before;
  for (int b = 0; b < 40; ++b) {
    auto part = batch_of(b, 20, 10);
    write_ok(*store, part);
    before.insert(before.end(), part.begin(), part.end());
  }

  // Writes go on while the backup runs.
  std::atomic<bool> stop{false};
  std::mutex written_mutex;
  std::vector<Rec> during;
  std::thread writer([&] {
    for (int b = 40; b < 400 && !stop.load(); ++b) {
      auto part = batch_of(b, 20, 10);
      write_ok(*store, part);
      std::lock_guard lock(written_mutex);
      during.insert(during.end(), part.begin(), part.end());
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const auto dest = tmp.path() / "backup";
  auto stats = store->backup(dest);
  stop = true;
  writer.join();
  REQUIRE(stats.ok());
  CHECK(stats->segment_files >= 2);
  CHECK(stats->linked_segment_files >= 1);
  CHECK(stats->linked_segment_files < stats->segment_files);
  CHECK(stats->segment_bytes >= before.size() * 512);

  // A second backup into the same place is refused.
  CHECK(store->backup(dest).status().code() == StatusCode::kInvalidArgument);

  // The live store goes on; the copy does not change with it.
  write_ok(*store, batch_of(1000, 20, 10));
  store.reset();

  auto copy = open_store(dest, o);
  const auto got = bytes_of(read(*copy));
  for (const auto& r : before) CHECK(got.count(r.bytes) == 1);
  std::multiset<std::vector<uint8_t>> all;
  for (const auto& r : before) all.insert(r.bytes);
  for (const auto& r : during) all.insert(r.bytes);
  for (const auto& b : got) CHECK(all.count(b) == 1);
  INFO("records in the backup: " << got.size() << ", written before it: " << before.size());
  CHECK(got.size() >= before.size());

  // The copy's sequence index and summaries agree with its records.
  size_t by_sequence = 0;
  REQUIRE(copy->read_sequence(
                  0, copy->next_sequence(), [](uint32_t, std::string_view) { return true; },
                  [&](const StoredRecord&) {
                    ++by_sequence;
                    return true;
                  })
              .ok());
  CHECK(by_sequence == got.size());
  auto channels = copy->list_channels({});
  REQUIRE(channels.ok());
  uint64_t counted = 0;
  for (const auto& c : *channels) counted += c.summary.record_count;
  CHECK(counted == got.size());

  // The copy takes writes of its own; a resent record is a duplicate there too.
  CHECK(count_of(write_ok(*copy, batch_of(0, 20, 10)).outcomes, WriteOutcome::kDuplicate) == 200);
  CHECK(count_of(write_ok(*copy, batch_of(5000, 20, 10)).outcomes, WriteOutcome::kStored) == 200);
}
