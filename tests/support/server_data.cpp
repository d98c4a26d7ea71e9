#include "support/server_data.h"

#include <catch2/catch.hpp>

#include <chrono>

#include <grpcpp/grpcpp.h>

#include "seisvault/common/station_access_list.h"
#include "seisvault/proto/waveform.grpc.pb.h"
#include "seisvault/storage/record_store.h"
#include "support/record_factory.h"

namespace seisvault::test {

CurveKeyPair new_station_keys() { return generate_curve_key_pair().value(); }

void authorize_key(const std::filesystem::path& data_dir, const CurveKeyPair& keys, std::vector<std::string> patterns) {
  auto list = StationAccessList::load(data_dir / "authorized_stations");
  REQUIRE(list.ok());
  list->upsert({keys.public_key, std::move(patterns), "test", "", /*allow_unsigned=*/true});
  REQUIRE(list->save(data_dir / "authorized_stations").ok());
}

std::vector<std::vector<uint8_t>> station_records(const std::string& station, size_t samples, uint32_t seed,
                                                  TimeNs start) {
  RecordSpec spec;
  spec.station = station;
  spec.start_ns = start;
  return pack_records(spec, random_walk(samples, seed));
}

waveform::v1::Stats server_stats(const ServerProcess& server) {
  auto api = waveform::v1::Waveforms::NewStub(grpc::CreateChannel(server.api(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  waveform::v1::Stats stats;
  REQUIRE(api->GetStats(&ctx, {}, &stats).ok());
  return stats;
}

storage::StoreOptions small_store_options() {
  storage::StoreOptions o;
  o.memtable_mib = 8;
  o.block_cache_mib = 8;
  o.min_free_bytes = 0;
  return o;
}

std::multiset<std::vector<uint8_t>> stored_records(const std::filesystem::path& data_dir) {
  std::multiset<std::vector<uint8_t>> out;
  auto store = storage::RecordStore::open(data_dir / "store", small_store_options());
  REQUIRE(store.ok());
  REQUIRE((*store)->read_records(storage::ChannelSelection(), {}, [&](const storage::StoredRecord& r) {
    out.emplace(r.bytes.begin(), r.bytes.end());
    return true;
  }).ok());
  return out;
}

}  // namespace seisvault::test
