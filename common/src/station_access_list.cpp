#include "seisvault/common/station_access_list.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "seisvault/common/atomic_file.h"
#include "seisvault/common/curve_keys.h"

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

Result<StationAccessList> StationAccessList::parse(std::string_view text) {
  StationAccessList list;
  std::istringstream in{std::string(text)};
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::istringstream words(line);
    std::string key, patterns;
    if (!(words >> key)) continue;  // blank
    if (key == "#" || (key[0] == '#' && !is_z85_key(key))) continue;  // comment line
    if (!is_z85_key(key)) {
      return Status::invalid_argument(
          fmt::format("line {}: '{}' is not a station public key (40 Z85 characters)", number, key));
    }
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
    if (list.is_listed(key)) return Status::invalid_argument(fmt::format("line {}: key {} is listed twice", number, key));
    list.entries_.push_back(std::move(e));
  }
  return list;
}

Result<StationAccessList> StationAccessList::load(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) {
    if (!std::filesystem::exists(path)) return StationAccessList{};
    return Status::io_error(fmt::format("cannot read {}", path.string()));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  auto list = parse(ss.str());
  if (!list.ok()) return Status::invalid_argument(fmt::format("{}: {}", path.string(), list.status().message()));
  return list;
}

bool StationAccessList::is_listed(std::string_view public_key) const {
  return std::any_of(entries_.begin(), entries_.end(), [&](const auto& e) { return e.public_key == public_key; });
}

bool StationAccessList::may_write(std::string_view public_key, std::string_view network,
                                  std::string_view station) const {
  for (const auto& e : entries_) {
    if (e.public_key != public_key) continue;
    for (const auto& p : e.patterns) {
      const auto dot = p.find('.');
      if (wildcard_match(std::string_view(p).substr(0, dot), network) &&
          wildcard_match(std::string_view(p).substr(dot + 1), station)) {
        return true;
      }
    }
    return false;
  }
  return false;
}

void StationAccessList::upsert(StationAccessEntry entry) {
  for (auto& e : entries_) {
    if (e.public_key == entry.public_key) {
      e = std::move(entry);
      return;
    }
  }
  entries_.push_back(std::move(entry));
}

bool StationAccessList::remove(std::string_view public_key) {
  const auto before = entries_.size();
  std::erase_if(entries_, [&](const auto& e) { return e.public_key == public_key; });
  return entries_.size() != before;
}

std::string StationAccessList::to_text() const {
  std::string out =
      "# SeisVault authorized stations: which station keys may write which stations.\n"
      "# <public key (Z85, 40 chars)>  <NET.STA patterns, comma-separated, ? and * wildcards>  [# comment]\n"
      "# Edit with 'seisvault authorize' or by hand, then send SIGHUP to seisvaultd.\n";
  for (const auto& e : entries_) {
    std::string patterns;
    for (const auto& p : e.patterns) patterns += (patterns.empty() ? "" : ",") + p;
    out += e.public_key + "  " + patterns;
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
