#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <fstream>

#include "seisvault/client/station_keys.h"
#include "support/temp_dir.h"

using namespace seisvault;
using namespace seisvault::client;

namespace {

unsigned mode_of(const std::filesystem::path& p) {
  struct stat st{};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

}  // namespace

TEST_CASE("keygen writes the secret key readable by its owner only and the public key readable by all", "[keys]") {
  test::TempDir dir;
  auto files = create_station_keys(dir.path() / "IU.ANMO");
  REQUIRE(files.ok());
  CHECK(files->secret_file == dir.path() / "IU.ANMO.key");
  CHECK(files->public_file == dir.path() / "IU.ANMO.pub");
  CHECK(mode_of(files->secret_file) == 0600);
  CHECK(mode_of(files->public_file) == 0644);
  CHECK(is_z85_key(files->keys.public_key));

  auto loaded = load_station_keys(dir.path() / "IU.ANMO");
  REQUIRE(loaded.ok());
  CHECK(loaded->public_key == files->keys.public_key);
  CHECK(loaded->secret_key == files->keys.secret_key);
  auto pub = load_public_key(files->public_file);
  REQUIRE(pub.ok());
  CHECK(*pub == files->keys.public_key);
  CHECK(*load_public_key(dir.path() / "IU.ANMO") == files->keys.public_key);  // the prefix works too
}

TEST_CASE("keygen never overwrites an existing key", "[keys]") {
  test::TempDir dir;
  REQUIRE(create_station_keys(dir.path() / "k").ok());
  const auto before = load_station_keys(dir.path() / "k");
  auto again = create_station_keys(dir.path() / "k");
  REQUIRE_FALSE(again.ok());
  CHECK(again.status().code() == StatusCode::kInvalidArgument);
  CHECK(load_station_keys(dir.path() / "k")->secret_key == before->secret_key);
}

TEST_CASE("keygen into a directory that does not exist says so", "[keys]") {
  auto files = create_station_keys("/nonexistent-seisvault-dir/k");
  REQUIRE_FALSE(files.ok());
  CHECK_THAT(files.status().message(), Catch::Contains("does not exist"));
}

TEST_CASE("a secret key readable by others is refused with the chmod to run", "[keys]") {
  test::TempDir dir;
  REQUIRE(create_station_keys(dir.path() / "k").ok());
  std::filesystem::permissions(dir.path() / "k.key", std::filesystem::perms::group_read,
                               std::filesystem::perm_options::add);
  auto loaded = load_station_keys(dir.path() / "k");
  REQUIRE_FALSE(loaded.ok());
  CHECK_THAT(loaded.status().message(), Catch::Contains("chmod 600"));
}

TEST_CASE("a secret key file is refused where a public key is expected", "[keys]") {
  test::TempDir dir;
  REQUIRE(create_station_keys(dir.path() / "k").ok());
  auto pub = load_public_key(dir.path() / "k.key");
  REQUIRE_FALSE(pub.ok());
  CHECK_THAT(pub.status().message(), Catch::Contains("secret key"));
}

TEST_CASE("a secret key is refused where a public key is expected, whatever the file is called", "[keys]") {
  test::TempDir dir;
  auto files = create_station_keys(dir.path() / "k");
  REQUIRE(files.ok());
  // keygen's file under another name: its comment says what it is
  std::filesystem::copy_file(files->secret_file, dir.path() / "renamed.txt");
  auto pub = load_public_key(dir.path() / "renamed.txt");
  REQUIRE_FALSE(pub.ok());
  CHECK(pub.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(pub.status().message(), Catch::Contains("secret key"));
  // the bare key beside its public half
  { std::ofstream(dir.path() / "k.secret") << files->keys.secret_key << "\n"; }
  pub = load_public_key(dir.path() / "k.secret");
  REQUIRE_FALSE(pub.ok());
  CHECK_THAT(pub.status().message(), Catch::Contains("secret key of"));
  // a public key file with comments of its own still loads
  { std::ofstream(dir.path() / "other.pub") << "# IU.ANMO, datalogger 2\n" << files->keys.public_key << "\n"; }
  CHECK(*load_public_key(dir.path() / "other.pub") == files->keys.public_key);
}
