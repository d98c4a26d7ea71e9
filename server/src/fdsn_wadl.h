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

// A WADL document for `service` ("dataselect", "station", "availability")
// served at `base_url` ("http://host:port/fdsnws/dataselect/1/"), with a
// GET query method taking `parameters`, a POST query method (bulk), and the
// version and application.wadl resources. `extra_resources`: other GET
// resources without parameters (availability's "extent" is declared with
// the same parameters as query when listed in `with_query_parameters`).
std::string fdsn_wadl(std::string_view service, std::string_view base_url,
                      std::span<const WadlParameter> parameters, std::string_view query_media_types,
                      std::span<const std::string_view> resources_with_parameters);

}  // namespace seisvault::server
