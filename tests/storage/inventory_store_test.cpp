// RecordStore's station-metadata documents (put_inventory, remove_inventory,
// read_inventory) against a real RocksDB: stored byte-identical under a name,
// replaced by name, removed, listed in name order, kept across a reopen, and
// kept apart from the records and the store's own keys. The store does not
// look inside a document: these are not StationXML.
#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include "seisvault/common/time.h"
#include "seisvault/storage/inventory_document.h"
#include "seisvault/storage/record_store.h"
#include "store_test_records.h"
#include "support/temp_dir.h"

using namespace seisvault;
using namespace seisvault::storage;
using seisvault::test::TempDir;
using namespace seisvault::storage_test;

namespace {

std::unique_ptr<RecordStore> open_store(const TempDir& tmp) {
  auto s = RecordStore::open(tmp.path(), small_options());
  INFO((s.ok() ? std::string("ok") : s.status().to_string()));
  REQUIRE(s.ok());
  return std::move(s.value());
}

std::vector<InventoryDocument> docs_of(const RecordStore& store) {
  auto r = store.read_inventory();
  INFO((r.ok() ? std::string("ok") : r.status().to_string()));
  REQUIRE(r.ok());
  return r.value();
}

std::vector<std::string> names_of(const std::vector<InventoryDocument>& docs) {
  std::vector<std::string> out;
  for (const auto& d : docs) out.push_back(d.name);
  return out;
}

}  // namespace

TEST_CASE("a new store holds no inventory documents", "[store][inventory]") {
  TempDir tmp;
  auto store = open_store(tmp);
  CHECK(docs_of(*store).empty());
}

TEST_CASE("put_inventory stores a document byte-identical under its name, with the time it was loaded",
          "[store][inventory]") {
  TempDir tmp;
  auto store = open_store(tmp);
  std::string xml = "<?xml version=\"1.0\"?>\n<FDSNStationXML/>\n";
  xml.push_back('\0');  // any bytes at all
  xml += "\xff\xfe tail";
  const TimeNs before = now_ns();
  REQUIRE(store->put_inventory("IU.xml", xml).ok());
  const TimeNs after = now_ns();
  const auto docs = docs_of(*store);
  REQUIRE(docs.size() == 1);
  CHECK(docs[0].name == "IU.xml");
  CHECK(docs[0].xml == xml);
  CHECK(docs[0].loaded_ns >= before);
  CHECK(docs[0].loaded_ns <= after);
}

TEST_CASE("put_inventory replaces the document of the same name and leaves the others", "[store][inventory]") {
  TempDir tmp;
  auto store = open_store(tmp);
  REQUIRE(store->put_inventory("b.xml", "first b").ok());
  REQUIRE(store->put_inventory("a.xml", "only a").ok());
  REQUIRE(store->put_inventory("b.xml", "second b").ok());
  const auto docs = docs_of(*store);
  REQUIRE(names_of(docs) == std::vector<std::string>{"a.xml", "b.xml"});
  CHECK(docs[0].xml == "only a");
  CHECK(docs[1].xml == "second b");
}

TEST_CASE("read_inventory lists documents sorted by name", "[store][inventory]") {
  TempDir tmp;
  auto store = open_store(tmp);
  for (const char* n : {"zz.xml", "CH.xml", "IU.xml", "BW.xml", "a"}) REQUIRE(store->put_inventory(n, n).ok());
  CHECK(names_of(docs_of(*store)) == std::vector<std::string>{"BW.xml", "CH.xml", "IU.xml", "a", "zz.xml"});
}

TEST_CASE("remove_inventory removes one document, and removing an absent one is NotFound", "[store][inventory]") {
  TempDir tmp;
  auto store = open_store(tmp);
  REQUIRE(store->put_inventory("a.xml", "A").ok());
  REQUIRE(store->put_inventory("b.xml", "B").ok());
  REQUIRE(store->remove_inventory("a.xml").ok());
  CHECK(names_of(docs_of(*store)) == std::vector<std::string>{"b.xml"});
  const auto again = store->remove_inventory("a.xml");
  CHECK(again.code() == StatusCode::kNotFound);
  CHECK_THAT(again.message(), Catch::Contains("a.xml"));
  CHECK(store->remove_inventory("never.xml").code() == StatusCode::kNotFound);
  REQUIRE(store->remove_inventory("b.xml").ok());
  CHECK(docs_of(*store).empty());
}

TEST_CASE("a bad inventory name is refused with InvalidArgument and nothing is stored", "[store][inventory]") {
  TempDir tmp;
  auto store = open_store(tmp);
  for (const std::string& bad : {std::string(), std::string("dir/file.xml"), std::string("tab\there"),
                                std::string("nl\n"), std::string(256, 'x')}) {
    INFO(bad);
    CHECK(store->put_inventory(bad, "x").code() == StatusCode::kInvalidArgument);
    CHECK(store->remove_inventory(bad).code() == StatusCode::kInvalidArgument);
  }
  CHECK(store->put_inventory(std::string(255, 'x'), "x").ok());
  CHECK(docs_of(*store).size() == 1);
}

TEST_CASE("inventory documents survive closing and reopening the store", "[store][inventory][reopen]") {
  TempDir tmp;
  std::string big(3 << 20, '\0');  // a few MiB, beyond one memtable block
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  TimeNs loaded = 0;
  {
    auto store = open_store(tmp);
    REQUIRE(store->put_inventory("big.xml", big).ok());
    REQUIRE(store->put_inventory("gone.xml", "soon removed").ok());
    REQUIRE(store->remove_inventory("gone.xml").ok());
    loaded = docs_of(*store).at(0).loaded_ns;
  }
  auto store = open_store(tmp);
  const auto docs = docs_of(*store);
  REQUIRE(names_of(docs) == std::vector<std::string>{"big.xml"});
  CHECK(docs[0].xml == big);
  CHECK(docs[0].loaded_ns == loaded);
}

TEST_CASE("inventory documents and records live side by side without touching each other",
          "[store][inventory]") {
  TempDir tmp;
  {
    auto store = open_store(tmp);
    write_ok(*store, {rec("IU.ANMO.00.BHZ", kT0), rec("IU.ANMO.00.BHZ", kT0 + kSecond)}, true);
    REQUIRE(store->put_inventory("IU.xml", "<x/>").ok());
    write_ok(*store, {rec("CH.BALST..LHZ", kT0)}, true);
    CHECK(read(*store).size() == 3);
  }
  auto store = open_store(tmp);
  CHECK(read(*store).size() == 3);
  CHECK(names_of(docs_of(*store)) == std::vector<std::string>{"IU.xml"});
}

TEST_CASE("a store written before inventories existed opens and has none, and storing one adds no column family",
          "[store][inventory][schema]") {
  TempDir tmp;
  {
    auto store = open_store(tmp);
    write_ok(*store, {rec("IU.ANMO.00.BHZ", kT0)}, true);
  }
  {
    auto store = open_store(tmp);
    CHECK(docs_of(*store).empty());
    REQUIRE(store->put_inventory("IU.xml", "<x/>").ok());
  }
  // The same six column families as the schema has without inventories: a
  // program of the same schema that knows nothing of inventories still opens
  // this store.
  std::vector<std::string> families;
  REQUIRE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), tmp.path().string(), &families).ok());
  std::sort(families.begin(), families.end());
  CHECK(families == std::vector<std::string>{"catalog", "default", "ledger", "long", "records", "sequence", "summary"});
}
