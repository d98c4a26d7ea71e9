// libFuzzer target: the ledger's codecs and checks
// (common/include/seisvault/common/ledger_entry.h, ledger_checkpoint.h,
// ledger_chain_check.h): what `seisvault verify` reads from a store or, as
// a client, from a server it need not trust.
//
// Checks:
//   - decode_ledger_entry() either refuses the bytes with a message or
//     reads an entry that encodes back to exactly the same bytes (one
//     encoding per entry: a verifier's hash is the writer's);
//   - decode_checkpoint() likewise for its fixed layout;
//   - LedgerChainCheck takes any sequence of entries and checkpoints (the
//     input cut in pieces) without crashing, and reports every problem
//     with a kind, a place and a message; also as an export bundle's part
//     of a chain (start_at) with the first piece offered as an older key
//     event.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "fuzz_check.h"
#include "seisvault/common/ledger_chain_check.h"
#include "seisvault/common/ledger_checkpoint.h"
#include "seisvault/common/ledger_entry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (auto e = seisvault::decode_ledger_entry(bytes); e.ok()) {
    FUZZ_CHECK(seisvault::encode_ledger_entry(*e) == bytes, "a decoded entry does not encode back to its bytes");
    FUZZ_CHECK(e->stored.size() == e->hashes.size(), "stored and hashes differ in size");
  } else {
    FUZZ_CHECK(!e.status().message().empty(), "an entry refused without a message");
  }
  if (auto c = seisvault::decode_checkpoint(bytes); c.ok()) {
    FUZZ_CHECK(size == seisvault::kCheckpointSize, "a checkpoint of another size read");
  }
  // The input as a ledger: pieces split at 0xFF 0xFE markers, the last piece
  // also offered as a checkpoint of as many entries as there are pieces.
  std::vector<std::string_view> pieces;
  size_t from = 0;
  for (size_t i = 0; i + 1 < size; ++i) {
    if (data[i] == 0xFF && data[i + 1] == 0xFE) {
      pieces.push_back(bytes.substr(from, i - from));
      from = i + 2;
    }
  }
  pieces.push_back(bytes.substr(from));
  std::vector<std::pair<uint64_t, std::string>> checkpoints{{pieces.size(), std::string(pieces.back())}};
  seisvault::LedgerChainCheck check(std::nullopt, checkpoints,
                                    [](const std::string& kind, std::string where, std::string what) {
                                      FUZZ_CHECK(!kind.empty() && !where.empty() && !what.empty(),
                                                 "a problem without kind, place or message");
                                    });
  for (size_t i = 0; i < pieces.size(); ++i) check.add_entry(i + 1, pieces[i]);
  check.finish();
  FUZZ_CHECK(check.entries() == pieces.size(), "entries miscounted");

  seisvault::LedgerChainCheck part(std::nullopt, checkpoints,
                                   [](const std::string& kind, std::string where, std::string what) {
                                     FUZZ_CHECK(!kind.empty() && !where.empty() && !what.empty(),
                                                "a problem without kind, place or message");
                                   });
  if (auto s = part.add_key_event(pieces.front()); !s.ok()) {
    FUZZ_CHECK(!s.message().empty(), "a key event refused without a message");
  }
  part.start_at(7);
  for (size_t i = 1; i < pieces.size(); ++i) part.add_entry(6 + i, pieces[i]);
  part.finish();
  return 0;
}
