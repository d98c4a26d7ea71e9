#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "seisvault/client/station_authorization.h"
#include "seisvault/common/curve_keys.h"
#include "seisvault/common/signing_keys.h"
#include "seisvault/common/station_access_list.h"
#include "support/temp_dir.h"

using namespace seisvault;
using namespace seisvault::client;

namespace {

std::string new_key() { return generate_curve_key_pair()->public_key; }

const StationSigning kUnsignedOk{"", true};

StationSigning new_signing_key() { return {signing_key_text(generate_signing_key_pair()->public_key), false}; }

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("authorize adds a key, updates its stations, and revoke removes it", "[authorize]") {
  test::TempDir dir;
  const auto key = new_key(), other = new_key();
  const auto file = authorized_stations_path(dir.path());

  auto added = authorize_station_key(dir.path(), key, {"IU.ANMO", "IU.COLA"}, "Albuquerque datalogger", kUnsignedOk);
  REQUIRE(added.ok());
  CHECK(*added == AuthorizeChange::kAdded);
  REQUIRE(authorize_station_key(dir.path(), other, {"XX.*"}, "", kUnsignedOk).ok());
  {
    auto list = StationAccessList::load(file);
    REQUIRE(list.ok());
    CHECK(list->may_write(key, "IU", "ANMO"));
    CHECK(list->may_write(key, "IU", "COLA"));
    CHECK_FALSE(list->may_write(key, "IU", "KONO"));
    CHECK(list->may_write(other, "XX", "ANY"));
    CHECK(list->entries()[0].comment == "Albuquerque datalogger");
  }

  auto updated = authorize_station_key(dir.path(), key, {"IU.KONO"}, "moved", kUnsignedOk);
  REQUIRE(updated.ok());
  CHECK(*updated == AuthorizeChange::kUpdated);
  auto same = authorize_station_key(dir.path(), key, {"IU.KONO"}, "moved", kUnsignedOk);
  CHECK(*same == AuthorizeChange::kUnchanged);
  {
    auto list = StationAccessList::load(file);
    REQUIRE(list.ok());
    CHECK(list->entries().size() == 2);
    CHECK(list->may_write(key, "IU", "KONO"));
    CHECK_FALSE(list->may_write(key, "IU", "ANMO"));
  }

  auto revoked = revoke_station_key(dir.path(), key);
  REQUIRE(revoked.ok());
  CHECK(*revoked);
  auto list = StationAccessList::load(file);
  REQUIRE(list.ok());
  CHECK_FALSE(list->is_listed(key));
  CHECK(list->is_listed(other));
  CHECK_FALSE(*revoke_station_key(dir.path(), key));  // not listed any more
}

TEST_CASE("a malformed station pattern is refused and the list is left as it was", "[authorize]") {
  test::TempDir dir;
  const auto key = new_key();
  REQUIRE(authorize_station_key(dir.path(), key, {"IU.ANMO"}, "", kUnsignedOk).ok());
  const auto before = read_text(authorized_stations_path(dir.path()));
  auto bad = authorize_station_key(dir.path(), new_key(), {"IUANMO"}, "", kUnsignedOk);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(bad.status().message(), Catch::Contains("IUANMO"));
  CHECK(read_text(authorized_stations_path(dir.path())) == before);
}

TEST_CASE("authorize keeps entries an operator wrote by hand", "[authorize]") {
  test::TempDir dir;
  const auto hand = new_key();
  std::ofstream(authorized_stations_path(dir.path())) << "# my stations\n" << hand << "  GE.*  # all of GEOFON\n";
  REQUIRE(authorize_station_key(dir.path(), new_key(), {"IU.ANMO"}, "", kUnsignedOk).ok());
  auto list = StationAccessList::load(authorized_stations_path(dir.path()));
  REQUIRE(list.ok());
  CHECK(list->may_write(hand, "GE", "WLF"));
  CHECK(list->entries()[0].comment == "all of GEOFON");
}

TEST_CASE("authorize needs an existing data directory and a well-formed key", "[authorize]") {
  test::TempDir dir;
  CHECK(authorize_station_key(dir.path() / "missing", new_key(), {"IU.ANMO"}, "", kUnsignedOk).status().code() ==
        StatusCode::kNotFound);
  CHECK(authorize_station_key(dir.path(), "not-a-key", {"IU.ANMO"}, "", kUnsignedOk).status().code() ==
        StatusCode::kInvalidArgument);
}

TEST_CASE("authorize records the key's signing key, or that it may send unsigned batches, never both", "[authorize]") {
  test::TempDir dir;
  const auto key = new_key();
  const auto signing = new_signing_key();
  REQUIRE(*authorize_station_key(dir.path(), key, {"IU.ANMO"}, "", signing) == AuthorizeChange::kAdded);
  {
    auto list = StationAccessList::load(authorized_stations_path(dir.path()));
    REQUIRE(list.ok());
    CHECK(list->find(key)->signing_key == signing.signing_key);
    CHECK_FALSE(list->find(key)->allow_unsigned);
  }
  CHECK(*authorize_station_key(dir.path(), key, {"IU.ANMO"}, "", signing) == AuthorizeChange::kUnchanged);
  // A new signing key, or unsigned instead, is a change.
  CHECK(*authorize_station_key(dir.path(), key, {"IU.ANMO"}, "", new_signing_key()) == AuthorizeChange::kUpdated);
  CHECK(*authorize_station_key(dir.path(), key, {"IU.ANMO"}, "", kUnsignedOk) == AuthorizeChange::kUpdated);
  {
    auto list = StationAccessList::load(authorized_stations_path(dir.path()));
    REQUIRE(list.ok());
    CHECK(list->find(key)->signing_key.empty());
    CHECK(list->find(key)->allow_unsigned);
  }
  const auto before = read_text(authorized_stations_path(dir.path()));
  auto neither = authorize_station_key(dir.path(), key, {"IU.ANMO"}, "", {});
  CHECK(neither.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(neither.status().message(), Catch::Contains("signing key"));
  auto both = authorize_station_key(dir.path(), key, {"IU.ANMO"}, "", {signing.signing_key, true});
  CHECK(both.status().code() == StatusCode::kInvalidArgument);
  auto malformed = authorize_station_key(dir.path(), key, {"IU.ANMO"}, "", {"ed25519:short", false});
  CHECK(malformed.status().code() == StatusCode::kInvalidArgument);
  CHECK(read_text(authorized_stations_path(dir.path())) == before);
}

TEST_CASE("station patterns are split at commas, spaces trimmed", "[authorize]") {
  CHECK(split_station_patterns("IU.ANMO, IU.COLA ,XX.*") ==
        std::vector<std::string>{"IU.ANMO", "IU.COLA", "XX.*"});
  CHECK(split_station_patterns("").empty());
}
