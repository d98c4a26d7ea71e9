#include "seisvault/common/station_access_list.h"

#include <algorithm>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "seisvault/common/atomic_file.h"
#include "seisvault/common/curve_keys.h"
#include "seisvault/common/signing_keys.h"

namespace seisvault {

bool wildcard_match(std::string_view p, std::string_view s) {
  size_t pi = 0, si = 0, star = std::string_view::npos, mark = 0;
  while (si < s.size()) {
    if (pi < p.size() && (p[pi] == '?' || p[pi] == s[si])) {
      ++pi;
      ++si;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = si;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

namespace {

constexpr std::string_view kAllowUnsigned = "allow-unsigned";

bool valid_pattern(std::string_view p) {
  const auto dot = p.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == p.size() || p.find('.', dot + 1) != p.npos) {
    return false;
  }
  return std::all_of(p.begin(), p.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '?' || c == '*' || c == '_' || c == '-';
  });
}

}  // namespace

namespace {

// One line of the file: an entry, nothing (blank or comment), or an error
// naming the line. `key_seen` is set to the line's key when it starts with
// one, even when the rest of the line is wrong.
Result<std::optional<StationAccessEntry>> parse_line(const std::string& line, int number, std::string& key_seen) {
  std::istringstream words(line);
  std::string key, patterns;
  key_seen.clear();
  if (!(words >> key)) return std::optional<StationAccessEntry>();                                      // blank
  if (key == "#" || (key[0] == '#' && !is_z85_key(key))) return std::optional<StationAccessEntry>();  // comment
  if (!is_z85_key(key)) {
    return Status::invalid_argument(
        fmt::format("line {}: '{}' is not a station public key (40 Z85 characters)", number, key));
  }
  key_seen = key;
  if (!(words >> patterns) || patterns[0] == '#') {
    return Status::invalid_argument(
        fmt::format("line {}: key {} has no NET.STA patterns (e.g. IU.ANMO,IU.COLA or XX.*)", number, key));
  }
  StationAccessEntry e;
  e.public_key = key;
  std::istringstream ps(patterns);
  std::string p;
  while (std::getline(ps, p, ',')) {
    if (!valid_pattern(p)) {
      return Status::invalid_argument(
          fmt::format("line {}: '{}' is not a NET.STA pattern (e.g. IU.ANMO, IU.*, *.*)", number, p));
    }
    e.patterns.push_back(p);
  }
  // The signing word(s), up to the comment.
  std::string word;
  auto at = words.tellg();
  while (words >> word && word[0] != '#') {
    if (word.rfind("ed25519:", 0) == 0) {
      // The whole key decoded, not only its alphabet: a Z85 group can spell
      // more than 32 bits.
      if (auto key = parse_signing_key_text(word); !key.ok()) {
        return Status::invalid_argument(fmt::format("line {}: {}", number, key.status().message()));
      }
      if (!e.signing_key.empty()) {
        return Status::invalid_argument(fmt::format("line {}: key {} has two signing keys", number, key));
      }
      e.signing_key = word;
    } else if (word == kAllowUnsigned) {
      e.allow_unsigned = true;
    } else {
      return Status::invalid_argument(fmt::format(
          "line {}: '{}' is neither a signing key (ed25519:...) nor '{}' (start a comment with ' #')", number,
          word.substr(0, 60), kAllowUnsigned));
    }
    at = words.tellg();
  }
  if (!e.signing_key.empty() && e.allow_unsigned) {
    return Status::invalid_argument(fmt::format(
        "line {}: key {} has a signing key and '{}': a key with a signing key must sign; remove '{}'", number, key,
        kAllowUnsigned, kAllowUnsigned));
  }
  words.clear();
  words.seekg(at);
  std::string rest;
  std::getline(words, rest);
  const auto hash = rest.find('#');
  if (hash != std::string::npos) {
    e.comment = rest.substr(hash + 1);
    while (!e.comment.empty() && e.comment.front() == ' ') e.comment.erase(0, 1);
  } else if (rest.find_first_not_of(" \t\r") != std::string::npos) {
    return Status::invalid_argument(
        fmt::format("line {}: unexpected text after the patterns (start a comment with ' #')", number));
  }
  return std::optional<StationAccessEntry>(std::move(e));
}

}  // namespace

Result<StationAccessList> StationAccessList::parse(std::string_view text) {
  StationAccessList list;
  std::istringstream in{std::string(text)};
  std::string line, key;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    auto e = parse_line(line, number, key);
    if (!e.ok()) return e.status();
    if (!e->has_value()) continue;
    if (list.is_listed((*e)->public_key)) {
      return Status::invalid_argument(fmt::format("line {}: key {} is listed twice", number, (*e)->public_key));
    }
    list.upsert(std::move(**e));
  }
  return list;
}

StationAccessList StationAccessList::parse_lenient(std::string_view text, std::vector<std::string>& problems) {
  StationAccessList list;
  std::set<std::string> shut_out;  // keys named on a bad line, or listed twice
  std::istringstream in{std::string(text)};
  std::string line, key;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    auto e = parse_line(line, number, key);
    if (!e.ok()) {
      problems.push_back(e.status().message() +
                         (key.empty() ? " (line left out)" : " (line left out: this key has no access)"));
      if (!key.empty()) shut_out.insert(key);
      continue;
    }
    if (!e->has_value()) continue;
    if (list.is_listed(key)) {
      problems.push_back(
          fmt::format("line {}: key {} is listed twice (every line of it left out: the key has no access)", number, key));
      shut_out.insert(key);
      continue;
    }
    list.upsert(std::move(**e));
  }
  // A bad line may narrow a key listed on a good one (a pattern with a typo):
  // the key loses access rather than keep what it had.
  for (const auto& k : shut_out) list.remove(k);
  return list;
}

