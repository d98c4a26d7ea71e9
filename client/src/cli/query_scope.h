// The scope of a `seisvault query` subcommand from its options: which
// channels (NET.STA.LOC.CHA patterns, or --net/--sta/--loc/--cha fields
// combined into one pattern) and which time window (ISO 8601, UTC).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "seisvault/client/query_client.h"
#include "seisvault/common/status.h"
#include "seisvault/common/time.h"

namespace seisvault::cli {

struct QueryArgs;

// The patterns asked for: the positional patterns as given, or one pattern
// "NET.STA.LOC.CHA" from the field options (a field not given is "*"; each
// may be given several times and each value may be a comma list; an empty
// value means the empty location code, "--"). Empty: every channel.
// InvalidArgument when both forms are given or a field holds '.' or blanks.
Result<std::vector<std::string>> selection_patterns(const QueryArgs& args);

// `text` as a time; empty text is no bound (nullopt). InvalidArgument names
// the option and says what was wrong.
Result<std::optional<TimeNs>> parse_time_option(std::string_view option, const std::string& text);

// Patterns plus --start/--end. InvalidArgument also when the window ends
// before it starts.
Result<client::QueryScope> make_query_scope(const QueryArgs& args);

}  // namespace seisvault::cli
