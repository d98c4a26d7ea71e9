// API exposure: whether the query API may listen where it was told to.
//
// The query API serves every stored waveform. On loopback (127.0.0.0/8,
// ::1, localhost) or a unix socket only this machine reaches it; anywhere
// else it needs TLS or a bearer token, unless the operator says explicitly
// (--api-allow-insecure) that the network it is on is trusted. Pure
// functions: thread-safe.
#pragma once

#include <string_view>

#include "seisvault/common/status.h"

namespace seisvault::server {

// Whether a gRPC listening address ("host:port", "[v6]:port", "unix:PATH",
// "unix-abstract:NAME") is reachable from this machine only. Host names
// other than "localhost" and anything unparsable count as not loopback.
bool is_loopback_api_address(std::string_view address);

// OK when the address is loopback, or TLS or a token is configured, or
// `allow_insecure`; otherwise InvalidArgument saying why, what to do, and
// naming --api-allow-insecure.
// `face`: "api" (gRPC, the default) or "http" (the FDSN web services), for
// the flags the message names. The same rule and the same
// --api-allow-insecure hold for both: one decision about the network.
Status check_api_exposure(std::string_view address, bool tls, bool token, bool allow_insecure,
                          std::string_view face = "api");

}  // namespace seisvault::server
