// Syncer: makes written batches durable and acknowledges them. Internal to
// ingest/.
//
// Runs beside the committer, so the next store write proceeds while the WAL
// is being fsynced (RecordStore::sync_wal covers every write that returned
// before it began). Under group commit it fsyncs once the last fsync is
// sync_interval old or nothing more is queued; under every-batch each write
// was synced by the committer. Then it builds each batch's ack (on a
// protobuf arena: an ack holds one message per record), hands it to the
// receiver, and offers the records that became durable to on_durable.
#pragma once

#include <vector>

#include "pipeline.h"

namespace seisvault::ingest {

class Syncer {
 public:
  explicit Syncer(Pipeline& p) : p_(p) {}

  // Runs until WrittenBatches::done is set and every batch is acknowledged.
  void run();

 private:
  void publish_durable(std::vector<BatchPtr>& batches);

  Pipeline& p_;
};

}  // namespace seisvault::ingest
