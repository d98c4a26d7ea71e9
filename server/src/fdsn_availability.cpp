#include "fdsn_availability.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "seisvault/common/contiguity.h"

namespace seisvault::server {

namespace {

__extension__ typedef __int128 Wide;  // times near the ends of TimeNs must not wrap (-Wpedantic needs telling)

// A span with the rate of the sample that ends it: after merge=samplerate the
// contiguity of the next span is judged by the period of the data it follows.
struct RatedSpan {
  TimeNs start_ns = 0;
  TimeNs end_ns = 0;
  double sample_rate = 0;
};

// One datasource of the answer: a channel, plus quality and sample rate
// unless they are merged away.
struct Datasource {
  std::string network, station, location, channel;
  char quality = 0;        // meaningless with merge=quality
  double sample_rate = 0;  // meaningless with merge=samplerate
  TimeNs updated_ns = kTimeMin;
  bool restricted = false;
  std::vector<RatedSpan> spans;
};

// One line of text/geocsv/request output: a timespan (/query) or a whole
// datasource (/extent, earliest to latest).
struct Row {
  size_t ds = 0;
  TimeNs start_ns = 0;
  TimeNs end_ns = 0;
};

// Whether `next` (starting at or after `cur`) joins `cur` into one span.
bool joins(const RatedSpan& cur, const RatedSpan& next, const AvailabilityRequest& r) {
  const Wide due = static_cast<Wide>(cur.end_ns) + sample_period_ns(cur.sample_rate);
  const Wide diff = static_cast<Wide>(next.start_ns) - due;
  const TimeNs tol = contiguity_tolerance_ns(cur.sample_rate);
  if (diff <= tol && -diff <= tol) return true;  // contiguous: always one span
  if (diff > tol) return !r.extent && r.mergegaps_ns && diff <= *r.mergegaps_ns;
  return r.merge_overlap;
}

// Sorts and joins a datasource's spans in place.
void merge_spans(std::vector<RatedSpan>& spans, const AvailabilityRequest& r) {
  std::sort(spans.begin(), spans.end(), [](const RatedSpan& a, const RatedSpan& b) {
    return std::tie(a.start_ns, a.end_ns) < std::tie(b.start_ns, b.end_ns);
  });
  std::vector<RatedSpan> out;
  out.reserve(spans.size());
  for (const RatedSpan& s : spans) {
    if (!out.empty() && joins(out.back(), s, r)) {
      if (s.end_ns > out.back().end_ns) {
        out.back().end_ns = s.end_ns;
        out.back().sample_rate = s.sample_rate;
      }
      continue;
    }
    out.push_back(s);
  }
  spans = std::move(out);
}

// Groups the sources into datasources (merging quality and/or sample rate),
// with spans trimmed to the window and joined. Datasources left without a
// span are dropped.
std::vector<Datasource> build_datasources(std::vector<AvailabilitySource>& sources, const AvailabilityRequest& r) {
  using Key = std::tuple<std::string, std::string, std::string, std::string, char, double>;
  std::map<Key, size_t> index;
  std::vector<Datasource> out;
  for (AvailabilitySource& src : sources) {
    std::vector<RatedSpan> kept;
    for (const AvailabilitySpan& s : src.spans) {
      if (s.end_ns < r.window_start_ns || s.start_ns > r.window_end_ns) continue;
      kept.push_back({std::max(s.start_ns, r.window_start_ns), std::min(s.end_ns, r.window_end_ns), src.sample_rate});
    }
    if (kept.empty()) continue;
    const char quality = r.merge_quality ? 0 : src.quality;
    const double rate = r.merge_samplerate ? 0 : src.sample_rate;
    auto [it, fresh] =
        index.try_emplace(Key{src.network, src.station, src.location, src.channel, quality, rate}, out.size());
    if (fresh) {
      Datasource ds;
      ds.network = std::move(src.network);
      ds.station = std::move(src.station);
      ds.location = std::move(src.location);
      ds.channel = std::move(src.channel);
      ds.quality = quality;
      ds.sample_rate = rate;
      out.push_back(std::move(ds));
    }
    Datasource& ds = out[it->second];
    ds.updated_ns = std::max(ds.updated_ns, src.updated_ns);
    ds.restricted = ds.restricted || src.restricted;
    ds.spans.insert(ds.spans.end(), kept.begin(), kept.end());
  }
  for (Datasource& ds : out) merge_spans(ds.spans, r);
  return out;
}

std::vector<Row> build_rows(const std::vector<Datasource>& ds, const AvailabilityRequest& r) {
  std::vector<Row> rows;
  for (size_t i = 0; i < ds.size(); ++i) {
    if (r.extent) {
      TimeNs latest = ds[i].spans.front().end_ns;
      for (const RatedSpan& s : ds[i].spans) latest = std::max(latest, s.end_ns);
      rows.push_back({i, ds[i].spans.front().start_ns, latest});
    } else {
      for (const RatedSpan& s : ds[i].spans) rows.push_back({i, s.start_ns, s.end_ns});
    }
  }
  return rows;
}

void order_rows(std::vector<Row>& rows, const std::vector<Datasource>& ds, const AvailabilityRequest& r) {
  auto nslc_time_quality_samplerate = [&](const Row& a, const Row& b) {
    const Datasource& x = ds[a.ds];
    const Datasource& y = ds[b.ds];
    if (auto c = std::tie(x.network, x.station, x.location, x.channel) <=>
                 std::tie(y.network, y.station, y.location, y.channel);
        c != 0) {
      return c < 0;
    }
    if (a.start_ns != b.start_ns) return a.start_ns < b.start_ns;
    if (a.end_ns != b.end_ns) return a.end_ns < b.end_ns;
    if (x.quality != y.quality) return x.quality < y.quality;  // equal (0) when merged
    return x.sample_rate < y.sample_rate;
  };
  auto by = [&](auto primary_less) {
    std::stable_sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) {
      if (primary_less(a, b)) return true;
      if (primary_less(b, a)) return false;
      return nslc_time_quality_samplerate(a, b);
    });
  };
  const auto updated = [&](const Row& a) { return ds[a.ds].updated_ns; };
  const auto count = [&](const Row& a) { return ds[a.ds].spans.size(); };
  switch (r.orderby) {
    case AvailabilityOrder::kNsltQualitySamplerate:
      std::stable_sort(rows.begin(), rows.end(), nslc_time_quality_samplerate);
      break;
    case AvailabilityOrder::kLatestUpdate:
      by([&](const Row& a, const Row& b) { return updated(a) < updated(b); });
      break;
    case AvailabilityOrder::kLatestUpdateDesc:
      by([&](const Row& a, const Row& b) { return updated(a) > updated(b); });
      break;
    case AvailabilityOrder::kTimespanCount:
      by([&](const Row& a, const Row& b) { return count(a) < count(b); });
      break;
    case AvailabilityOrder::kTimespanCountDesc:
      by([&](const Row& a, const Row& b) { return count(a) > count(b); });
      break;
  }
}

