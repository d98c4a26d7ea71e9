#include "key_file_text.h"

#include <cctype>
#include <fstream>

#include <fmt/format.h>

namespace seisvault {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool mentions_secret_key(std::string_view comment) {
  std::string lower(comment);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower.find("secret key") != std::string::npos;
}

}  // namespace

Result<KeyFileText> read_key_file_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return Status::not_found(fmt::format("cannot read key file {}", path.string()));
  KeyFileText out;
  std::string line;
  while (std::getline(in, line)) {
    const auto t = trim(line);
    if (t.empty()) continue;
    if (t.front() == '#') {
      out.says_secret = out.says_secret || mentions_secret_key(t);
      continue;
    }
    out.key = std::string(t);
    return out;
  }
  return Status::invalid_argument(fmt::format("{} holds no key", path.string()));
}

}  // namespace seisvault
