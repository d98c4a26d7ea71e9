// The text of a key file (curve_keys.h, signing_keys.h): comment lines
// starting with '#', then one line holding the key. Internal to common/.
#pragma once

#include <filesystem>
#include <string>

#include "seisvault/common/status.h"

namespace seisvault {

struct KeyFileText {
  std::string key;           // the first line that is not a comment, trimmed
  bool says_secret = false;  // a comment line before it mentions a "secret key" (any case)
};

// NotFound when the file cannot be read; InvalidArgument when it holds no
// key line. The key line is not checked here.
Result<KeyFileText> read_key_file_text(const std::filesystem::path& path);

}  // namespace seisvault
