#include "station_inventory.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <limits>
#include <numbers>
#include <tuple>

#include <fmt/format.h>
#include <pugixml.hpp>

#include "seisvault/storage/channel_selection.h"

namespace seisvault::server {

namespace {

constexpr std::string_view kStationXmlNamespace = "http://www.fdsn.org/xml/station/1";
// How many problems a validation error lists; the rest are counted.
constexpr size_t kMaxListedProblems = 8;
constexpr size_t kMaxCodeLength = 16;
constexpr double kInfinity = std::numeric_limits<double>::infinity();

constexpr const char* kNetworkHeader = "#Network|Description|StartTime|EndTime|TotalStations\n";
constexpr const char* kStationHeader = "#Network|Station|Latitude|Longitude|Elevation|SiteName|StartTime|EndTime\n";
constexpr const char* kChannelHeader =
    "#Network|Station|Location|Channel|Latitude|Longitude|Elevation|Depth|Azimuth|Dip|SensorDescription|Scale|"
    "ScaleFreq|ScaleUnits|SampleRate|StartTime|EndTime\n";

std::string_view trim(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n";
  const auto b = s.find_first_not_of(kSpace);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(kSpace) - b + 1);
}

// ---------------------------------------------------------------------------
// Times: xs:dateTime in, FDSN text and xs:dateTime out.
// ---------------------------------------------------------------------------

// A point in time as a document wrote it, at any year (StationXML often
// closes epochs in 2599 or 3000, beyond the int64 nanosecond range).
struct XmlTime {
  int64_t seconds = 0;  // since 1970-01-01T00:00:00Z
  uint32_t nanos = 0;
};

// Nanoseconds, with times beyond the TimeNs range clamped to its ends (a
// 2599 end date is "open" for every comparison SeisVault makes).
TimeNs to_ns(const XmlTime& t) {
  constexpr int64_t kMaxSeconds = kTimeMax / kNanosPerSecond - 1;
  if (t.seconds > kMaxSeconds) return kTimeMax;
  if (t.seconds < -kMaxSeconds) return kTimeMin;
  return t.seconds * kNanosPerSecond + t.nanos;
}

XmlTime from_ns(TimeNs t) {
  int64_t s = t / kNanosPerSecond;
  int64_t n = t % kNanosPerSecond;
  if (n < 0) {
    n += kNanosPerSecond;
    s -= 1;
  }
  return {s, static_cast<uint32_t>(n)};
}

// The proleptic-Gregorian date of a day count since 1970-01-01 (the inverse
// of days_from_civil in seisvault/common/time.h, which keeps its own private).
void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

// "YYYY-MM-DDTHH:MM:SS", then ".ffffff" when there are microseconds, then
// `zone` ("Z" or nothing). Microseconds: what ObsPy keeps.
std::string format_time(const XmlTime& t, std::string_view zone) {
  int64_t days = t.seconds / 86400;
  int64_t sod = t.seconds % 86400;
  if (sod < 0) {
    sod += 86400;
    days -= 1;
  }
  int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", y, m, d, sod / 3600, (sod / 60) % 60, sod % 60);
  if (const uint32_t micros = t.nanos / 1000; micros != 0) out += fmt::format(".{:06}", micros);
  out += zone;
  return out;
}

bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// xs:dateTime: YYYY-MM-DDThh:mm:ss[.f*][Z|(+|-)hh:mm]. A bare date is taken
// too (midnight), as ObsPy takes it. nullopt when it is not a time.
std::optional<XmlTime> parse_xml_time(std::string_view text) {
  const std::string_view s = trim(text);
  size_t i = 0;
  auto digits = [&](size_t n, int64_t& out) {
    if (i + n > s.size()) return false;
    int64_t v = 0;
    for (size_t k = 0; k < n; ++k) {
      const char c = s[i + k];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    out = v;
    i += n;
    return true;
  };
  auto eat = [&](char c) {
    if (i < s.size() && s[i] == c) {
      ++i;
      return true;
    }
    return false;
  };
  int64_t year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  uint32_t nanos = 0;
  if (!digits(4, year)) return std::nullopt;
  if (!eat('-') || !digits(2, month) || !eat('-') || !digits(2, day)) return std::nullopt;
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) return std::nullopt;
  const unsigned month_days = month == 2 && is_leap(year) ? 29 : kDays[month - 1];
  if (day < 1 || day > month_days) return std::nullopt;
  if (eat('T')) {
    if (!digits(2, hour) || !eat(':') || !digits(2, minute) || !eat(':') || !digits(2, second)) return std::nullopt;
    if (eat('.')) {
      size_t n = 0;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        if (n < 9) nanos = nanos * 10 + static_cast<uint32_t>(s[i] - '0');  // finer than ns: dropped
        ++n;
        ++i;
      }
      if (n == 0) return std::nullopt;
      for (; n < 9; ++n) nanos *= 10;
    }
    // 24:00:00 is the end of the day; 60 seconds a leap second.
    if (hour > 24 || minute > 59 || second > 60) return std::nullopt;
    if (hour == 24 && (minute != 0 || second != 0 || nanos != 0)) return std::nullopt;
  }
  int64_t offset_s = 0;
  if (eat('Z')) {
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    const int sign = s[i] == '-' ? -1 : 1;
    ++i;
    int64_t oh = 0, om = 0;
    if (!digits(2, oh) || !eat(':') || !digits(2, om) || oh > 14 || om > 59) return std::nullopt;
    offset_s = sign * (oh * 3600 + om * 60);
  }
  if (i != s.size()) return std::nullopt;
  const int64_t days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  return XmlTime{days * 86400 + hour * 3600 + minute * 60 + second - offset_s, nanos};
}

// ---------------------------------------------------------------------------
// Numbers and codes.
// ---------------------------------------------------------------------------

