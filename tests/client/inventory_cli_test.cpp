// `seisvault inventory`, run as a program against data directories (and,
// at the end, through a running seisvaultd's API): load
// validates every file before storing any and names what is wrong; list
// shows what is stored; remove takes it out; a store that seisvaultd (here:
// this test process) holds open is refused with a message that says so.
// Exit codes: 0 done, 1 an invalid StationXML file (nothing loaded), 2 usage
// and unreadable files, 3 the store in use.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <httplib.h>

#include "seisvault/storage/record_store.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

using namespace seisvault;

namespace {

const std::filesystem::path kFixture =
    std::filesystem::path(__FILE__).parent_path().parent_path() / "data/stationxml/seisvault_test_inventory.xml";

using Run = test::ToolRun;

using test::read_text;

// Runs the tool with `args` (shell words), with a time limit.
Run run(const test::TempDir& dir, const std::string& args) { return test::run_seisvault(dir.path(), args); }

// A data directory in `dir`, as seisvaultd would have it before its first start.
std::string data_dir(const test::TempDir& dir) {
  const auto d = dir.path() / "data";
  std::filesystem::create_directories(d);
  return d.string();
}

void write_file(const std::filesystem::path& p, const std::string& text) { std::ofstream(p) << text; }

std::string fixture_with(std::string_view from, std::string_view to) {
  std::string x = read_text(kFixture);
  const auto at = x.find(from);
  REQUIRE(at != std::string::npos);
  x.replace(at, from.size(), to);
  return x;
}

}  // namespace

TEST_CASE("inventory load stores a valid file under its base name and reports its counts, and list shows it",
          "[cli][inventory]") {
  test::TempDir dir;
  const auto data = data_dir(dir);
  auto r = run(dir, "inventory load --data-dir " + data + " " + kFixture.string());
  INFO(r.output);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.output, Catch::Contains("loaded " + kFixture.string() + " as 'seisvault_test_inventory.xml'") &&
                           Catch::Contains("3 networks, 5 stations, 13 channels") &&
                           Catch::Contains("next start"));

  r = run(dir, "inventory list --data-dir " + data);
  INFO(r.output);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.output, Catch::Contains("NAME") && Catch::Contains("NETWORKS") && Catch::Contains("CHANNELS"));
  CHECK_THAT(r.output,
             Catch::Matches("(.|\n)*seisvault_test_inventory\\.xml +\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ +"
                            "[0-9.]+ KiB +3 +5 +13\n(.|\n)*"));

  // The store holds the document byte-identical.
  {
    storage::StoreOptions o;
    o.create_if_missing = false;
    auto store = storage::RecordStore::open(std::filesystem::path(data) / "store", o);
    REQUIRE(store.ok());
    auto docs = (*store)->read_inventory();
    REQUIRE(docs.ok());
    REQUIRE(docs->size() == 1);
    CHECK((*docs)[0].xml == read_text(kFixture));
  }

  // Loading the same name again replaces it.
  r = run(dir, "inventory load --data-dir " + data + " " + kFixture.string());
  INFO(r.output);
  CHECK(r.code == 0);
  CHECK_THAT(r.output, Catch::Contains("replaced"));
}

TEST_CASE("inventory load refuses every file when one is invalid, naming the file, line and problem",
          "[cli][inventory]") {
  test::TempDir dir;
  const auto data = data_dir(dir);
  REQUIRE(run(dir, "inventory load --data-dir " + data + " " + kFixture.string()).code == 0);

  const auto good = dir.path() / "CH.xml";
  const auto bad = dir.path() / "IU.xml";
  const auto truncated = dir.path() / "BW.xml";
  write_file(good, read_text(kFixture));
  write_file(bad, fixture_with("<Site>\n        <Name>College Outpost, Alaska, USA</Name>\n      </Site>\n", ""));
  write_file(truncated, read_text(kFixture).substr(0, 2000));
  auto r = run(dir, "inventory load --data-dir " + data + " " + good.string() + " " + bad.string() + " " +
                        truncated.string());
  INFO(r.output);
  CHECK(r.code == 1);
  CHECK_THAT(r.output, Catch::Contains(bad.string() + ": invalid StationXML: line ") &&
                           Catch::Contains("Network IU, Station COLA: no <Site>"));
  CHECK_THAT(r.output, Catch::Contains(truncated.string() + ": not well-formed XML"));
  CHECK_THAT(r.output, Catch::Contains("2 of 3 file(s) not valid StationXML: nothing loaded"));

  r = run(dir, "inventory list --data-dir " + data);
  INFO(r.output);
  CHECK(r.code == 0);
  CHECK_THAT(r.output, !Catch::Contains("CH.xml") && Catch::Contains("seisvault_test_inventory.xml"));
}

