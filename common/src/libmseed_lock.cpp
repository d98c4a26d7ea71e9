#include "seisvault/common/libmseed_lock.h"

#include <libmseed.h>

#include <spdlog/spdlog.h>

namespace seisvault {

namespace {

// Everything below is guarded by g_mutex.
std::mutex g_mutex;
bool g_initialized = false;
bool g_capturing = false;
bool g_error = false;
std::string g_first_error;
std::string g_first_warning;

constexpr const char* kErrorPrefix = "\x01";  // marks level >= 2 messages in diag_print

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
  return s;
}

void on_log(char* message) {
  // Level 0: informational output (e.g. record dumps), never used by SeisVault.
  spdlog::debug("libmseed: {}", trim(message));
}

void on_diag(char* message) {
  std::string_view m(message);
  const bool is_error = m.substr(0, 1) == kErrorPrefix;
  if (is_error) m.remove_prefix(1);
  m = trim(m);
  if (!g_capturing) {
    if (is_error) {
      spdlog::error("libmseed: {}", m);
    } else {
      spdlog::warn("libmseed: {}", m);
    }
    return;
  }
  if (is_error) {
    if (!g_error) g_first_error.assign(m);
    g_error = true;
  } else if (g_first_warning.empty()) {
    g_first_warning.assign(m);
  }
}

}  // namespace

LibmseedLock::LibmseedLock() : lock_(g_mutex) {
  if (!g_initialized) {
    ms_loginit(&on_log, nullptr, &on_diag, kErrorPrefix);
    // Detect byte order and encoding from each record, whatever the
    // environment says; fall back to Steim-1 without blockette 1000, as the
    // SEED manual's legacy default.
    // (The overrides are libmseed's exported globals, declared in libmseed.h.)
    unpackheaderbyteorder = -1;
    unpackdatabyteorder = -1;
    unpackencodingformat = -1;
    unpackencodingfallback = DE_STEIM1;
    packheaderbyteorder = -1;
    packdatabyteorder = -1;
    g_first_error.reserve(256);
    g_first_warning.reserve(256);
    g_initialized = true;
  }
  g_capturing = true;
  clear_messages();
}

LibmseedLock::~LibmseedLock() { g_capturing = false; }

bool LibmseedLock::error_logged() const { return g_error; }
std::string_view LibmseedLock::first_error() const { return g_first_error; }
std::string_view LibmseedLock::first_warning() const { return g_first_warning; }

void LibmseedLock::clear_messages() {
  g_error = false;
  g_first_error.clear();
  g_first_warning.clear();
}

}  // namespace seisvault
