// FdsnRequest: the parameters of one FDSN web service request, checked
// against the service's parameter list, and the FDSN error document.
//
// The FDSN web service conventions (fdsnws 1.x): parameters have a long name
// and often a short alias (network/net, starttime/start, ...); a parameter
// the service does not know is an error (400), as is one given twice; times
// are UTC ISO 8601 ("2010-02-27T06:30:00.019536", with or without 'Z', or a
// date alone); booleans are true/false in any case. POST requests carry the
// same key=value pairs one per line, then one selection per line:
// "NET STA LOC CHA START END" ("--" for a blank location, "*" for an open
// time). Pure values: thread-safe to read.
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "seisvault/common/status.h"
#include "seisvault/common/time.h"

namespace seisvault::server {

// One parameter a service accepts.
struct FdsnParameter {
  std::string_view name;   // canonical name ("starttime")
  std::string_view alias;  // "" or the short form ("start")
};

// One selection line of a POST body.
struct FdsnSelectionLine {
  std::string network, station, location, channel;
  std::optional<TimeNs> start, end;
};

class FdsnRequest {
 public:
  // From the decoded query string (name, value pairs in order). InvalidArgument names an unknown or
  // repeated parameter, or one given under both its names.
  static Result<FdsnRequest> from_query(const std::multimap<std::string, std::string>& query,
                                        std::span<const FdsnParameter> accepted);
  // From a POST body: key=value lines, then selection lines; blank lines are
  // skipped; the last line may lack its newline. `max_lines`: selection lines at most.
  static Result<FdsnRequest> from_post(std::string_view body, std::span<const FdsnParameter> accepted,
                                       size_t max_lines);

  // The value of a parameter by canonical name, nullopt when absent.
  std::optional<std::string_view> text(std::string_view name) const;
  // Typed values; InvalidArgument naming the parameter and the accepted form.
  Result<std::optional<TimeNs>> time(std::string_view name) const;
  Result<std::optional<bool>> boolean(std::string_view name) const;
  Result<std::optional<double>> number(std::string_view name) const;
  Result<std::optional<int64_t>> integer(std::string_view name) const;

  // POST selection lines (empty for GET).
  const std::vector<FdsnSelectionLine>& lines() const { return lines_; }
  bool is_post() const { return post_; }

 private:
  std::map<std::string, std::string, std::less<>> values_;
  std::vector<FdsnSelectionLine> lines_;
  bool post_ = false;
};

// Parses an FDSN time: ISO 8601 date-time with up to nine fractional digits
// and an optional 'Z', or a date alone (midnight).
Result<TimeNs> parse_fdsn_time(std::string_view text);

// An ISO 8601 time with six fractional digits and 'Z' (what FDSN services write).
std::string format_fdsn_time(TimeNs t);

// The FDSN error document (text/plain):
//   Error 400: Bad Request
//   <blank>
//   <detail>
//   <blank>
//   Usage details are available from <documentation>
//   <blank>
//   Request:
//   <url>
//   <blank>
//   Request Submitted:
//   <UTC time>
//   <blank>
//   Service version:
//   <version>
std::string fdsn_error_document(int http_status, std::string_view detail, std::string_view url,
                                std::string_view documentation, std::string_view service_version);

// The reason phrase of an HTTP status ("Bad Request").
std::string_view http_reason(int status);

}  // namespace seisvault::server