TEST_CASE("inventory load: a file that cannot be read, or two files of one name, load nothing (exit 2)",
          "[cli][inventory]") {
  test::TempDir dir;
  const auto data = data_dir(dir);
  auto r = run(dir, "inventory load --data-dir " + data + " " + (dir.path() / "missing.xml").string());
  INFO(r.output);
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Catch::Contains("missing.xml: not a readable file") && Catch::Contains("nothing loaded"));

  std::filesystem::create_directory(dir.path() / "a");
  std::filesystem::create_directory(dir.path() / "b");
  write_file(dir.path() / "a/net.xml", read_text(kFixture));
  write_file(dir.path() / "b/net.xml", read_text(kFixture));
  r = run(dir, "inventory load --data-dir " + data + " " + (dir.path() / "a/net.xml").string() + " " +
                   (dir.path() / "b/net.xml").string());
  INFO(r.output);
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Catch::Contains("would both be stored as 'net.xml'"));

  CHECK(run(dir, "inventory load --data-dir " + (dir.path() / "nowhere").string() + " " + kFixture.string()).code ==
        2);
  CHECK(run(dir, "inventory load --data-dir " + data).code == 2);  // no FILE
}

TEST_CASE("inventory remove removes a document by name, and an unknown name is exit 2 and lists what is loaded",
          "[cli][inventory]") {
  test::TempDir dir;
  const auto data = data_dir(dir);
  const auto copy = dir.path() / "IU.xml";
  write_file(copy, read_text(kFixture));
  REQUIRE(run(dir, "inventory load --data-dir " + data + " " + kFixture.string() + " " + copy.string()).code == 0);

  auto r = run(dir, "inventory remove --data-dir " + data + " nope.xml");
  INFO(r.output);
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Catch::Contains("no document named 'nope.xml' (loaded: IU.xml, seisvault_test_inventory.xml)"));

  r = run(dir, "inventory remove --data-dir " + data + " IU.xml");
  INFO(r.output);
  CHECK(r.code == 0);
  CHECK_THAT(r.output, Catch::Contains("removed 'IU.xml'"));
  r = run(dir, "inventory list --data-dir " + data);
  CHECK_THAT(r.output, !Catch::Contains("IU.xml") && Catch::Contains("seisvault_test_inventory.xml"));
}

TEST_CASE("inventory list of a data directory without metadata says the station service has no data",
          "[cli][inventory]") {
  test::TempDir dir;
  const auto data = data_dir(dir);
  auto r = run(dir, "inventory list --data-dir " + data);
  INFO(r.output);
  CHECK(r.code == 2);  // no store at all yet
  CHECK_THAT(r.output, Catch::Contains("no store in"));
  {
    auto store = storage::RecordStore::open(std::filesystem::path(data) / "store");
    REQUIRE(store.ok());
  }
  r = run(dir, "inventory list --data-dir " + data);
  INFO(r.output);
  CHECK(r.code == 0);
  CHECK_THAT(r.output, Catch::Contains("no station metadata") && Catch::Contains("no data"));
}

TEST_CASE("a store held open by seisvaultd is refused with a message that says to stop it (exit 3)",
          "[cli][inventory]") {
  test::TempDir dir;
  const auto data = data_dir(dir);
  // This process stands for seisvaultd: it holds the store's lock.
  auto store = storage::RecordStore::open(std::filesystem::path(data) / "store");
  REQUIRE(store.ok());
  for (const std::string& args : {"load --data-dir " + data + " " + kFixture.string(), "list --data-dir " + data,
                                 "remove --data-dir " + data + " x.xml"}) {
    const auto r = run(dir, "inventory " + args);
    INFO(args << "\n" << r.output);
    CHECK(r.code == 3);
    CHECK_THAT(r.output, Catch::Contains("seisvaultd is running on " + data) &&
                             Catch::Contains("(pid " + std::to_string(::getpid()) + ")") &&
                             Catch::Contains("Stop it"));
  }
  CHECK((*store)->read_inventory()->empty());
}

TEST_CASE("a data directory of another user is refused: files written now would lock seisvaultd out",
          "[cli][inventory]") {
  if (::geteuid() != 0) {
    WARN("not root: cannot give a directory to another user; skipped");
    return;
  }
  test::TempDir dir;
  const auto data = data_dir(dir);
  REQUIRE(::chown(data.c_str(), 1, 1) == 0);  // uid 1: "daemon" on Debian
  const auto r = run(dir, "inventory load --data-dir " + data + " " + kFixture.string());
  INFO(r.output);
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Catch::Contains("belongs to user") && Catch::Contains("sudo -u"));
  CHECK_FALSE(std::filesystem::exists(std::filesystem::path(data) / "store"));
}

