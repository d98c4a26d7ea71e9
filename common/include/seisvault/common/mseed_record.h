// MseedRecord: owns one libmseed MSRecord (RAII over msr_init/msr_free).
//
// Reusing one MseedRecord for many parses lets libmseed reuse its header
// and sample buffers. Like every libmseed call, parsing into it must happen
// under a LibmseedLock. Not thread-safe; one per thread.
#pragma once

#include <libmseed.h>

namespace seisvault {

class MseedRecord {
 public:
  MseedRecord() = default;
  ~MseedRecord() { msr_free(&msr_); }
  MseedRecord(const MseedRecord&) = delete;
  MseedRecord& operator=(const MseedRecord&) = delete;

  // nullptr until a parse succeeded (libmseed frees the record when a
  // parse fails, through the pointer given by out()).
  MSRecord* get() const { return msr_; }
  MSRecord* operator->() const { return msr_; }
  // For libmseed calls that fill or replace the record (msr_parse).
  MSRecord** out() { return &msr_; }

 private:
  MSRecord* msr_ = nullptr;
};

}  // namespace seisvault
