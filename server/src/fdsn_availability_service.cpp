#include "fdsn_availability_service.h"

#include <fmt/format.h>

#include "seisvault/storage/channel_selection.h"
#include "fdsn_availability.h"
#include "fdsn_wadl.h"

namespace seisvault::server {

namespace {

constexpr FdsnParameter kQueryParameters[] = {
    {"starttime", "start"}, {"endtime", "end"}, {"network", "net"}, {"station", "sta"},
    {"location", "loc"},    {"channel", "cha"}, {"quality", ""},    {"merge", ""},
    {"mergegaps", ""},      {"orderby", ""},    {"limit", ""},      {"includerestricted", ""},
    {"format", ""},         {"nodata", ""},     {"show", ""},
};
constexpr FdsnParameter kExtentParameters[] = {
    {"starttime", "start"}, {"endtime", "end"}, {"network", "net"}, {"station", "sta"},
    {"location", "loc"},    {"channel", "cha"}, {"quality", ""},    {"merge", ""},
    {"orderby", ""},        {"limit", ""},      {"includerestricted", ""},
    {"format", ""},         {"nodata", ""},
};

constexpr WadlParameter kWadlParameters[] = {
    {"quality", "xs:string", "*", "D R Q M *", "Data quality indicator; * any"},
    {"merge", "xs:string", "", "", "Comma list of samplerate, quality, and for query overlap"},
    {"orderby", "xs:string", "nslc_time_quality_samplerate",
     "nslc_time_quality_samplerate latestupdate latestupdate_desc timespancount timespancount_desc", "Row order"},
    {"limit", "xs:int", "", "", "Rows at most"},
    {"includerestricted", "xs:boolean", "true", "", "All data here is open"},
    {"format", "xs:string", "text", "text geocsv json request", "Response format"},
    {"nodata", "xs:int", "204", "204 404", "HTTP status when no data matches"},
};
// What /query takes beyond /extent.
constexpr WadlParameter kQueryOnlyWadlParameters[] = {
    {"mergegaps", "xs:double", "", "", "query: join spans separated by gaps up to this many seconds"},
    {"show", "xs:string", "", "latestupdate", "query: add the time of the latest update"},
};

Result<AvailabilityRequest> read_options(const FdsnRequest& r, bool extent) {
  AvailabilityRequest a;
  a.extent = extent;
  if (auto m = r.text("merge")) {
    std::string_view rest = *m;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      const auto item = rest.substr(0, comma);
      if (item == "samplerate") {
        a.merge_samplerate = true;
      } else if (item == "quality") {
        a.merge_quality = true;
      } else if (item == "overlap" && !extent) {
        a.merge_overlap = true;
      } else {
        return Status::invalid_argument(fmt::format("merge '{}' is not one of samplerate, quality{}",
                                                    item.substr(0, 20), extent ? "" : ", overlap"));
      }
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
  }
  auto gaps = r.number("mergegaps");
  if (!gaps.ok()) return gaps.status();
  if (*gaps) {
    if (**gaps < 0 || **gaps > 1e9) return Status::invalid_argument("mergegaps must be seconds from 0 to 1e9");
    a.mergegaps_ns = static_cast<TimeNs>(**gaps * 1e9);
  }
  if (auto o = r.text("orderby")) {
    if (*o == "nslc_time_quality_samplerate") {
      a.orderby = AvailabilityOrder::kNsltQualitySamplerate;
    } else if (*o == "latestupdate") {
      a.orderby = AvailabilityOrder::kLatestUpdate;
    } else if (*o == "latestupdate_desc") {
      a.orderby = AvailabilityOrder::kLatestUpdateDesc;
    } else if (*o == "timespancount") {
      a.orderby = AvailabilityOrder::kTimespanCount;
    } else if (*o == "timespancount_desc") {
      a.orderby = AvailabilityOrder::kTimespanCountDesc;
    } else {
      return Status::invalid_argument(fmt::format(
          "orderby '{}' is not one of nslc_time_quality_samplerate, latestupdate, latestupdate_desc, "
          "timespancount, timespancount_desc",
          o->substr(0, 30)));
    }
  }
  auto limit = r.integer("limit");
  if (!limit.ok()) return limit.status();
  if (*limit) {
    if (**limit < 1) return Status::invalid_argument("limit must be a positive number of rows");
    a.limit = static_cast<size_t>(**limit);
  }
  auto restricted = r.boolean("includerestricted");
  if (!restricted.ok()) return restricted.status();
  if (auto f = r.text("format")) {
    if (*f == "text") {
      a.format = AvailabilityFormat::kText;
    } else if (*f == "geocsv") {
      a.format = AvailabilityFormat::kGeocsv;
    } else if (*f == "json") {
      a.format = AvailabilityFormat::kJson;
    } else if (*f == "request") {
      a.format = AvailabilityFormat::kRequest;
    } else {
      return Status::invalid_argument(
          fmt::format("format '{}' is not one of text, geocsv, json, request", f->substr(0, 20)));
    }
  }
  if (auto show = r.text("show")) {
    if (*show != "latestupdate") return Status::invalid_argument("show takes only latestupdate");
    a.show_latestupdate = true;
  }
  return a;
}

Result<std::optional<char>> read_quality(const FdsnRequest& r) {
  const auto q = r.text("quality");
  if (!q || *q == "*" || *q == "B") return std::optional<char>();
  if (*q == "D" || *q == "R" || *q == "Q" || *q == "M") return std::optional<char>((*q)[0]);
  return Status::invalid_argument(fmt::format("quality '{}' is not one of D, R, Q, M, *", q->substr(0, 20)));
}


}  // namespace

AvailabilityService::AvailabilityService(const QueryService& query, bool tls, size_t max_post_lines)
    : query_(query), tls_(tls), max_post_lines_(max_post_lines) {}

void AvailabilityService::query(const httplib::Request& req, httplib::Response& res) const { answer(req, res, false); }
void AvailabilityService::extent(const httplib::Request& req, httplib::Response& res) const { answer(req, res, true); }

void AvailabilityService::answer(const httplib::Request& req, httplib::Response& res, bool extent) const {
  const auto fail = [&](const Status& s) { send_fdsn_error(kAvailabilityService, req, tls_, res, s); };
  auto request = extent ? read_fdsn_request(req, kExtentParameters, max_post_lines_)
                        : read_fdsn_request(req, kQueryParameters, max_post_lines_);
  if (!request.ok()) return fail(request.status());
  auto nodata = nodata_status(*request);
  if (!nodata.ok()) return fail(nodata.status());
  auto options = read_options(*request, extent);
  if (!options.ok()) return fail(options.status());
  auto quality = read_quality(*request);
  if (!quality.ok()) return fail(quality.status());

  auto queries = record_queries(query_, *request);
  if (!queries.ok()) return fail(queries.status());
  const auto& lines = *queries;

  std::vector<AvailabilitySource> sources;
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto what = lines.size() == 1 ? std::string("the window") : fmt::format("the window of line {}", i + 1);
    if (auto st = query_.check_window(lines[i].selection, lines[i].window, what); !st.ok()) return fail(st);
    auto spans = query_.availability_by_quality(lines[i], std::nullopt, *quality);
    if (!spans.ok()) return fail(spans.status());
    for (auto& q : *spans) {
      AvailabilitySource s;
      // An id of another shape (never catalogued) goes whole into network.
      const auto codes = storage::split_source_id(q.source_id)
                             .value_or(std::array<std::string_view, 4>{q.source_id, {}, {}, {}});
      s.network = codes[0];
      s.station = codes[1];
      s.location = codes[2];
      s.channel = codes[3];
      s.quality = q.quality;
      s.sample_rate = q.sample_rate;
      s.updated_ns = q.updated_ns;
      s.spans.reserve(q.spans.size());
      for (const auto& span : q.spans) {
        s.spans.push_back({std::max(span.start_ns, lines[i].window.begin_ns),
                           std::min(span.end_ns, lines[i].window.end_ns)});
      }
      sources.push_back(std::move(s));
    }
  }
  if (lines.size() == 1) {
    options->window_start_ns = lines[0].window.begin_ns;
    options->window_end_ns = lines[0].window.end_ns;
  }
  auto body = render_availability(std::move(sources), *options, now_ns());
  if (!body) return send_no_data(kAvailabilityService, req, tls_, res, *nodata, "No data matches the selection.");
  res.set_content(std::move(*body), std::string(availability_content_type(options->format)));
}

void AvailabilityService::version(const httplib::Request&, httplib::Response& res) const {
  res.set_content(std::string(kAvailabilityService.version), "text/plain");
}

void AvailabilityService::wadl(const httplib::Request& req, httplib::Response& res) const {
  const WadlResource kResources[] = {{"extent", {kWadlSelectionParameters, kWadlParameters, {}}},
                                     {"query", {kWadlSelectionParameters, kWadlParameters, kQueryOnlyWadlParameters}}};
  res.set_content(fdsn_wadl("availability", service_base_url(req, tls_, kAvailabilityService),
                            "text/plain text/csv application/json", kResources),
                  "application/xml");
}

}  // namespace seisvault::server
