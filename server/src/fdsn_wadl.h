// FdsnWadl: the application.wadl documents of the FDSN services.
//
// What clients read from them (ObsPy's WADLParser, the strictest): the
// base URL of <resources> must name the service ("dataselect", "station");
// the parameters are those of <method name="GET" id="query">; each param's
// type must contain one of "date", "string", "double"/"float", "int"/"long"
// or "bool" (ObsPy raises on any other, e.g. "xs:token"), and every
// parameter a client sends beyond the standard ones must be declared, or
// ObsPy refuses to send it. Aliases are declared too (ObsPy maps them to
// the long names). Pure functions: thread-safe.
#pragma once

#include <array>
#include <span>
#include <string>
#include <string_view>

namespace seisvault::server {

struct WadlParameter {
  std::string_view name;
  std::string_view type;          // "xs:dateTime", "xs:string", "xs:double", "xs:int", "xs:boolean"
  std::string_view default_value; // "" when none
  std::string_view options;       // space-separated allowed values, "" when any
  std::string_view doc;
};

// A resource that takes parameters ("query", availability's "extent"), with
// exactly the parameters it accepts: a client builds requests from them.
struct WadlResource {
  std::string_view path;
  std::array<std::span<const WadlParameter>, 3> parameters;  // declared in this order
};

// The selection and time parameters every service shares, with their
// aliases: starttime/start, endtime/end, network/net, station/sta,
// location/loc, channel/cha.
extern const std::span<const WadlParameter> kWadlSelectionParameters;

// A WADL document for `service` ("dataselect", "station", "availability")
// served at `base_url` ("http://host:port/fdsnws/dataselect/1/"): for each
// of `resources` a GET method (id = its path) declaring its parameters and
// a POST method (bulk), answering `media_types` (space-separated); then the
// version and application.wadl resources.
std::string fdsn_wadl(std::string_view service, std::string_view base_url, std::string_view media_types,
                      std::span<const WadlResource> resources);

}  // namespace seisvault::server
