// VerifyProblems: what a verifier found, by kind (docs/provenance.md
// "Verification" lists the kinds): how many of each, and the first of each
// with where and what. Shared by the store's verifier (storage's
// store_verifier.h) and the export bundle's (client's export_bundle.h).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace seisvault {

struct VerifyProblem {
  std::string kind;   // e.g. "record-ledger-mismatch"
  std::string where;  // "ledger entry 17", "XX.STA..HHZ record at 2025-01-01T00:00:00Z (sequence 42)"
  std::string what;   // what is wrong, for a person
};

struct VerifyProblems {
  std::map<std::string, uint64_t> problems;   // kind -> how many
  std::vector<VerifyProblem> first_problems;  // the first of each kind, in the order found

  void add(const std::string& kind, std::string where, std::string what) {
    if (problems[kind]++ == 0) first_problems.push_back({kind, std::move(where), std::move(what)});
  }
  bool ok() const { return problems.empty(); }
};

}  // namespace seisvault
