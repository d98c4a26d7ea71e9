#include "fdsn_station_service.h"

#include <fmt/format.h>

#include "fdsn_wadl.h"

namespace seisvault::server {

namespace {

constexpr FdsnParameter kParameters[] = {
    {"starttime", "start"},     {"endtime", "end"},          {"startbefore", ""},         {"startafter", ""},
    {"endbefore", ""},          {"endafter", ""},            {"network", "net"},          {"station", "sta"},
    {"location", "loc"},        {"channel", "cha"},          {"minlatitude", "minlat"},   {"maxlatitude", "maxlat"},
    {"minlongitude", "minlon"}, {"maxlongitude", "maxlon"},  {"latitude", "lat"},         {"longitude", "lon"},
    {"minradius", ""},          {"maxradius", ""},           {"level", ""},               {"includerestricted", ""},
    {"includeavailability", ""}, {"updatedafter", ""},       {"matchtimeseries", ""},     {"format", ""},
    {"nodata", ""},
};

constexpr WadlParameter kWadlParameters[] = {
    {"startbefore", "xs:dateTime", "", "", "Epochs that start before this time"},
    {"startafter", "xs:dateTime", "", "", "Epochs that start after this time"},
    {"endbefore", "xs:dateTime", "", "", "Epochs that end before this time"},
    {"endafter", "xs:dateTime", "", "", "Epochs that end after this time"},
    {"minlatitude", "xs:double", "-90.0", "", "Southern boundary"},
    {"minlat", "xs:double", "-90.0", "", "Alias of minlatitude"},
    {"maxlatitude", "xs:double", "90.0", "", "Northern boundary"},
    {"maxlat", "xs:double", "90.0", "", "Alias of maxlatitude"},
    {"minlongitude", "xs:double", "-180.0", "", "Western boundary"},
    {"minlon", "xs:double", "-180.0", "", "Alias of minlongitude"},
    {"maxlongitude", "xs:double", "180.0", "", "Eastern boundary"},
    {"maxlon", "xs:double", "180.0", "", "Alias of maxlongitude"},
    {"latitude", "xs:double", "", "", "Latitude of the radius search's centre"},
    {"lat", "xs:double", "", "", "Alias of latitude"},
    {"longitude", "xs:double", "", "", "Longitude of the radius search's centre"},
    {"lon", "xs:double", "", "", "Alias of longitude"},
    {"minradius", "xs:double", "0.0", "", "Minimum distance from the centre, degrees"},
    {"maxradius", "xs:double", "180.0", "", "Maximum distance from the centre, degrees"},
    {"level", "xs:string", "station", "network station channel response", "Level of detail"},
    {"includerestricted", "xs:boolean", "true", "", "Include restricted (closed) items"},
    {"includeavailability", "xs:boolean", "false", "", "Add the stored data's extent (XML)"},
    {"updatedafter", "xs:dateTime", "", "", "Only metadata loaded after this time"},
    {"matchtimeseries", "xs:boolean", "false", "", "Only channels with stored data"},
    {"format", "xs:string", "xml", "xml text", "Response format"},
    {"nodata", "xs:int", "204", "204 404", "HTTP status when no data matches"},
};

std::vector<std::string> codes(std::string_view list) {
  std::vector<std::string> out;
  size_t b = 0;
  for (;;) {
    const auto e = list.find(',', b);
    out.emplace_back(list.substr(b, e == std::string_view::npos ? std::string_view::npos : e - b));
    if (e == std::string_view::npos) break;
    b = e + 1;
  }
  return out;
}

Status check_codes(std::string_view name, std::string_view list) {
  if (list.size() > 4096) return Status::invalid_argument(fmt::format("{} is longer than 4096 characters", name));
  for (char c : list) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '?' ||
                    c == '*' || c == '_' || c == '-' || c == ',';
    if (!ok) {
      return Status::invalid_argument(
          fmt::format("{}: character '{}' is not allowed (letters, digits, ? * , and --)", name, c));
    }
  }
  return {};
}

Result<StationQuery> read_query(const FdsnRequest& r) {
  StationQuery q;
  q.selections.clear();
  if (r.is_post()) {
    for (const auto& l : r.lines()) {
      StationQuery::Selection s;
      const std::pair<const char*, const std::string*> fields[] = {
          {"network", &l.network}, {"station", &l.station}, {"location", &l.location}, {"channel", &l.channel}};
      for (const auto& [name, value] : fields) {
        if (auto st = check_codes(name, *value); !st.ok()) return st;
      }
      s.network = codes(l.network);
      s.station = codes(l.station);
      s.location = codes(l.location);
      s.channel = codes(l.channel);
      s.start = l.start;
      s.end = l.end;
      q.selections.push_back(std::move(s));
    }
  } else {
    StationQuery::Selection s;
    std::vector<std::string>* targets[] = {&s.network, &s.station, &s.location, &s.channel};
    const char* names[] = {"network", "station", "location", "channel"};
    for (int i = 0; i < 4; ++i) {
      if (auto v = r.text(names[i])) {
        if (auto st = check_codes(names[i], *v); !st.ok()) return st;
        *targets[i] = codes(*v);
      }
    }
    for (auto [name, target] : {std::pair{"starttime", &s.start}, std::pair{"endtime", &s.end}}) {
      auto t = r.time(name);
      if (!t.ok()) return t.status();
      *target = *t;
    }
    q.selections.push_back(std::move(s));
  }
  for (auto [name, target] : {std::pair{"startbefore", &q.startbefore}, std::pair{"startafter", &q.startafter},
                              std::pair{"endbefore", &q.endbefore}, std::pair{"endafter", &q.endafter},
                              std::pair{"updatedafter", &q.updatedafter}}) {
    auto t = r.time(name);
    if (!t.ok()) return t.status();
    *target = *t;
  }
  for (auto [name, target] :
       {std::pair{"minlatitude", &q.minlatitude}, std::pair{"maxlatitude", &q.maxlatitude},
        std::pair{"minlongitude", &q.minlongitude}, std::pair{"maxlongitude", &q.maxlongitude},
        std::pair{"latitude", &q.latitude}, std::pair{"longitude", &q.longitude},
        std::pair{"minradius", &q.minradius}, std::pair{"maxradius", &q.maxradius}}) {
    auto x = r.number(name);
    if (!x.ok()) return x.status();
    *target = *x;
  }
  for (auto [name, target] : {std::pair{"includerestricted", &q.includerestricted},
                              std::pair{"includeavailability", &q.includeavailability},
                              std::pair{"matchtimeseries", &q.matchtimeseries}}) {
    auto b = r.boolean(name);
    if (!b.ok()) return b.status();
    if (*b) *target = **b;
  }
  if (auto level = r.text("level")) {
    if (*level == "network") {
      q.level = StationLevel::kNetwork;
    } else if (*level == "station") {
      q.level = StationLevel::kStation;
    } else if (*level == "channel") {
      q.level = StationLevel::kChannel;
    } else if (*level == "response") {
      q.level = StationLevel::kResponse;
    } else {
      return Status::invalid_argument(
          fmt::format("level '{}' is not one of network, station, channel, response", level->substr(0, 20)));
    }
  }
  if (auto f = r.text("format")) {
    if (*f == "xml") {
      q.format = StationFormat::kXml;
    } else if (*f == "text") {
      q.format = StationFormat::kText;
    } else {
      return Status::invalid_argument(fmt::format("format '{}' is not xml or text", f->substr(0, 20)));
    }
  }
  return q;
}

}  // namespace

