// A store's RocksDB opened directly, behind the RecordStore's back (the
// store must be closed), for tests that edit or rewind what it holds.
#pragma once

#include <catch2/catch.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <rocksdb/db.h>

namespace seisvault::storage_test {

// The seven column families, in this order of `handles` (a missing one is
// created empty, as the store itself would).
enum RawCf : int { kRawDefault, kRawRecords, kRawCatalog, kRawSummary, kRawLong, kRawSequence, kRawLedger };

struct RawStore {
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;

  explicit RawStore(const std::filesystem::path& dir) {
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const char* name : {"default", "records", "catalog", "summary", "long", "sequence", "ledger"}) {
      cfs.emplace_back(name, rocksdb::ColumnFamilyOptions());
    }
    rocksdb::DB* raw = nullptr;
    rocksdb::DBOptions options;
    options.create_missing_column_families = true;
    auto s = rocksdb::DB::Open(options, dir.string(), cfs, &handles, &raw);
    INFO(s.ToString());
    REQUIRE(s.ok());
    db.reset(raw);
  }
  ~RawStore() {
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  }

  std::string get(int cf, const std::string& key) {
    std::string v;
    REQUIRE(db->Get({}, handles[cf], key, &v).ok());
    return v;
  }
  void put(int cf, const std::string& key, const std::string& value) {
    REQUIRE(db->Put({}, handles[cf], key, value).ok());
  }
  void del(int cf, const std::string& key) { REQUIRE(db->Delete({}, handles[cf], key).ok()); }
  // The first entry of a column family: key and value.
  std::pair<std::string, std::string> first(int cf) {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator({}, handles[cf]));
    it->SeekToFirst();
    REQUIRE(it->Valid());
    return {it->key().ToString(), it->value().ToString()};
  }
};

}  // namespace seisvault::storage_test