// "2004-11-22T18:56:51.535840Z": format_iso8601's nine digits cut to six,
// which rounds down (the string is already floored to the nanosecond).
std::string span_time(TimeNs t) {
  std::string s = format_iso8601(t);  // "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ", always 30 chars
  s.resize(26);
  s += 'Z';
  return s;
}

// "2017-11-22T21:42:07Z": whole seconds, for Updated and "created".
std::string second_time(TimeNs t) {
  std::string s = format_iso8601(t);
  s.resize(19);
  s += 'Z';
  return s;
}

// The shortest text that reads back as the same double, always with a
// decimal point as the services print rates: "40.0", "0.1", "1e-05".
std::string rate_text(double rate) {
  std::string s = fmt::format("{}", rate);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

std::string_view restriction(const Datasource& d) { return d.restricted ? "RESTRICTED" : "OPEN"; }

struct Column {
  std::string_view name, unit, type;
};

std::vector<Column> columns(const AvailabilityRequest& r) {
  std::vector<Column> c = {{"Network", "unitless", "string"},
                           {"Station", "unitless", "string"},
                           {"Location", "unitless", "string"},
                           {"Channel", "unitless", "string"}};
  if (!r.merge_quality) c.push_back({"Quality", "unitless", "string"});
  if (!r.merge_samplerate) c.push_back({"SampleRate", "hertz", "float"});
  c.push_back({"Earliest", "ISO_8601", "datetime"});
  c.push_back({"Latest", "ISO_8601", "datetime"});
  if (r.extent || r.show_latestupdate) c.push_back({"Updated", "ISO_8601", "datetime"});
  if (r.extent) {
    c.push_back({"TimeSpans", "unitless", "integer"});
    c.push_back({"Restriction", "unitless", "string"});
  }
  return c;
}

// The cells of one row, in the order of columns(r).
std::vector<std::string> cells(const Row& row, const Datasource& d, const AvailabilityRequest& r,
                               std::string_view blank_location) {
  std::vector<std::string> c = {d.network, d.station, d.location.empty() ? std::string(blank_location) : d.location,
                                d.channel};
  if (!r.merge_quality) c.emplace_back(1, d.quality);
  if (!r.merge_samplerate) c.push_back(rate_text(d.sample_rate));
  c.push_back(span_time(row.start_ns));
  c.push_back(span_time(row.end_ns));
  if (r.extent || r.show_latestupdate) c.push_back(second_time(d.updated_ns));
  if (r.extent) {
    c.push_back(std::to_string(d.spans.size()));
    c.emplace_back(restriction(d));
  }
  return c;
}

std::string render_text(const std::vector<Row>& rows, const std::vector<Datasource>& ds,
                        const AvailabilityRequest& r) {
  std::vector<std::vector<std::string>> table;
  table.reserve(rows.size() + 1);
  std::vector<std::string> header;
  for (const Column& c : columns(r)) header.push_back(fmt::format("{}{}", header.empty() ? "#" : "", c.name));
  table.push_back(std::move(header));
  for (const Row& row : rows) table.push_back(cells(row, ds[row.ds], r, "--"));

  std::vector<size_t> width(table.front().size(), 0);
  for (const auto& line : table) {
    for (size_t i = 0; i < line.size(); ++i) width[i] = std::max(width[i], line[i].size());
  }
  std::string out;
  for (const auto& line : table) {
    for (size_t i = 0; i < line.size(); ++i) {
      out += line[i];
      if (i + 1 < line.size()) out.append(width[i] - line[i].size() + 1, ' ');
    }
    out += '\n';
  }
  return out;
}

std::string render_geocsv(const std::vector<Row>& rows, const std::vector<Datasource>& ds,
                          const AvailabilityRequest& r) {
  const std::vector<Column> cols = columns(r);
  std::string unit = "#field_unit: ", type = "#field_type: ", names;
  for (size_t i = 0; i < cols.size(); ++i) {
    const std::string_view sep = i == 0 ? "" : "|";
    unit += fmt::format("{}{}", sep, cols[i].unit);
    type += fmt::format("{}{}", sep, cols[i].type);
    names += fmt::format("{}{}", sep, cols[i].name);
  }
  std::string out = "#dataset: GeoCSV 2.0\n#delimiter: |\n" + unit + "\n" + type + "\n" + names + "\n";
  for (const Row& row : rows) {
    out += fmt::format("{}\n", fmt::join(cells(row, ds[row.ds], r, ""), "|"));
  }
  return out;
}

std::string render_request(const std::vector<Row>& rows, const std::vector<Datasource>& ds) {
  std::string out;
  for (const Row& row : rows) {
    const Datasource& d = ds[row.ds];
    out += fmt::format("{} {} {} {} {} {}\n", d.network, d.station, d.location.empty() ? "--" : d.location,
                       d.channel, span_time(row.start_ns), span_time(row.end_ns));
  }
  return out;
}

std::string render_json(const std::vector<Row>& rows, const std::vector<Datasource>& ds,
                        const AvailabilityRequest& r, TimeNs created_ns) {
  using nlohmann::ordered_json;
  auto identity = [&](const Datasource& d) {
    ordered_json o;
    o["network"] = d.network;
    o["station"] = d.station;
    o["location"] = d.location;
    o["channel"] = d.channel;
    if (!r.merge_quality) o["quality"] = std::string(1, d.quality);
    if (!r.merge_samplerate) o["samplerate"] = d.sample_rate;
    return o;
  };
  ordered_json sources = ordered_json::array();
  if (r.extent) {
    for (const Row& row : rows) {
      const Datasource& d = ds[row.ds];
      ordered_json o = identity(d);
      o["earliest"] = span_time(row.start_ns);
      o["latest"] = span_time(row.end_ns);
      o["updated"] = second_time(d.updated_ns);
      o["timespanCount"] = d.spans.size();
      o["restriction"] = restriction(d);
      sources.push_back(std::move(o));
    }
  } else {
    // Datasources in the order their first timespan appears among the rows;
    // a datasource's timespans keep the rows' order.
    std::map<size_t, size_t> position;
    for (const Row& row : rows) {
      auto [it, fresh] = position.try_emplace(row.ds, sources.size());
      if (fresh) {
        const Datasource& d = ds[row.ds];
        ordered_json o = identity(d);
        if (r.show_latestupdate) o["updated"] = second_time(d.updated_ns);
        o["timespans"] = ordered_json::array();
        sources.push_back(std::move(o));
      }
      sources[it->second]["timespans"].push_back(ordered_json::array({span_time(row.start_ns), span_time(row.end_ns)}));
    }
  }
  ordered_json doc;
  doc["created"] = second_time(created_ns);
  doc["version"] = 1.0;
  doc["datasources"] = std::move(sources);
  // Codes come from validated records, but a stray byte must not throw here.
  return doc.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

}  // namespace

std::optional<std::string> render_availability(std::vector<AvailabilitySource> sources, const AvailabilityRequest& r,
                                               TimeNs created_ns) {
  const std::vector<Datasource> ds = build_datasources(sources, r);
  std::vector<Row> rows = build_rows(ds, r);
  order_rows(rows, ds, r);
  if (r.limit && rows.size() > *r.limit) rows.resize(*r.limit);
  if (rows.empty()) return std::nullopt;
  switch (r.format) {
    case AvailabilityFormat::kText:
      return render_text(rows, ds, r);
    case AvailabilityFormat::kGeocsv:
      return render_geocsv(rows, ds, r);
    case AvailabilityFormat::kJson:
      return render_json(rows, ds, r, created_ns);
    case AvailabilityFormat::kRequest:
      return render_request(rows, ds);
  }
  return std::nullopt;
}

std::string_view availability_content_type(AvailabilityFormat f) {
  switch (f) {
    case AvailabilityFormat::kGeocsv:
      return "text/csv";
    case AvailabilityFormat::kJson:
      return "application/json";
    case AvailabilityFormat::kText:
    case AvailabilityFormat::kRequest:
      break;
  }
  return "text/plain";
}

}  // namespace seisvault::server
