// The SeedLink face of a real seisvaultd over a store written behind its
// back: a record the store holds but today's validator refuses (fuzzing
// finding F6: bytes that make libmseed read past the record when it decodes
// them) is left out for SeedLink 3 clients, which get every other record
// repacked; the server does not crash. The client is the bridge's SeedLink
// client (client/), in this process.
#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>

#include "seisvault/client/seedlink_client.h"
#include "seisvault/common/sha256.h"
#include "seisvault/storage/record_store.h"
#include "support/record_factory.h"
#include "support/server_data.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

using namespace seisvault;
using namespace seisvault::test;

namespace {

storage::NewRecord as_new(const std::vector<uint8_t>& bytes, std::string_view id, TimeNs start, double rate,
                          int64_t samples) {
  storage::NewRecord r;
  r.source_id = id;
  r.start_ns = start;
  r.end_ns = start + (samples - 1) * static_cast<TimeNs>(1e9 / rate);
  r.sample_rate = rate;
  r.sample_count = samples;
  r.bytes = bytes;
  r.sha256 = sha256(bytes);
  r.receive_ns = start;
  return r;
}

}  // namespace

TEST_CASE("a stored record the validator refuses is left out for SeedLink 3 clients, the rest is served (F6)",
          "[seedlink][regression]") {
  TempDir tmp;
  const auto data = tmp.path() / "data";
  RecordSpec spec;
  spec.channel = "BHZ";
  spec.location = "";
  spec.record_length = 4096;
  const auto good = pack_records(spec, random_walk(6000));
  REQUIRE(good.size() >= 2);
  // 256 text samples claimed in a 256-byte record (fuzz/regressions/miniseed_repack/text-samples-past-record-end).
  std::vector<uint8_t> bad(256, 0);
  const std::string head = "000001D TEST   BHEXX";
  std::copy(head.begin(), head.end(), bad.begin());
  const uint8_t rest[] = {0x07, 0xd4, 0x07, 0x5e, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00,
                          0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x38, 0x00, 0x30, 0x00, 0xe8, 0x03,
                          0x00, 0x00, 0x00, 0x00, 0x08, 0x00};
  std::copy(std::begin(rest), std::end(rest), bad.begin() + 20);
  {
    const storage::StoreOptions o = test::small_store_options();
    auto store = storage::RecordStore::open(data / "store", o);
    REQUIRE(store.ok());
    std::vector<storage::NewRecord> in;
    in.push_back(as_new(bad, "XX.TEST..BHE", spec.start_ns, 1.0, 256));
    for (size_t i = 0; i < good.size(); ++i) {
      in.push_back(as_new(good[i], "XX.TEST..BHZ", spec.start_ns + static_cast<TimeNs>(i) * 10 * kNanosPerSecond,
                          100.0, 1));
    }
    std::vector<storage::WriteOutcome> outcomes(in.size());
    REQUIRE((*store)->write(in, outcomes, true).ok());
  }
  ServerProcess server(data, "tcp://127.0.0.1:*", {"--insecure"});
  REQUIRE_FALSE(server.seedlink().empty());

  client::SeedLinkClientOptions o;
  const auto colon = server.seedlink().rfind(':');
  o.host = server.seedlink().substr(0, colon);
  o.port = static_cast<uint16_t>(std::stoi(server.seedlink().substr(colon + 1)));
  o.allow_v4 = false;  // SeedLink 3: everything is repacked to 512 bytes
  o.dial_up = true;
  client::SeedLinkStationRequest st;
  st.network = "XX";
  st.station = "TEST";
  st.from_oldest = true;
  o.stations.push_back(st);
  client::SeedLinkClient c(o);
  REQUIRE(c.connect().ok());
  size_t bhz = 0, bhe = 0;
  for (int i = 0; i < 10000; ++i) {
    auto p = c.next_packet(std::chrono::seconds(10));
    REQUIRE(p.ok());
    if (*p == nullptr) continue;
    if ((*p)->kind == client::SeedLinkPacketKind::kEnd) break;
    if ((*p)->kind != client::SeedLinkPacketKind::kData) continue;
    REQUIRE((*p)->payload.size() == 512);
    const std::string channel(reinterpret_cast<const char*>((*p)->payload.data()) + 15, 3);
    (channel == "BHE" ? bhe : bhz) += 1;
  }
  CHECK(bhe == 0);
  CHECK(bhz >= good.size());  // each 4096-byte record becomes several 512-byte ones
  CHECK(server.stop() == 0);
  CHECK(server.log().find("no longer passes validation") != std::string::npos);
}