StationService::StationService(const QueryService& query, const StationMetadata* metadata, bool tls,
                               size_t max_post_lines)
    : query_(query), metadata_(metadata), tls_(tls), max_post_lines_(max_post_lines) {}

void StationService::query(const httplib::Request& req, httplib::Response& res) const {
  const auto fail = [&](const Status& s) { send_fdsn_error(kStationService, req, tls_, res, s); };
  auto request = read_fdsn_request(req, kParameters, max_post_lines_);
  if (!request.ok()) return fail(request.status());
  auto nodata = nodata_status(*request);
  if (!nodata.ok()) return fail(nodata.status());
  auto q = read_query(*request);
  if (!q.ok()) return fail(q.status());
  const auto inventory = metadata_ ? metadata_->current() : nullptr;
  if (!inventory || inventory->network_count() == 0) {
    return send_no_data(kStationService, req, tls_, res, *nodata,
                        "No station metadata is loaded on this server (seisvault inventory load): SeisVault answers "
                        "station queries only from StationXML its operator supplies.");
  }
  std::vector<ChannelExtent> catalog;
  if (q->matchtimeseries || q->includeavailability) {
    auto channels = query_.list_channels(storage::ChannelSelection());
    if (!channels.ok()) return fail(channels.status());
    catalog.reserve(channels->size());
    for (const auto& c : *channels) {
      if (c.summary.record_count == 0) continue;
      catalog.push_back({c.source_id, c.summary.first_start_ns, c.summary.last_end_ns});
    }
  }
  auto answer = inventory->query(*q, catalog);
  if (!answer.ok()) return fail(answer.status());
  if (!*answer) return send_no_data(kStationService, req, tls_, res, *nodata, "No metadata matches the selection.");
  res.set_content(std::move(**answer), q->format == StationFormat::kXml ? "application/xml" : "text/plain");
}

void StationService::version(const httplib::Request&, httplib::Response& res) const {
  res.set_content(std::string(kStationService.version), "text/plain");
}

void StationService::wadl(const httplib::Request& req, httplib::Response& res) const {
  const WadlResource kResources[] = {{"query", {kWadlSelectionParameters, kWadlParameters, {}}}};
  res.set_content(fdsn_wadl("station", service_base_url(req, tls_, kStationService), "application/xml text/plain",
                            kResources),
                  "application/xml");
}

}  // namespace seisvault::server
