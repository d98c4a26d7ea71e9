#include <catch2/catch.hpp>

#include "seisvault/common/curve_keys.h"
#include "seisvault/common/signing_keys.h"
#include "seisvault/common/station_access_list.h"

using namespace seisvault;

namespace {

std::string curve() { return generate_curve_key_pair()->public_key; }
std::string signing() { return signing_key_text(generate_signing_key_pair()->public_key); }

}  // namespace

TEST_CASE("an entry holds its station's signing key, or allow-unsigned, or (an older line) neither",
          "[access_list]") {
  const auto a = curve(), b = curve(), c = curve();
  const auto sa = signing();
  const auto text = a + "  IU.ANMO,IU.COLA  " + sa + "  # Albuquerque\n" + b + "  XX.*  allow-unsigned\n" + c +
                    "  GE.WLF  # written before stations signed\n";
  auto list = StationAccessList::parse(text);
  REQUIRE(list.ok());
  CHECK(list->find(a)->signing_key == sa);
  CHECK_FALSE(list->find(a)->allow_unsigned);
  CHECK(list->find(a)->comment == "Albuquerque");
  CHECK(list->find(a)->patterns == std::vector<std::string>{"IU.ANMO", "IU.COLA"});
  CHECK(list->find(b)->signing_key.empty());
  CHECK(list->find(b)->allow_unsigned);
  CHECK(list->find(c)->signing_key.empty());
  CHECK_FALSE(list->find(c)->allow_unsigned);
  CHECK(list->find(c)->comment == "written before stations signed");
  // Written back and read again: the same.
  auto again = StationAccessList::parse(list->to_text());
  REQUIRE(again.ok());
  for (const auto& k : {a, b, c}) {
    CHECK(again->find(k)->signing_key == list->find(k)->signing_key);
    CHECK(again->find(k)->allow_unsigned == list->find(k)->allow_unsigned);
    CHECK(again->find(k)->comment == list->find(k)->comment);
  }
}

TEST_CASE("a line with a signing key and allow-unsigned, two signing keys, or a stray word is refused",
          "[access_list]") {
  const auto a = curve();
  for (const auto& [rest, why] : std::vector<std::pair<std::string, std::string>>{
           {signing() + "  allow-unsigned", "must sign"},
           {signing() + " " + signing(), "two signing keys"},
           {"allow-unsign", "neither a signing key"},
           {"ed25519:tooshort", "not an Ed25519 signing public key"},
           // The right alphabet and length, but "#####" spells more than 32 bits (found by fuzzing).
           {"ed25519:#####" + std::string(35, '0'), "not an Ed25519 signing public key"},
       }) {
    auto list = StationAccessList::parse(a + "  XX.*  " + rest + "\n");
    REQUIRE_FALSE(list.ok());
    CHECK_THAT(list.status().message(), Catch::Contains("line 1") && Catch::Contains(why));
    // Lenient reading leaves the key out altogether.
    std::vector<std::string> problems;
    auto lenient = StationAccessList::parse_lenient(a + "  XX.*  " + rest + "\n", problems);
    CHECK_FALSE(lenient.is_listed(a));
    CHECK(problems.size() == 1);
  }
}