// An xs:double that is a finite number; nullopt otherwise.
std::optional<double> parse_number(std::string_view text) {
  std::string_view s = trim(text);
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  if (s.empty()) return std::nullopt;
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

bool valid_code(std::string_view code, bool may_be_empty) {
  if (code.empty()) return may_be_empty;
  if (code.size() > kMaxCodeLength) return false;
  return std::all_of(code.begin(), code.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

// Free text for a '|'-separated line that ObsPy reads with Python's csv
// module: no separators, no line breaks, and no double quotes (a field that
// starts with one would be read as quoted).
std::string clean_text(std::string_view text) {
  std::string out(trim(text));
  for (char& c : out) {
    if (c == '|' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
    if (c == '"') c = '\'';
  }
  return out;
}

// ---------------------------------------------------------------------------
// The parsed documents.
// ---------------------------------------------------------------------------

// pugixml knows no namespaces: element names keep their prefix. A document
// binds the StationXML namespace on its root, to the default namespace or to
// a prefix; the schema's elements are the ones with that prefix.
struct Names {
  std::string prefix;  // "" or e.g. "fsx:"

  bool is(const pugi::xml_node& n, std::string_view local) const {
    if (n.type() != pugi::node_element) return false;
    const std::string_view name = n.name();
    return name.size() == prefix.size() + local.size() && name.starts_with(prefix) &&
           name.substr(prefix.size()) == local;
  }
  pugi::xml_node child(const pugi::xml_node& parent, std::string_view local) const {
    for (auto c : parent.children()) {
      if (is(c, local)) return c;
    }
    return {};
  }
  // The text of child `local`, or nullopt when there is no such child.
  std::optional<std::string_view> child_text(const pugi::xml_node& parent, std::string_view local) const {
    const auto c = child(parent, local);
    if (!c) return std::nullopt;
    return std::string_view(c.text().get());
  }
};

struct Epoch {
  TimeNs start = kTimeMin;  // no startDate: from the beginning
  TimeNs end = kTimeMax;    // no endDate (or beyond 2262): open
  std::string start_text;   // FDSN text format; "" when absent
  std::string end_text;
};

struct ChannelEntry {
  pugi::xml_node node;
  std::string location, code;
  Epoch epoch;
  bool closed = false;
  double latitude = 0, longitude = 0;
  std::string latitude_text, longitude_text, elevation_text, depth_text, azimuth_text, dip_text, sample_rate_text;
  std::string sensor, scale, scale_frequency, scale_units;
};

struct StationEntry {
  pugi::xml_node node;
  std::string code;
  Epoch epoch;
  bool closed = false;
  double latitude = 0, longitude = 0;
  std::string latitude_text, longitude_text, elevation_text, site_name;
  std::optional<uint64_t> total_channels;  // as the document says
  std::vector<ChannelEntry> channels;      // sorted by location, code, start
};

struct NetworkEntry {
  pugi::xml_node node;
  std::string code;
  Epoch epoch;
  bool closed = false;
  std::string description;
  std::optional<uint64_t> total_stations;  // as the document says
  std::vector<StationEntry> stations;      // sorted by code, start
};

struct ParsedDocument {
  std::unique_ptr<pugi::xml_document> xml = std::make_unique<pugi::xml_document>();
  Names names;
  // The root's namespace declarations other than StationXML's own: copied
  // networks carry them, so that extension elements keep their namespace.
  std::vector<std::pair<std::string, std::string>> namespace_declarations;
  std::string sender;
  TimeNs loaded_ns = 0;
  std::vector<NetworkEntry> networks;
};

// The problems found in one document, each with its line.
class Problems {
 public:
  explicit Problems(std::string_view text) : text_(text) {}

  void add(const pugi::xml_node& at, std::string_view path, std::string_view what) {
    ++count_;
    if (listed_.size() >= kMaxListedProblems) return;
    std::string where;
    if (const auto line = line_of(at); line > 0) where = fmt::format("line {}: ", line);
    if (!path.empty()) where += fmt::format("{}: ", path);
    listed_.push_back(where + std::string(what));
  }
  bool empty() const { return count_ == 0; }
  Status status() const {
    std::string m = count_ == 1 ? "invalid StationXML: " + listed_[0]
                                : fmt::format("invalid StationXML ({} problems):", count_);
    if (count_ > 1) {
      for (const auto& p : listed_) m += "\n  " + p;
      if (count_ > listed_.size()) m += fmt::format("\n  ... and {} more", count_ - listed_.size());
    }
    return Status::invalid_argument(std::move(m));
  }

 private:
  // 1-based; 0 when unknown (a document pugixml converted from another encoding).
  size_t line_of(const pugi::xml_node& n) {
    const ptrdiff_t offset = n.offset_debug();
    if (offset < 0 || static_cast<size_t>(offset) > text_.size()) return 0;
    const auto target = static_cast<size_t>(offset);
    if (target < counted_to_) {
      counted_to_ = 0;
      line_ = 1;
    }
    line_ += static_cast<size_t>(std::count(text_.begin() + static_cast<ptrdiff_t>(counted_to_),
                                            text_.begin() + static_cast<ptrdiff_t>(target), '\n'));
    counted_to_ = target;
    return line_;
  }

  std::string_view text_;
  std::vector<std::string> listed_;
  size_t count_ = 0;
  size_t counted_to_ = 0;  // problems come in document order: count lines incrementally
  size_t line_ = 1;
};

// Reads a document's elements into entries, noting every problem.
class DocumentReader {
 public:
  DocumentReader(std::string_view text, ParsedDocument& doc) : problems_(text), doc_(doc), names_(doc.names) {}

  Status read(std::string_view text) {
    if (text.size() > storage::kMaxInventoryBytes) {
      return Status::invalid_argument(fmt::format("StationXML document of {} bytes is larger than the {} MiB limit",
                                                  text.size(), storage::kMaxInventoryBytes >> 20));
    }
    const auto parsed = doc_.xml->load_buffer(text.data(), text.size(), pugi::parse_default, pugi::encoding_auto);
    if (!parsed) {
      const auto offset = std::clamp<ptrdiff_t>(parsed.offset, 0, static_cast<ptrdiff_t>(text.size()));
      const auto before = text.substr(0, static_cast<size_t>(offset));
      const size_t line = 1 + static_cast<size_t>(std::count(before.begin(), before.end(), '\n'));
      const size_t column = offset - static_cast<ptrdiff_t>(before.rfind('\n') + 1) + 1;
      return Status::invalid_argument(fmt::format("not well-formed XML (line {}, column {}): {}", line, column,
                                                  parsed.description()));
    }
    const auto root = doc_.xml->document_element();
    read_root(root);
    if (!problems_.empty()) return problems_.status();
    return {};
  }

 private:
  void read_root(const pugi::xml_node& root) {
    const std::string_view name = root.name();
    const auto colon = name.find(':');
    const std::string prefix = colon == std::string_view::npos ? "" : std::string(name.substr(0, colon));
    const std::string_view local = colon == std::string_view::npos ? name : name.substr(colon + 1);
    const std::string binding = prefix.empty() ? "xmlns" : "xmlns:" + prefix;
    const std::string_view ns = root.attribute(binding.c_str()).value();
    if (local != "FDSNStationXML" || ns != kStationXmlNamespace) {
      problems_.add(root, "",
                    fmt::format("the root element is <{}> in namespace '{}', not FDSNStationXML in namespace '{}'",
                                name, ns, kStationXmlNamespace));
      return;
    }
    doc_.names.prefix = prefix.empty() ? "" : prefix + ":";
    for (const auto& a : root.attributes()) {
      const std::string_view an = a.name();
      if ((an == "xmlns" || an.starts_with("xmlns:")) && an != binding) {
        // A default namespace other than StationXML's would rebind the copied (unprefixed) elements.
        if (an == "xmlns" && !prefix.empty()) continue;
        doc_.namespace_declarations.emplace_back(an, a.value());
      }
    }
    const auto version = root.attribute("schemaVersion");
    if (!version) {
      problems_.add(root, "", "FDSNStationXML has no schemaVersion attribute");
    } else if (!parse_number(version.value())) {
      problems_.add(root, "", fmt::format("schemaVersion '{}' is not a number", version.value()));
    }
    const auto source = names_.child_text(root, "Source");
    if (!source || trim(*source).empty()) problems_.add(root, "", "no <Source> (or an empty one)");
    const auto created = names_.child(root, "Created");
    if (!created) {
      problems_.add(root, "", "no <Created>");
    } else if (!parse_xml_time(created.text().get())) {
      problems_.add(created, "", fmt::format("<Created> '{}' is not a time", created.text().get()));
    }
    if (const auto sender = names_.child_text(root, "Sender")) doc_.sender = std::string(trim(*sender));
    bool any = false;
    for (const auto& c : root.children()) {
      if (!names_.is(c, "Network")) continue;
      any = true;
      if (auto n = read_network(c)) doc_.networks.push_back(std::move(*n));
    }
    if (!any) problems_.add(root, "", "no <Network>");
  }

  // Reads startDate, endDate and restrictedStatus of a node; false after a problem.
  bool read_node_attributes(const pugi::xml_node& n, std::string_view path, Epoch& epoch, bool& closed) {
    bool ok = true;
    std::optional<XmlTime> start, end;
    if (const auto a = n.attribute("startDate"); !a) {
      problems_.add(n, path, "no startDate (the FDSN text format and ObsPy's reader of it need one)");
      ok = false;
    } else if (!(start = parse_xml_time(a.value()))) {
      problems_.add(n, path, fmt::format("startDate '{}' is not a time", a.value()));
      ok = false;
    }
    if (const auto a = n.attribute("endDate"); a && !(end = parse_xml_time(a.value()))) {
      problems_.add(n, path, fmt::format("endDate '{}' is not a time", a.value()));
      ok = false;
    }
    if (start) {
      epoch.start = to_ns(*start);
      epoch.start_text = format_time(*start, "");
    }
    if (end) {
      epoch.end = to_ns(*end);
      epoch.end_text = format_time(*end, "");
    }
    if (start && end &&
        (end->seconds < start->seconds || (end->seconds == start->seconds && end->nanos < start->nanos))) {
      problems_.add(n, path,
                    fmt::format("endDate {} is before startDate {}", n.attribute("endDate").value(),
                                n.attribute("startDate").value()));
      ok = false;
    }
    const std::string_view restricted = n.attribute("restrictedStatus").value();
    if (!restricted.empty() && restricted != "open" && restricted != "closed" && restricted != "partial") {
      problems_.add(n, path, fmt::format("restrictedStatus '{}' is not open, closed or partial", restricted));
      ok = false;
    }
    closed = restricted == "closed";
    return ok;
  }

  // The number in child `local`: nullopt after a problem (absent when
  // required, not a number, or outside [lo, hi]), or when absent and optional
  // (then *text stays empty).
  std::optional<double> read_number(const pugi::xml_node& parent, std::string_view local, std::string_view path,
                                    bool required, double lo, double hi, std::string* text, bool* ok) {
    const auto c = names_.child(parent, local);
    if (!c) {
      if (required) {
        problems_.add(parent, path, fmt::format("no <{}>", local));
        *ok = false;
      }
      return std::nullopt;
    }
    const std::string_view raw = c.text().get();
    const auto v = parse_number(raw);
    if (!v) {
      problems_.add(c, path, fmt::format("<{}> '{}' is not a number", local, trim(raw)));
      *ok = false;
      return std::nullopt;
    }
    if (*v < lo || *v > hi) {
      problems_.add(c, path, fmt::format("<{}> {} is outside [{}, {}]", local, trim(raw), lo, hi));
      *ok = false;
      return std::nullopt;
    }
    if (text) *text = std::string(trim(raw));
    return v;
  }

  // A counter (TotalNumberStations, ...) as the document states it, if it does.
  std::optional<uint64_t> read_counter(const pugi::xml_node& parent, std::string_view local, std::string_view path,
                                       bool* ok) {
    const auto c = names_.child(parent, local);
    if (!c) return std::nullopt;
    const std::string_view raw = trim(c.text().get());
    uint64_t v = 0;
    const auto [end, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), v);
    if (raw.empty() || ec != std::errc() || end != raw.data() + raw.size()) {
      problems_.add(c, path, fmt::format("<{}> '{}' is not a count", local, raw));
      *ok = false;
      return std::nullopt;
    }
    return v;
  }

  // The code attribute every Network, Station and Channel must carry;
  // false (and the problem noted) when it is absent or not a valid code.
  bool check_code(const pugi::xml_node& n, const std::string& path, const std::string& code) {
    if (!n.attribute("code")) {
      problems_.add(n, path, "no code attribute");
      return false;
    }
    if (!valid_code(code, false)) {
      problems_.add(n, path, fmt::format("code '{}' is not 1-{} letters, digits, '-' or '_'", code, kMaxCodeLength));
      return false;
    }
    return true;
  }

  std::optional<NetworkEntry> read_network(const pugi::xml_node& n) {
    NetworkEntry e;
    e.node = n;
    e.code = n.attribute("code").value();
    const std::string path = fmt::format("Network {}", e.code.empty() ? "(no code)" : e.code);
    bool ok = true;
    ok &= check_code(n, path, e.code);
    ok &= read_node_attributes(n, path, e.epoch, e.closed);
    if (const auto d = names_.child_text(n, "Description")) e.description = std::string(*d);
    e.total_stations = read_counter(n, "TotalNumberStations", path, &ok);
    for (const auto& c : n.children()) {
      if (!names_.is(c, "Station")) continue;
      if (auto s = read_station(c, path)) e.stations.push_back(std::move(*s));
    }
    std::stable_sort(e.stations.begin(), e.stations.end(), [](const StationEntry& a, const StationEntry& b) {
      return std::tie(a.code, a.epoch.start) < std::tie(b.code, b.epoch.start);
    });
    if (!ok) return std::nullopt;
    return e;
  }

  std::optional<StationEntry> read_station(const pugi::xml_node& n, std::string_view network_path) {
    StationEntry e;
    e.node = n;
    e.code = n.attribute("code").value();
    const std::string path = fmt::format("{}, Station {}", network_path, e.code.empty() ? "(no code)" : e.code);
    bool ok = true;
    ok &= check_code(n, path, e.code);
    ok &= read_node_attributes(n, path, e.epoch, e.closed);
    if (auto v = read_number(n, "Latitude", path, true, -90, 90, &e.latitude_text, &ok)) e.latitude = *v;
    if (auto v = read_number(n, "Longitude", path, true, -180, 180, &e.longitude_text, &ok)) e.longitude = *v;
    read_number(n, "Elevation", path, true, -kInfinity, kInfinity, &e.elevation_text, &ok);
    const auto site = names_.child(n, "Site");
    if (!site) {
      problems_.add(n, path, "no <Site> (ObsPy cannot read a station without one)");
      ok = false;
    } else if (const auto name = names_.child_text(site, "Name"); !name) {
      problems_.add(site, path, "<Site> has no <Name>");
      ok = false;
    } else {
      e.site_name = std::string(*name);
    }
    e.total_channels = read_counter(n, "TotalNumberChannels", path, &ok);
    for (const auto& c : n.children()) {
      if (!names_.is(c, "Channel")) continue;
      if (auto ch = read_channel(c, path)) e.channels.push_back(std::move(*ch));
    }
    std::stable_sort(e.channels.begin(), e.channels.end(), [](const ChannelEntry& a, const ChannelEntry& b) {
      return std::tie(a.location, a.code, a.epoch.start) < std::tie(b.location, b.code, b.epoch.start);
    });
    if (!ok) return std::nullopt;
    return e;
  }

  std::optional<ChannelEntry> read_channel(const pugi::xml_node& n, std::string_view station_path) {
    ChannelEntry e;
    e.node = n;
    e.code = n.attribute("code").value();
    // Old documents write a blank location as spaces, some as "--".
    std::string_view location = trim(n.attribute("locationCode").value());
    if (location == "--") location = {};
    e.location = std::string(location);
    const std::string path = fmt::format("{}, Channel {}.{}", station_path, e.location, e.code.empty() ? "?" : e.code);
    bool ok = true;
    ok &= check_code(n, path, e.code);
    if (!n.attribute("locationCode")) {
      problems_.add(n, path, "no locationCode attribute (write locationCode=\"\" for a blank location)");
      ok = false;
    } else if (!valid_code(e.location, true)) {
      problems_.add(n, path,
                    fmt::format("locationCode '{}' is not up to {} letters, digits, '-' or '_'", e.location,
                                kMaxCodeLength));
      ok = false;
    }
    ok &= read_node_attributes(n, path, e.epoch, e.closed);
    if (auto v = read_number(n, "Latitude", path, true, -90, 90, &e.latitude_text, &ok)) e.latitude = *v;
    if (auto v = read_number(n, "Longitude", path, true, -180, 180, &e.longitude_text, &ok)) e.longitude = *v;
    read_number(n, "Elevation", path, true, -kInfinity, kInfinity, &e.elevation_text, &ok);
    read_number(n, "Depth", path, true, -kInfinity, kInfinity, &e.depth_text, &ok);
    read_number(n, "Azimuth", path, false, 0, 360, &e.azimuth_text, &ok);
    read_number(n, "Dip", path, false, -90, 90, &e.dip_text, &ok);
    read_number(n, "SampleRate", path, false, 0, kInfinity, &e.sample_rate_text, &ok);
    if (const auto sensor = names_.child(n, "Sensor")) {
      for (const char* field : {"Description", "Type", "Model"}) {
        if (const auto t = names_.child_text(sensor, field); t && !trim(*t).empty()) {
          e.sensor = std::string(*t);
          break;
        }
      }
    }
    if (const auto response = names_.child(n, "Response")) {
      if (const auto s = names_.child(response, "InstrumentSensitivity")) {
        read_number(s, "Value", path, true, -kInfinity, kInfinity, &e.scale, &ok);
        read_number(s, "Frequency", path, true, 0, kInfinity, &e.scale_frequency, &ok);
        if (const auto units = names_.child(s, "InputUnits")) {
          if (const auto name = names_.child_text(units, "Name")) e.scale_units = std::string(*name);
        }
      }
    }
    if (!ok) return std::nullopt;
    return e;
  }

  Problems problems_;
  ParsedDocument& doc_;
  const Names& names_;
};

Result<std::unique_ptr<ParsedDocument>> parse_document(std::string_view text) {
  auto doc = std::make_unique<ParsedDocument>();
  DocumentReader reader(text, *doc);
  if (auto s = reader.read(text); !s.ok()) return s;
  return doc;
}

// ---------------------------------------------------------------------------
// Selection.
// ---------------------------------------------------------------------------

bool code_matches(const std::vector<std::string>& patterns, std::string_view code) {
  for (const auto& p : patterns) {
    if (p == "--" ? code.empty() : storage::seed_pattern_matches(p, code)) return true;
  }
  return false;
}

bool matches_all(const std::vector<std::string>& patterns) {
  return std::find(patterns.begin(), patterns.end(), "*") != patterns.end();
}

bool overlaps(const Epoch& e, const StationQuery::Selection& s) {
  return (!s.start || e.end >= *s.start) && (!s.end || e.start <= *s.end);
}

double great_circle_degrees(double lat1, double lon1, double lat2, double lon2) {
  constexpr double kRad = std::numbers::pi / 180.0;
  const double dlat = (lat2 - lat1) * kRad;
  const double dlon = (lon2 - lon1) * kRad;
  const double a = std::sin(dlat / 2) * std::sin(dlat / 2) +
                   std::cos(lat1 * kRad) * std::cos(lat2 * kRad) * std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * std::asin(std::min(1.0, std::sqrt(a))) / kRad;
}

Status check_query(const StationQuery& q) {
  auto in = [](const std::optional<double>& v, double lo, double hi) {
    return !v || (std::isfinite(*v) && *v >= lo && *v <= hi);
  };
  if (q.selections.empty()) return Status::invalid_argument("no selection (network, station, location, channel)");
  for (const auto& s : q.selections) {
    if (s.start && s.end && *s.start > *s.end) {
      return Status::invalid_argument(
          fmt::format("starttime {} is after endtime {}", format_iso8601(*s.start), format_iso8601(*s.end)));
    }
  }
  if (!in(q.minlatitude, -90, 90) || !in(q.maxlatitude, -90, 90) || !in(q.latitude, -90, 90)) {
    return Status::invalid_argument("latitudes must be within -90 to 90 degrees");
  }
  if (!in(q.minlongitude, -180, 180) || !in(q.maxlongitude, -180, 180) || !in(q.longitude, -180, 180)) {
    return Status::invalid_argument("longitudes must be within -180 to 180 degrees");
  }
  if (!in(q.minradius, 0, 180) || !in(q.maxradius, 0, 180)) {
    return Status::invalid_argument("minradius and maxradius must be within 0 to 180 degrees");
  }
  if (q.minlatitude && q.maxlatitude && *q.minlatitude > *q.maxlatitude) {
    return Status::invalid_argument(
        fmt::format("minlatitude {} is above maxlatitude {}", *q.minlatitude, *q.maxlatitude));
  }
  if (q.minradius && q.maxradius && *q.minradius > *q.maxradius) {
    return Status::invalid_argument(fmt::format("minradius {} is above maxradius {}", *q.minradius, *q.maxradius));
  }
  if (q.latitude.has_value() != q.longitude.has_value()) {
    return Status::invalid_argument("latitude and longitude go together (the centre of a radius search)");
  }
  if ((q.minradius || q.maxradius) && !q.latitude) {
    return Status::invalid_argument("minradius/maxradius need latitude and longitude (the centre)");
  }
  return {};
}

// A network or station epoch the query selected, with what it keeps below.
struct StationPick {
  const StationEntry* station;
  std::vector<const ChannelEntry*> channels;  // level channel/response: the ones written; station: counted
};
struct NetworkPick {
  const ParsedDocument* doc;
  const NetworkEntry* network;
  std::vector<StationPick> stations;
};

// One query's selection over the inventory.
class Selector {
 public:
  Selector(const StationQuery& q, std::span<const ChannelExtent> catalog) : q_(q), catalog_(catalog) {
    if (!std::is_sorted(catalog_.begin(), catalog_.end(),
                        [](const ChannelExtent& a, const ChannelExtent& b) { return a.source_id < b.source_id; })) {
      for (const auto& c : catalog_) sorted_.push_back(&c);
      std::sort(sorted_.begin(), sorted_.end(),
                [](const ChannelExtent* a, const ChannelExtent* b) { return a->source_id < b->source_id; });
    }
    geography_ = q.minlatitude || q.maxlatitude || q.minlongitude || q.maxlongitude || q.minradius || q.maxradius;
    target_ = q.level == StationLevel::kResponse ? StationLevel::kChannel : q.level;
  }

  std::optional<NetworkPick> pick(const ParsedDocument& doc, const NetworkEntry& n) const {
    if (q_.updatedafter && doc.loaded_ns <= *q_.updatedafter) return std::nullopt;
    if (!q_.includerestricted && n.closed) return std::nullopt;
    std::vector<size_t> sels;
    for (size_t i = 0; i < q_.selections.size(); ++i) {
      const auto& s = q_.selections[i];
      if (code_matches(s.network, n.code) && overlaps(n.epoch, s)) sels.push_back(i);
    }
    if (sels.empty()) return std::nullopt;
    NetworkPick out{&doc, &n, {}};
    for (const auto& s : n.stations) {
      if (auto sp = pick_station(s, n, sels)) out.stations.push_back(std::move(*sp));
    }
    if (target_ != StationLevel::kNetwork) {
      if (out.stations.empty()) return std::nullopt;
      return out;
    }
    if (!time_filters_pass(n.epoch)) return std::nullopt;
    if (!out.stations.empty()) return out;
    // A network with no station that matches is still the answer to a query
    // that asks nothing of its stations.
    const bool asks_nothing_below = !geography_ && !q_.matchtimeseries &&
                                    std::any_of(sels.begin(), sels.end(), [&](size_t i) {
                                      const auto& s = q_.selections[i];
                                      return matches_all(s.station) && matches_all(s.location) &&
                                             matches_all(s.channel);
                                    });
    if (asks_nothing_below) return out;
    return std::nullopt;
  }

  const ChannelExtent* extent_of(std::string_view source_id) const {
    if (!sorted_.empty()) {
      auto it = std::lower_bound(sorted_.begin(), sorted_.end(), source_id,
                                 [](const ChannelExtent* c, std::string_view id) { return c->source_id < id; });
      return it != sorted_.end() && (*it)->source_id == source_id ? *it : nullptr;
    }
    auto it = std::lower_bound(catalog_.begin(), catalog_.end(), source_id,
                               [](const ChannelExtent& c, std::string_view id) { return c.source_id < id; });
    return it != catalog_.end() && it->source_id == source_id ? &*it : nullptr;
  }

  // The stored data of every channel of NET.STA, as one extent.
  std::optional<std::pair<TimeNs, TimeNs>> station_extent(std::string_view network, std::string_view station) const {
    const std::string prefix = fmt::format("{}.{}.", network, station);
    std::optional<std::pair<TimeNs, TimeNs>> out;
    auto add = [&](const ChannelExtent& c) {
      if (!out) {
        out.emplace(c.earliest_ns, c.latest_ns);
      } else {
        out->first = std::min(out->first, c.earliest_ns);
        out->second = std::max(out->second, c.latest_ns);
      }
    };
    if (!sorted_.empty()) {
      auto it = std::lower_bound(sorted_.begin(), sorted_.end(), prefix,
                                 [](const ChannelExtent* c, const std::string& id) { return c->source_id < id; });
      for (; it != sorted_.end() && (*it)->source_id.starts_with(prefix); ++it) add(**it);
    } else {
      auto it = std::lower_bound(catalog_.begin(), catalog_.end(), prefix,
                                 [](const ChannelExtent& c, const std::string& id) { return c.source_id < id; });
      for (; it != catalog_.end() && it->source_id.starts_with(prefix); ++it) add(*it);
    }
    return out;
  }

 private:
  std::optional<StationPick> pick_station(const StationEntry& s, const NetworkEntry& n,
                                         const std::vector<size_t>& net_sels) const {
    if (!q_.includerestricted && s.closed) return std::nullopt;
    std::vector<size_t> sels;
    for (const size_t i : net_sels) {
      const auto& sel = q_.selections[i];
      if (code_matches(sel.station, s.code) && overlaps(s.epoch, sel)) sels.push_back(i);
    }
    if (sels.empty()) return std::nullopt;
    if (target_ != StationLevel::kChannel && !in_area(s.latitude, s.longitude)) return std::nullopt;
    if (target_ == StationLevel::kStation && !time_filters_pass(s.epoch)) return std::nullopt;
    StationPick out{&s, {}};
    std::vector<bool> satisfied(q_.selections.size(), false);
    for (const auto& c : s.channels) {
      if (!q_.includerestricted && c.closed) continue;
      if (target_ == StationLevel::kChannel && (!time_filters_pass(c.epoch) || !in_area(c.latitude, c.longitude))) {
        continue;
      }
      bool chosen = false;
      const ChannelExtent* data = nullptr;
      bool data_looked_up = false;
      for (const size_t i : sels) {
        const auto& sel = q_.selections[i];
        if (!code_matches(sel.location, c.location) || !code_matches(sel.channel, c.code) || !overlaps(c.epoch, sel)) {
          continue;
        }
        if (q_.matchtimeseries) {
          if (!data_looked_up) {
            data = extent_of(fmt::format("{}.{}.{}.{}", n.code, s.code, c.location, c.code));
            data_looked_up = true;
          }
          const TimeNs from = std::max(c.epoch.start, sel.start.value_or(kTimeMin));
          const TimeNs to = std::min(c.epoch.end, sel.end.value_or(kTimeMax));
          if (!data || data->earliest_ns > to || data->latest_ns < from) continue;
        }
        chosen = true;
        satisfied[i] = true;
      }
      if (chosen) out.channels.push_back(&c);
    }
    if (target_ == StationLevel::kChannel) {
      if (out.channels.empty()) return std::nullopt;
      return out;
    }
    // Levels network and station: a station is selected by a selection that
    // asks nothing of its channels, or by one that some channel meets.
    const bool selected = std::any_of(sels.begin(), sels.end(), [&](size_t i) {
      const auto& sel = q_.selections[i];
      return satisfied[i] || (!q_.matchtimeseries && matches_all(sel.location) && matches_all(sel.channel));
    });
    if (!selected) return std::nullopt;
    return out;
  }

  bool time_filters_pass(const Epoch& e) const {
    if (q_.startbefore && !(e.start < *q_.startbefore)) return false;
    if (q_.startafter && !(e.start > *q_.startafter)) return false;
    if (q_.endbefore && !(e.end < *q_.endbefore)) return false;
    if (q_.endafter && !(e.end > *q_.endafter)) return false;
    return true;
  }

  bool in_area(double lat, double lon) const {
    if (!geography_) return true;
    if (q_.minlatitude && lat < *q_.minlatitude) return false;
    if (q_.maxlatitude && lat > *q_.maxlatitude) return false;
    if (q_.minlongitude && q_.maxlongitude && *q_.minlongitude > *q_.maxlongitude) {
      if (lon < *q_.minlongitude && lon > *q_.maxlongitude) return false;  // a box across the 180th meridian
    } else {
      if (q_.minlongitude && lon < *q_.minlongitude) return false;
      if (q_.maxlongitude && lon > *q_.maxlongitude) return false;
    }
    if (q_.latitude && q_.longitude && (q_.minradius || q_.maxradius)) {
      constexpr double kTolerance = 1e-9;  // a station on the circle is inside
      const double d = great_circle_degrees(*q_.latitude, *q_.longitude, lat, lon);
      if (d < q_.minradius.value_or(0) - kTolerance || d > q_.maxradius.value_or(180) + kTolerance) return false;
    }
    return true;
  }

  const StationQuery& q_;
  std::span<const ChannelExtent> catalog_;
  std::vector<const ChannelExtent*> sorted_;  // only when the catalog came unsorted
  bool geography_ = false;
  StationLevel target_;
};

// ---------------------------------------------------------------------------
// Output.
// ---------------------------------------------------------------------------

// Renames the copied elements of a document that binds StationXML to a
// prefix: the answer binds it to the default namespace.
void strip_prefix(pugi::xml_node n, const Names& names) {
  if (names.prefix.empty()) return;
  for (auto e = n; e;) {
    if (e.type() == pugi::node_element) {
      const std::string_view name = e.name();
      if (name.starts_with(names.prefix)) e.set_name(std::string(name.substr(names.prefix.size())).c_str());
    }
    // Depth-first walk of the subtree under n.
    if (e.first_child()) {
      e = e.first_child();
      continue;
    }
    while (e && e != n && !e.next_sibling()) e = e.parent();
    if (!e || e == n) break;
    e = e.next_sibling();
  }
}

void copy_subtree(pugi::xml_node parent, const pugi::xml_node& source, const Names& names) {
  strip_prefix(parent.append_copy(source), names);
}

pugi::xml_node copy_shell(pugi::xml_node parent, const pugi::xml_node& source, const Names& names) {
  const std::string_view name = source.name();
  auto out = parent.append_child(std::string(name.substr(names.prefix.size())).c_str());
  for (const auto& a : source.attributes()) out.append_attribute(a.name()) = a.value();
  return out;
}

void append_text_child(pugi::xml_node parent, const char* name, std::string_view text) {
  parent.append_child(name).text().set(std::string(text).c_str());
}

void append_counter(pugi::xml_node parent, const char* name, uint64_t v) {
  parent.append_child(name).text().set(static_cast<unsigned long long>(v));
}

// How the children of a node are copied: what is left out, where the counts
// go (before the first child named in `counts_before`, else at the end), and
// the DataAvailability to put in.
struct CopyPlan {
  std::vector<std::string_view> drop;
  std::vector<std::string_view> counts_before;
  std::function<void(pugi::xml_node)> add_counts;
  std::optional<std::pair<TimeNs, TimeNs>> availability;
};

void copy_children(pugi::xml_node out, const pugi::xml_node& source, const Names& names, const CopyPlan& plan) {
  bool counts_done = !plan.add_counts;
  bool availability_done = !plan.availability;
  auto named = [&](const pugi::xml_node& c, const std::vector<std::string_view>& list) {
    return std::any_of(list.begin(), list.end(), [&](std::string_view l) { return names.is(c, l); });
  };
  auto add_availability = [&] {
    auto extent = out.append_child("DataAvailability").append_child("Extent");
    extent.append_attribute("start") = format_time(from_ns(plan.availability->first), "Z").c_str();
    extent.append_attribute("end") = format_time(from_ns(plan.availability->second), "Z").c_str();
    availability_done = true;
  };
  for (const auto& c : source.children()) {
    if (c.type() != pugi::node_element) {
      if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) out.append_copy(c);
      continue;
    }
    // The schema's base node: Description, Identifier*, Comment*, DataAvailability, then the rest.
    if (!availability_done && !names.is(c, "Description") && !names.is(c, "Identifier") && !names.is(c, "Comment")) {
      add_availability();
    }
    if (plan.availability && names.is(c, "DataAvailability")) continue;  // replaced
    if (!counts_done && named(c, plan.counts_before)) {
      plan.add_counts(out);
      counts_done = true;
    }
    if (named(c, plan.drop)) continue;
    copy_subtree(out, c, names);
  }
  if (!availability_done) add_availability();
  if (!counts_done) plan.add_counts(out);
}

std::optional<std::pair<TimeNs, TimeNs>> clip(std::optional<std::pair<TimeNs, TimeNs>> data, const Epoch& e) {
  if (!data) return std::nullopt;
  const TimeNs from = std::max(data->first, e.start);
  const TimeNs to = std::min(data->second, e.end);
  if (from > to) return std::nullopt;
  return std::make_pair(from, to);
}

class StringWriter : public pugi::xml_writer {
 public:
  void write(const void* data, size_t size) override { out.append(static_cast<const char*>(data), size); }
  std::string out;
};

}  // namespace

struct StationInventory::Impl {
  std::vector<std::unique_ptr<ParsedDocument>> docs;
  std::vector<std::pair<const ParsedDocument*, const NetworkEntry*>> networks;  // by code, then start
  size_t station_count = 0;
  size_t channel_count = 0;
  std::string sender = "SeisVault";

  std::string xml_answer(const StationQuery& q, const Selector& selector, const std::vector<NetworkPick>& picks) const;
  std::string text_answer(const StationQuery& q, const std::vector<NetworkPick>& picks) const;
};

StationInventory::StationInventory(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StationInventory::~StationInventory() = default;

size_t StationInventory::network_count() const { return impl_->networks.size(); }
size_t StationInventory::station_count() const { return impl_->station_count; }
size_t StationInventory::channel_count() const { return impl_->channel_count; }

Status StationInventory::validate(std::string_view xml) {
  auto doc = parse_document(xml);
  return doc.ok() ? Status{} : doc.status();
}

Result<std::shared_ptr<const StationInventory>> StationInventory::build(
    const std::vector<storage::InventoryDocument>& docs) {
  auto impl = std::make_unique<Impl>();
  for (const auto& d : docs) {
    auto parsed = parse_document(d.xml);
    if (!parsed.ok()) {
      return Status(parsed.status().code(),
                    fmt::format("inventory document '{}': {}", d.name, parsed.status().message()));
    }
    (*parsed)->loaded_ns = d.loaded_ns;
    impl->docs.push_back(std::move(parsed.value()));
  }
  for (const auto& d : impl->docs) {
    if (impl->sender == "SeisVault" && !d->sender.empty()) impl->sender = d->sender;
    for (const auto& n : d->networks) {
      impl->networks.emplace_back(d.get(), &n);
      impl->station_count += n.stations.size();
      for (const auto& s : n.stations) impl->channel_count += s.channels.size();
    }
  }
  std::stable_sort(impl->networks.begin(), impl->networks.end(), [](const auto& a, const auto& b) {
    return std::tie(a.second->code, a.second->epoch.start) < std::tie(b.second->code, b.second->epoch.start);
  });
  return std::shared_ptr<const StationInventory>(new StationInventory(std::move(impl)));
}

Result<std::optional<std::string>> StationInventory::query(const StationQuery& q,
                                                          std::span<const ChannelExtent> catalog) const {
  if (auto s = check_query(q); !s.ok()) return s;
  Selector selector(q, catalog);
  std::vector<NetworkPick> picks;
  for (const auto& [doc, network] : impl_->networks) {
    if (auto p = selector.pick(*doc, *network)) picks.push_back(std::move(*p));
  }
  if (picks.empty()) return std::optional<std::string>();
  if (q.format == StationFormat::kText) return std::optional<std::string>(impl_->text_answer(q, picks));
  return std::optional<std::string>(impl_->xml_answer(q, selector, picks));
}

std::string StationInventory::Impl::xml_answer(const StationQuery& q, const Selector& selector,
                                               const std::vector<NetworkPick>& picks) const {
  pugi::xml_document out;
  auto declaration = out.append_child(pugi::node_declaration);
  declaration.append_attribute("version") = "1.0";
  declaration.append_attribute("encoding") = "UTF-8";
  auto root = out.append_child("FDSNStationXML");
  root.append_attribute("xmlns") = std::string(kStationXmlNamespace).c_str();
  root.append_attribute("schemaVersion") = "1.1";
  append_text_child(root, "Source", "SeisVault");
  append_text_child(root, "Sender", sender);
  append_text_child(root, "Module", "SeisVault fdsnws-station");
  append_text_child(root, "Created", format_time(from_ns(now_ns()), "Z"));

  const bool below_station = q.level == StationLevel::kChannel || q.level == StationLevel::kResponse;
  for (const auto& np : picks) {
    const Names& names = np.doc->names;
    const NetworkEntry& n = *np.network;
    auto net = copy_shell(root, n.node, names);
    for (const auto& [attr, value] : np.doc->namespace_declarations) {
      if (!net.attribute(attr.c_str())) net.append_attribute(attr.c_str()) = value.c_str();
    }
    CopyPlan net_plan;
    net_plan.drop = {"Station", "TotalNumberStations", "SelectedNumberStations"};
    net_plan.counts_before = {"Station"};
    net_plan.add_counts = [&](pugi::xml_node at) {
      append_counter(at, "TotalNumberStations", n.total_stations.value_or(n.stations.size()));
      append_counter(at, "SelectedNumberStations", np.stations.size());
    };
    copy_children(net, n.node, names, net_plan);
    if (q.level == StationLevel::kNetwork) continue;

    for (const auto& sp : np.stations) {
      const StationEntry& s = *sp.station;
      auto sta = copy_shell(net, s.node, names);
      CopyPlan sta_plan;
      sta_plan.drop = {"Channel", "TotalNumberChannels", "SelectedNumberChannels"};
      sta_plan.counts_before = {"ExternalReference", "Channel"};
      sta_plan.add_counts = [&](pugi::xml_node at) {
        append_counter(at, "TotalNumberChannels", s.total_channels.value_or(s.channels.size()));
        // A document without channel epochs cannot say how many a query selects.
        if (!s.channels.empty()) append_counter(at, "SelectedNumberChannels", sp.channels.size());
      };
      if (q.includeavailability) sta_plan.availability = clip(selector.station_extent(n.code, s.code), s.epoch);
      copy_children(sta, s.node, names, sta_plan);
      if (!below_station) continue;

      for (const ChannelEntry* c : sp.channels) {
        auto cha = copy_shell(sta, c->node, names);
        CopyPlan cha_plan;
        if (q.level != StationLevel::kResponse) cha_plan.drop = {"Response"};
        if (q.includeavailability) {
          const auto* data = selector.extent_of(fmt::format("{}.{}.{}.{}", n.code, s.code, c->location, c->code));
          if (data) cha_plan.availability = clip(std::make_pair(data->earliest_ns, data->latest_ns), c->epoch);
        }
        copy_children(cha, c->node, names, cha_plan);
      }
    }
  }
  StringWriter writer;
  out.save(writer, "  ", pugi::format_indent, pugi::encoding_utf8);
  return std::move(writer.out);
}

std::string StationInventory::Impl::text_answer(const StationQuery& q, const std::vector<NetworkPick>& picks) const {
  std::string out;
  switch (q.level) {
    case StationLevel::kNetwork:
      out = kNetworkHeader;
      for (const auto& np : picks) {
        const auto& n = *np.network;
        out += fmt::format("{}|{}|{}|{}|{}\n", n.code, clean_text(n.description), n.epoch.start_text,
                           n.epoch.end_text, n.total_stations.value_or(n.stations.size()));
      }
      break;
    case StationLevel::kStation:
      out = kStationHeader;
      for (const auto& np : picks) {
        for (const auto& sp : np.stations) {
          const auto& s = *sp.station;
          out += fmt::format("{}|{}|{}|{}|{}|{}|{}|{}\n", np.network->code, s.code, s.latitude_text, s.longitude_text,
                             s.elevation_text, clean_text(s.site_name), s.epoch.start_text, s.epoch.end_text);
        }
      }
      break;
    case StationLevel::kChannel:
    case StationLevel::kResponse:
      out = kChannelHeader;
      for (const auto& np : picks) {
        for (const auto& sp : np.stations) {
          for (const ChannelEntry* c : sp.channels) {
            out += fmt::format("{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}\n", np.network->code,
                               sp.station->code, c->location, c->code, c->latitude_text, c->longitude_text,
                               c->elevation_text, c->depth_text, c->azimuth_text, c->dip_text,
                               clean_text(c->sensor), c->scale, c->scale_frequency, clean_text(c->scale_units),
                               c->sample_rate_text, c->epoch.start_text, c->epoch.end_text);
          }
        }
      }
      break;
  }
  return out;
}

}  // namespace seisvault::server
