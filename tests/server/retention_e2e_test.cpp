// Retention in a real seisvaultd: --retention-days with a per-network
// override, a pass a second after start, the records gone from the store
// and from GetStats, the others kept, the pass counted in /metrics.
#include <catch2/catch.hpp>

#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "seisvault/common/curve_keys.h"
#include "seisvault/common/time.h"
#include "support/process.h"
#include "support/record_factory.h"
#include "support/server_data.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

using namespace seisvault;
using namespace seisvault::test;

namespace {

constexpr TimeNs kDay = TimeNs{86400} * kNanosPerSecond;

std::vector<std::vector<uint8_t>> records_of(const std::string& network, TimeNs start, uint32_t seed) {
  RecordSpec spec;
  spec.network = network;
  spec.station = "RET";
  spec.start_ns = start;
  return pack_records(spec, random_walk(400 * 60, seed));  // ~60 records, a few minutes of data
}

}  // namespace

TEST_CASE("seisvaultd removes records older than --retention-days, keeps a network's own retention, and says so",
          "[server][retention]") {
  TempDir tmp;
  const auto data = tmp.path() / "data";
  const auto keys = new_station_keys();
  const std::vector<std::string> flags = {"--retention-days", "30", "--retention-network", "YY=0",
                                          "--retention-interval-s", "1", "--http", "127.0.0.1:0"};
  { ServerProcess probe(data, "tcp://127.0.0.1:*", flags); REQUIRE(probe.stop() == 0); }
  authorize_key(data, keys, {"XX.RET", "YY.RET"});
  REQUIRE(write_key_files(tmp.path() / "station", keys).ok());

  const TimeNs now = now_ns();
  const auto old_xx = records_of("XX", now - 40 * kDay, 1);
  const auto new_xx = records_of("XX", now - 2 * kDay, 2);
  const auto old_yy = records_of("YY", now - 40 * kDay, 3);
  {
    std::ofstream out(tmp.path() / "all.mseed", std::ios::binary);
    for (const auto* set : {&old_xx, &new_xx, &old_yy}) {
      for (const auto& r : *set) out.write(reinterpret_cast<const char*>(r.data()), static_cast<std::streamsize>(r.size()));
    }
  }

  ServerProcess server(data, "tcp://127.0.0.1:*", flags);
  CHECK_THAT(server.log(), Catch::Contains("retention-days=30") && Catch::Contains("retention-network=YY=0"));
  const auto pushed = run_seisvault(tmp.path(), "push --server " + server.endpoint() + " --server-key " +
                                                    (data / "server.pub").string() + " --key " +
                                                    (tmp.path() / "station").string() + " --spool " +
                                                    (tmp.path() / "spool").string() + " " +
                                                    (tmp.path() / "all.mseed").string());
  INFO(pushed.output);
  REQUIRE(pushed.code == 0);

  // A pass runs every second: the old XX records go.
  REQUIRE(eventually([&] { return server_stats(server).records_stored() == new_xx.size() + old_yy.size(); },
                     std::chrono::seconds(30)));
  CHECK_THAT(server.log(), Catch::Contains("retention: removed " + std::to_string(old_xx.size()) + " records"));
  const auto colon = server.http().rfind(':');
  httplib::Client http(server.http().substr(0, colon), std::stoi(server.http().substr(colon + 1)));
  auto metrics = http.Get("/metrics");
  REQUIRE(metrics);
  CHECK_THAT(metrics->body,
             Catch::Contains("seisvault_retention_records_removed_total " + std::to_string(old_xx.size())));
  CHECK_THAT(metrics->body, Catch::Contains("seisvault_retention_failed_passes_total 0"));
  REQUIRE(server.stop() == 0);

  std::multiset<std::vector<uint8_t>> expected(new_xx.begin(), new_xx.end());
  expected.insert(old_yy.begin(), old_yy.end());
  CHECK(stored_records(data) == expected);

  // The ledger says what retention removed: the store verifies clean.
  const auto verified = run_seisvault(tmp.path(), "verify --quiet --data-dir " + data.string());
  INFO(verified.output);
  CHECK(verified.code == 0);
  CHECK_THAT(verified.output, Catch::Contains("retention that removed " + std::to_string(old_xx.size()) + " records"));
}

TEST_CASE("seisvaultd refuses a --retention-network that is not NET=DAYS", "[server][retention]") {
  TempDir tmp;
  for (const std::string bad : {"XX", "XX=", "=3", "XX=3d", "XX.YY=3"}) {
    INFO(bad);
    ChildProcess server({built_program("server/seisvaultd").string(), "--data-dir", (tmp.path() / "d").string(),
                         "--retention-network", bad},
                        tmp.path() / "refused.log");
    const auto code = server.wait(std::chrono::seconds(20));
    REQUIRE(code.has_value());
    CHECK(*code != 0);
    CHECK_THAT(read_text(tmp.path() / "refused.log"), Catch::Contains("--retention-network " + bad + ": give NET=DAYS"));
  }
}
