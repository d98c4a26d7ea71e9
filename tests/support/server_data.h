// What end-to-end tests do to a server's data directory around a real
// seisvaultd: authorize station keys, make records for a station, ask the
// running server for its statistics, open a small store, and read back
// everything the store holds (with the server stopped).
#pragma once

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "seisvault/common/curve_keys.h"
#include "seisvault/common/time.h"
#include "seisvault/proto/waveform.pb.h"
#include "seisvault/storage/store_options.h"
#include "support/server_process.h"

namespace seisvault::test {

CurveKeyPair new_station_keys();

// Adds (or replaces) `keys` in DIR/authorized_stations with `patterns`.
void authorize_key(const std::filesystem::path& data_dir, const CurveKeyPair& keys, std::vector<std::string> patterns);

// Steim-2 records of XX.<station>.00.HHZ at 100 Hz holding `samples`
// samples of a random walk (seeded), from `start`.
std::vector<std::vector<uint8_t>> station_records(const std::string& station, size_t samples, uint32_t seed = 1,
                                                  TimeNs start = 1'709'251'200'000'000'000);  // 2024-03-01

// The running server's GetStats answer (through its API, within 10 s).
waveform::v1::Stats server_stats(const ServerProcess& server);

// Options for a store a test opens itself: 8 MiB memtables and block cache,
// no free-space reserve (tests run on machines with little disk).
storage::StoreOptions small_store_options();

// Every record stored under DATA_DIR/store (the server must be stopped).
std::multiset<std::vector<uint8_t>> stored_records(const std::filesystem::path& data_dir);

}  // namespace seisvault::test
