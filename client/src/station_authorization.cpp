#include "seisvault/client/station_authorization.h"

#include <fmt/format.h>

#include "seisvault/common/curve_keys.h"
#include "seisvault/common/signing_keys.h"
#include "seisvault/common/station_access_list.h"

namespace seisvault::client {

namespace fs = std::filesystem;

namespace {

Result<StationAccessList> load_list(const fs::path& data_dir) {
  std::error_code ec;
  if (!fs::is_directory(data_dir, ec)) {
    return Status::not_found(fmt::format("data directory {} does not exist", data_dir.string()));
  }
  return StationAccessList::load(authorized_stations_path(data_dir));
}

}  // namespace

fs::path authorized_stations_path(const fs::path& data_dir) { return data_dir / "authorized_stations"; }

std::vector<std::string> split_station_patterns(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string p = text.substr(start, end - start);
    const auto first = p.find_first_not_of(" \t");
    const auto last = p.find_last_not_of(" \t");
    if (first != std::string::npos) out.push_back(p.substr(first, last - first + 1));
    start = end + 1;
  }
  return out;
}

Result<AuthorizeChange> authorize_station_key(const fs::path& data_dir, const std::string& public_key,
                                              const std::vector<std::string>& patterns, const std::string& comment,
                                              const StationSigning& signing) {
  if (!is_z85_key(public_key)) return Status::invalid_argument("not a station public key (40 Z85 characters)");
  if (signing.signing_key.empty() == !signing.allow_unsigned) {
    return Status::invalid_argument(
        signing.allow_unsigned
            ? "a key with a signing key must sign: give the signing key or allow unsigned batches, not both"
            : "give the station's signing key (PREFIX.sign.pub from seisvault keygen), or allow unsigned batches "
              "for a station whose client cannot sign yet");
  }
  if (!signing.signing_key.empty()) {
    if (auto key = parse_signing_key_text(signing.signing_key); !key.ok()) return key.status();
  }
  if (patterns.empty()) return Status::invalid_argument("give at least one NET.STA station pattern, e.g. IU.ANMO");
  if (comment.find_first_of("\r\n") != std::string::npos) {
    return Status::invalid_argument("the comment must be a single line");
  }
  auto list = load_list(data_dir);
  if (!list.ok()) return list.status();

  AuthorizeChange change = AuthorizeChange::kAdded;
  for (const auto& e : list->entries()) {
    if (e.public_key != public_key) continue;
    change = e.patterns == patterns && e.comment == comment && e.signing_key == signing.signing_key &&
                     e.allow_unsigned == signing.allow_unsigned
                 ? AuthorizeChange::kUnchanged
                 : AuthorizeChange::kUpdated;
  }
  list->upsert(StationAccessEntry{public_key, patterns, comment, signing.signing_key, signing.allow_unsigned});
  // The list validates patterns when it parses; check the new text the same
  // way the server will read it before writing it.
  const std::string text = list->to_text();
  if (auto check = StationAccessList::parse(text); !check.ok()) {
    return Status::invalid_argument(fmt::format("not written: {}", check.status().message()));
  }
  if (change == AuthorizeChange::kUnchanged) return change;
  if (auto s = list->save(authorized_stations_path(data_dir)); !s.ok()) return s;
  return change;
}

Result<bool> revoke_station_key(const fs::path& data_dir, const std::string& public_key) {
  if (!is_z85_key(public_key)) return Status::invalid_argument("not a station public key (40 Z85 characters)");
  auto list = load_list(data_dir);
  if (!list.ok()) return list.status();
  if (!list->remove(public_key)) return false;
  if (auto s = list->save(authorized_stations_path(data_dir)); !s.ok()) return s;
  return true;
}

}  // namespace seisvault::client
