// FUZZ_CHECK: how a fuzz target reports a broken property.
//
// A target checks what it can cheaply about the result of the code under
// test (not only that it did not crash). When a check fails, the target says
// which property broke and aborts; libFuzzer treats the abort like a crash:
// it prints the stack and writes the input to its artifacts directory.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

namespace seisvault::fuzz {

[[noreturn]] inline void check_failed(const char* file, int line, const char* condition, const std::string& detail) {
  std::fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed: %s\n", file, line, condition, detail.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace seisvault::fuzz

// `detail` is only built when the check fails.
#define FUZZ_CHECK(condition, detail)                                                  \
  do {                                                                                 \
    if (!(condition)) ::seisvault::fuzz::check_failed(__FILE__, __LINE__, #condition, (detail)); \
  } while (0)