// --- Through a running server's API ------------------------------------------

namespace {

// GET on the server's HTTP face; the status code, or -1 when unreachable.
int http_status(const test::ServerProcess& server, const std::string& path, std::string* body = nullptr) {
  const auto colon = server.http().rfind(':');
  httplib::Client http(server.http().substr(0, colon), std::stoi(server.http().substr(colon + 1)));
  auto res = http.Get(path);
  if (!res) return -1;
  if (body) *body = res->body;
  return res->status;
}

}  // namespace

TEST_CASE("inventory load, list and remove through a running server's API change what its station service answers "
          "at once",
          "[inventory][api]") {
  test::TempDir dir;
  test::ServerProcess server(dir.path() / "data", "tcp://127.0.0.1:*", {"--insecure"});
  const std::string api = "--api " + server.api();
  CHECK(http_status(server, "/fdsnws/station/1/query?net=IU") == 204);

  auto r = run(dir, "inventory load " + api + " " + kFixture.string());
  INFO(r.output);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.output, Catch::Contains("loaded") && Catch::Contains("3 networks, 5 stations, 13 channels") &&
                           Catch::Contains("serves the station metadata now"));
  std::string body;
  REQUIRE(http_status(server, "/fdsnws/station/1/query?net=IU&format=text", &body) == 200);
  CHECK_THAT(body, Catch::Contains("IU|ANMO|") && Catch::Contains("IU|COLA|"));

  r = run(dir, "inventory list " + api);
  CHECK(r.code == 0);
  CHECK_THAT(r.output, Catch::Contains("seisvault_test_inventory.xml") && Catch::Contains("13"));

  // Loading again replaces; an invalid file is refused before anything is sent.
  r = run(dir, "inventory load " + api + " " + kFixture.string());
  CHECK(r.code == 0);
  CHECK_THAT(r.output, Catch::Contains("replaced"));
  write_file(dir.path() / "broken.xml", "<FDSNStationXML");
  r = run(dir, "inventory load " + api + " " + (dir.path() / "broken.xml").string());
  CHECK(r.code == 1);
  CHECK_THAT(r.output, Catch::Contains("nothing loaded"));

  r = run(dir, "inventory remove " + api + " nope");
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Catch::Contains("NOT_FOUND") && Catch::Contains("seisvault_test_inventory.xml"));
  r = run(dir, "inventory remove " + api + " seisvault_test_inventory.xml");
  CHECK(r.code == 0);
  CHECK(http_status(server, "/fdsnws/station/1/query?net=IU") == 204);

  // The metadata is in the store: loaded again, it survives a restart.
  REQUIRE(run(dir, "inventory load " + api + " " + kFixture.string()).code == 0);
  REQUIRE(server.stop() == 0);
  test::ServerProcess again(dir.path() / "data", "tcp://127.0.0.1:*", {"--insecure"});
  CHECK(http_status(again, "/fdsnws/station/1/query?net=CH") == 200);
  REQUIRE(again.stop() == 0);
}

TEST_CASE("changing metadata through an API off loopback needs a token: --api-allow-insecure opens reading only",
          "[inventory][api]") {
  test::TempDir dir;
  test::ServerProcess open_server(dir.path() / "open", "tcp://127.0.0.1:*",
                                  {"--insecure", "--api", "0.0.0.0:0", "--api-allow-insecure"});
  const std::string open_api = "--api 127.0.0.1:" + open_server.api().substr(open_server.api().rfind(':') + 1);
  auto r = run(dir, "inventory load " + open_api + " " + kFixture.string());
  CHECK(r.code == 3);
  CHECK_THAT(r.output, Catch::Contains("PERMISSION_DENIED") && Catch::Contains("--api-token-file"));
  CHECK(run(dir, "inventory list " + open_api).code == 0);  // reading is open
  REQUIRE(open_server.stop() == 0);

  const auto token = dir.path() / "token";
  write_file(token, "inv-s3cret\n");
  test::ServerProcess guarded(dir.path() / "guarded", "tcp://127.0.0.1:*",
                              {"--insecure", "--api", "0.0.0.0:0", "--api-token-file", token.string()});
  const std::string guarded_api = "--api 127.0.0.1:" + guarded.api().substr(guarded.api().rfind(':') + 1);
  r = run(dir, "inventory load " + guarded_api + " " + kFixture.string());
  CHECK(r.code == 3);
  CHECK_THAT(r.output, Catch::Contains("UNAUTHENTICATED"));
  r = run(dir, "inventory load " + guarded_api + " --token-file " + token.string() + " " + kFixture.string());
  INFO(r.output);
  CHECK(r.code == 0);
  REQUIRE(guarded.stop() == 0);
}
