#include "fdsn_wadl.h"

#include <fmt/format.h>

namespace seisvault::server {

namespace {

std::string xml_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

void append_params(std::string& out, std::span<const WadlParameter> parameters) {
  for (const auto& p : parameters) {
    out += fmt::format("          <param name=\"{}\" style=\"query\" type=\"{}\"", p.name, p.type);
    if (!p.default_value.empty()) out += fmt::format(" default=\"{}\"", xml_escape(p.default_value));
    out += ">\n";
    out += fmt::format("            <doc title=\"{}\">{}</doc>\n", p.name, xml_escape(p.doc));
    std::string_view opts = p.options;
    while (!opts.empty()) {
      const auto sp = opts.find(' ');
      out += fmt::format("            <option value=\"{}\"/>\n", xml_escape(opts.substr(0, sp)));
      opts = sp == std::string_view::npos ? std::string_view() : opts.substr(sp + 1);
    }
    out += "          </param>\n";
  }
}

void append_media(std::string& out, std::string_view media_types) {
  while (!media_types.empty()) {
    const auto sp = media_types.find(' ');
    out += fmt::format("          <representation mediaType=\"{}\"/>\n", media_types.substr(0, sp));
    media_types = sp == std::string_view::npos ? std::string_view() : media_types.substr(sp + 1);
  }
}

constexpr WadlParameter kSelection[] = {
    {"starttime", "xs:dateTime", "", "", "Start of the time window (UTC), e.g. 2010-02-27T06:30:00.000000"},
    {"start", "xs:dateTime", "", "", "Alias of starttime"},
    {"endtime", "xs:dateTime", "", "", "End of the time window (UTC)"},
    {"end", "xs:dateTime", "", "", "Alias of endtime"},
    {"network", "xs:string", "*", "", "Network codes: comma list, wildcards ? and *"},
    {"net", "xs:string", "*", "", "Alias of network"},
    {"station", "xs:string", "*", "", "Station codes: comma list, wildcards ? and *"},
    {"sta", "xs:string", "*", "", "Alias of station"},
    {"location", "xs:string", "*", "", "Location codes: comma list, wildcards ? and *, -- for blank"},
    {"loc", "xs:string", "*", "", "Alias of location"},
    {"channel", "xs:string", "*", "", "Channel codes: comma list, wildcards ? and *"},
    {"cha", "xs:string", "*", "", "Alias of channel"},
};

}  // namespace

const std::span<const WadlParameter> kWadlSelectionParameters(kSelection);

std::string fdsn_wadl(std::string_view service, std::string_view base_url, std::string_view media_types,
                      std::span<const WadlResource> resources) {
  std::string out;
  out.reserve(16384);
  out += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<application xmlns=\"http://wadl.dev.java.net/2009/02\" xmlns:xs=\"http://www.w3.org/2001/XMLSchema\">\n";
  out += fmt::format("  <doc title=\"FDSN {} web service 1 (SeisVault)\"/>\n", xml_escape(service));
  out += fmt::format("  <resources base=\"{}\">\n", xml_escape(base_url));
  for (const auto& [resource, parameter_lists] : resources) {
    out += fmt::format("    <resource path=\"{}\">\n", resource);
    out += fmt::format("      <method name=\"GET\" id=\"{}\">\n        <request>\n", resource);
    for (const auto& parameters : parameter_lists) append_params(out, parameters);
    out += "        </request>\n        <response status=\"200\">\n";
    append_media(out, media_types);
    out += "        </response>\n";
    out += "        <response status=\"204 400 401 404 413 414 500 503\">\n"
           "          <representation mediaType=\"text/plain\"/>\n        </response>\n";
    out += "      </method>\n";
    out += fmt::format("      <method name=\"POST\" id=\"{}POST\">\n", resource);
    out += "        <request>\n          <representation mediaType=\"text/plain\"/>\n        </request>\n"
           "        <response status=\"200\">\n";
    append_media(out, media_types);
    out += "        </response>\n";
    out += "        <response status=\"204 400 401 404 413 414 500 503\">\n"
           "          <representation mediaType=\"text/plain\"/>\n        </response>\n";
    out += "      </method>\n    </resource>\n";
  }
  out += "    <resource path=\"version\">\n      <method name=\"GET\">\n        <response>\n"
         "          <representation mediaType=\"text/plain\"/>\n        </response>\n      </method>\n"
         "    </resource>\n";
  out += "    <resource path=\"application.wadl\">\n      <method name=\"GET\">\n        <response>\n"
         "          <representation mediaType=\"application/xml\"/>\n        </response>\n      </method>\n"
         "    </resource>\n";
  out += "  </resources>\n</application>\n";
  return out;
}

}  // namespace seisvault::server
