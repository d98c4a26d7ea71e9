// An IngestServer in the test process (insecure, on 127.0.0.1) over a real
// store in `dir`, for tests fed by a raw protocol peer (TestStation).
#pragma once

#include <filesystem>
#include <memory>

#include <catch2/catch.hpp>

#include "seisvault/ingest/access_control.h"
#include "seisvault/ingest/ingest_server.h"
#include "seisvault/storage/record_store.h"
#include "support/server_data.h"

namespace seisvault::test {

struct InProcessServer {
  std::unique_ptr<storage::RecordStore> store;
  ingest::AccessControl access;
  std::unique_ptr<ingest::IngestServer> ingest;

  InProcessServer(const std::filesystem::path& dir, ingest::SyncPolicy sync,
                  std::function<void(std::shared_ptr<const ingest::DurableRecords>)> on_durable = {})
      : access(dir / "authorized_stations") {
    auto s = storage::RecordStore::open(dir / "store", small_store_options());
    REQUIRE(s.ok());
    store = std::move(s.value());
    ingest::IngestOptions io;
    io.insecure = true;  // any station may write: these tests are about what happens after
    io.endpoint = "tcp://127.0.0.1:*";
    io.workers = 2;
    io.sync = sync;
    io.on_durable = std::move(on_durable);
    auto i = ingest::IngestServer::start(io, *store, access);
    REQUIRE(i.ok());
    ingest = std::move(i.value());
  }
};

}  // namespace seisvault::test