namespace {

// The file's text; a missing file is an empty one.
Result<std::string> read_list_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) {
    if (!std::filesystem::exists(path)) return std::string();
    return Status::io_error(fmt::format("cannot read {}", path.string()));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

Result<StationAccessList> StationAccessList::load(const std::filesystem::path& path) {
  auto text = read_list_file(path);
  if (!text.ok()) return text.status();
  auto list = parse(*text);
  if (!list.ok()) return Status::invalid_argument(fmt::format("{}: {}", path.string(), list.status().message()));
  return list;
}

Result<StationAccessList> StationAccessList::load_lenient(const std::filesystem::path& path,
                                                          std::vector<std::string>& problems) {
  auto text = read_list_file(path);
  if (!text.ok()) return text.status();
  return parse_lenient(*text, problems);
}

const StationAccessEntry* StationAccessList::find(std::string_view public_key) const {
  const auto it = index_.find(public_key);
  return it == index_.end() ? nullptr : &entries_[it->second];
}

bool StationAccessList::is_listed(std::string_view public_key) const { return find(public_key) != nullptr; }

bool StationAccessList::may_write(std::string_view public_key, std::string_view network,
                                  std::string_view station) const {
  const auto* e = find(public_key);
  if (!e) return false;
  for (const auto& p : e->patterns) {
    const auto dot = p.find('.');
    if (wildcard_match(std::string_view(p).substr(0, dot), network) &&
        wildcard_match(std::string_view(p).substr(dot + 1), station)) {
      return true;
    }
  }
  return false;
}

void StationAccessList::upsert(StationAccessEntry entry) {
  if (const auto it = index_.find(entry.public_key); it != index_.end()) {
    entries_[it->second] = std::move(entry);
    return;
  }
  index_.emplace(entry.public_key, entries_.size());
  entries_.push_back(std::move(entry));
}

bool StationAccessList::remove(std::string_view public_key) {
  const auto it = index_.find(public_key);
  if (it == index_.end()) return false;
  entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(it->second));
  index_.clear();
  for (size_t i = 0; i < entries_.size(); ++i) index_.emplace(entries_[i].public_key, i);
  return true;
}

std::string StationAccessList::to_text() const {
  std::string out =
      "# SeisVault authorized stations: which station keys may write which stations.\n"
      "# <public key (Z85, 40 chars)>  <NET.STA patterns, comma-separated, ? and * wildcards>\n"
      "#   <ed25519:signing key | allow-unsigned>  [# comment]\n"
      "# Edit with 'seisvault authorize' or by hand, then send SIGHUP to seisvaultd.\n";
  for (const auto& e : entries_) {
    std::string patterns;
    for (const auto& p : e.patterns) patterns += (patterns.empty() ? "" : ",") + p;
    out += e.public_key + "  " + patterns;
    if (!e.signing_key.empty()) out += "  " + e.signing_key;
    if (e.allow_unsigned) out += "  " + std::string(kAllowUnsigned);
    if (!e.comment.empty()) out += "  # " + e.comment;
    out += "\n";
  }
  return out;
}

Status StationAccessList::save(const std::filesystem::path& path) const {
  // Atomically and durably (the directory too): a revocation the operator
  // was told is written must not come back after a power failure.
  return write_file_atomically(path, to_text(), {.mode = 0644, .replace = true});
}

}  // namespace seisvault
