#include "fdsn_dataselect.h"

#include <memory>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "fdsn_wadl.h"

namespace seisvault::server {

namespace {

constexpr FdsnParameter kParameters[] = {
    {"starttime", "start"}, {"endtime", "end"},         {"network", "net"},   {"station", "sta"},
    {"location", "loc"},    {"channel", "cha"},         {"quality", ""},      {"minimumlength", ""},
    {"longestonly", ""},    {"format", ""},             {"nodata", ""},
};

constexpr WadlParameter kWadlParameters[] = {
    {"quality", "xs:string", "B", "D R Q M B", "Data quality indicator of the records; B: any"},
    {"minimumlength", "xs:double", "0.0", "", "Only continuous spans at least this many seconds long"},
    {"longestonly", "xs:boolean", "false", "", "Only the longest continuous span of each channel"},
    {"format", "xs:string", "miniseed", "miniseed", "Response format"},
    {"nodata", "xs:int", "204", "204 404", "HTTP status when no data matches"},
};

constexpr size_t kChunkBytes = 256 * 1024;  // records are gathered into writes of about this size

Result<RecordFilter> read_filter(const FdsnRequest& r) {
  RecordFilter f;
  if (auto q = r.text("quality")) {
    if (*q == "D" || *q == "R" || *q == "Q" || *q == "M") {
      f.quality = (*q)[0];
    } else if (*q != "B") {
      return Status::invalid_argument(fmt::format("quality '{}' is not one of D, R, Q, M, B", q->substr(0, 20)));
    }
  }
  auto min_len = r.number("minimumlength");
  if (!min_len.ok()) return min_len.status();
  if (*min_len) {
    if (**min_len < 0 || **min_len > 1e9) {
      return Status::invalid_argument("minimumlength must be a number of seconds from 0 to 1e9");
    }
    f.minimum_length_ns = static_cast<TimeNs>(**min_len * 1e9);
  }
  auto longest = r.boolean("longestonly");
  if (!longest.ok()) return longest.status();
  f.longest_only = longest->value_or(false);
  if (auto fmt_ = r.text("format"); fmt_ && *fmt_ != "miniseed" && *fmt_ != "mseed") {
    return Status::invalid_argument(fmt::format("format '{}' is not supported: this service returns miniseed",
                                                fmt_->substr(0, 20)));
  }
  return f;
}

}  // namespace

DataselectService::DataselectService(const QueryService& query, bool tls, size_t max_post_lines)
    : query_(query), tls_(tls), max_post_lines_(max_post_lines) {}

void DataselectService::query(const httplib::Request& req, httplib::Response& res) const {
  const auto fail = [&](const Status& s) { send_fdsn_error(kDataselectService, req, tls_, res, s); };
  auto request = read_fdsn_request(req, kParameters, max_post_lines_);
  if (!request.ok()) return fail(request.status());
  auto nodata = nodata_status(*request);
  if (!nodata.ok()) return fail(nodata.status());
  auto filter = read_filter(*request);
  if (!filter.ok()) return fail(filter.status());
  auto lines = record_queries(query_, *request);
  if (!lines.ok()) return fail(lines.status());
  auto plan = query_.plan(*lines, *filter);
  if (!plan.ok()) return fail(plan.status());
  if (plan->empty()) {
    return send_no_data(kDataselectService, req, tls_, res, *nodata, "No data matches the selection.");
  }
  // Decide the status before the first byte: no record is "no data", too
  // many is 413. Data only grows, so what was found here is there when
  // streamed.
  auto size = query_.measure(*plan, *filter);
  if (!size.ok()) return fail(size.status());
  if (size->records == 0) {
    return send_no_data(kDataselectService, req, tls_, res, *nodata, "No data matches the selection.");
  }
  auto shared_plan = std::make_shared<ReadPlan>(std::move(*plan));
  const RecordFilter f = *filter;
  const QueryService* q = &query_;
  const std::atomic<bool>* stopping = &shutting_down_;
  res.status = 200;
  res.set_chunked_content_provider("application/vnd.fdsn.mseed", [q, shared_plan, f, stopping](size_t,
                                                                                            httplib::DataSink& sink) {
    std::string buffer;
    buffer.reserve(kChunkBytes + 8192);
    bool gone = false;
    auto st = q->read_plan(*shared_plan, f, [&](const storage::StoredRecord& r) {
      if (stopping->load(std::memory_order_relaxed)) {
        gone = true;
        return false;
      }
      buffer.append(reinterpret_cast<const char*>(r.bytes.data()), r.bytes.size());
      if (buffer.size() >= kChunkBytes) {
        if (!sink.write(buffer.data(), buffer.size())) {
          gone = true;
          return false;
        }
        buffer.clear();
      }
      return true;
    });
    // A failure after the status went out can only end the stream early:
    // returning false drops the connection, so the client sees a truncated
    // chunked body, never a complete-looking one.
    if (!st.ok()) spdlog::error("dataselect: the store failed while streaming, response cut short: {}", st.message());
    if (gone || !st.ok()) return false;
    if (!buffer.empty() && !sink.write(buffer.data(), buffer.size())) return false;
    sink.done();
    return true;
  });
}

void DataselectService::version(const httplib::Request&, httplib::Response& res) const {
  res.set_content(std::string(kDataselectService.version), "text/plain");
}

void DataselectService::wadl(const httplib::Request& req, httplib::Response& res) const {
  const WadlResource kResources[] = {{"query", {kWadlSelectionParameters, kWadlParameters, {}}}};
  res.set_content(fdsn_wadl("dataselect", service_base_url(req, tls_, kDataselectService), "application/vnd.fdsn.mseed",
                            kResources),
                  "application/xml");
}

}  // namespace seisvault::server
