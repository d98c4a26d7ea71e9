#include "seedlink_session.h"

#include <fmt/format.h>

#include "seedlink_text.h"

namespace seisvault::server::seedlink {

void Session::ok(std::string& out) const { out += "OK\r\n"; }

void Session::error(std::string& out, std::string_view code, std::string_view message) const {
  if (v4_) {
    fmt::format_to(std::back_inserter(out), "ERROR {} {}\r\n", code, message);
  } else if (extended_replies_) {
    fmt::format_to(std::back_inserter(out), "ERROR\r{} {}\r\n", code, message);
  } else {
    out += "ERROR\r\n";
  }
}

void Session::line_too_long(std::string& out) {
  if (feeding_) return;
  error(out, "ARGUMENTS", fmt::format("command line longer than {} characters", kMaxCommandLine));
}

StationRequest& Session::current() { return stations_.empty() ? global_ : stations_.back(); }

FeedRequest Session::take_feed() {
  FeedRequest f;
  f.protocol_major = protocol_major();
  f.dialup = dialup_;
  if (stations_.empty()) {
    f.stations.push_back(global_);
  } else {
    f.stations = stations_;
    // v3/ringserver: selectors given before the first STATION apply to
    // every station that has none of its own.
    if (!global_.selectors.empty()) {
      for (auto& s : f.stations) {
        if (s.selectors.empty()) {
          s.selectors = global_.selectors;
          s.selector_texts = global_.selector_texts;
        }
      }
    }
  }
  return f;
}

Session::Next Session::start(bool dialup) {
  dialup_ = dialup;
  feeding_ = true;
  return Next::kStartFeed;
}

Session::Next Session::handle(std::string_view line, std::string& out) {
  const Command cmd = parse_command(line);
  if (cmd.word.empty()) return Next::kContinue;
  if (feeding_) {
    // Only INFO (keepalives, e.g. libslink's "INFO ID") and BYE; anything
    // else would be answered into the packet stream.
    if (cmd.verb == Verb::kInfo && !cmd.args.empty()) out += host_.info(protocol_major(), cmd.args[0]);
    if (cmd.verb == Verb::kBye) return Next::kClose;
    return Next::kContinue;
  }
  // BATCH (v3): STATION, SELECT, DATA, FETCH and TIME go unanswered.
  const bool quiet = batch_ && !v4_;
  std::string ignored;
  std::string& answer = quiet ? ignored : out;

  switch (cmd.verb) {
    case Verb::kHello:
      out += host_.hello();
      return Next::kContinue;

    case Verb::kSlproto: {
      auto v = parse_slproto_arguments(cmd.args);
      if (!v.ok()) {
        error(out, "ARGUMENTS", v.status().message());
      } else if (v->major == 4 && v->minor == 0) {
        v4_ = true;
        ok(out);
      } else if (v->major == 3) {
        v4_ = false;
        ok(out);
      } else {
        error(out, "UNSUPPORTED", fmt::format("protocol {}.{} is not offered: SLPROTO:4.0 and SLPROTO:3.1 are",
                                              v->major, v->minor));
      }
      return Next::kContinue;
    }

    case Verb::kCapabilities:
      // v3: "CAPABILITIES EXTREPLY ..." (libslink aborts on an ERROR here).
      for (const auto& a : cmd.args) {
        if (a == "EXTREPLY" || a == "extreply") extended_replies_ = true;
      }
      ok(out);
      return Next::kContinue;

    case Verb::kGetCapabilities:
      out += "SLPROTO:4.0 SLPROTO:3.1 TIME\r\n";
      return Next::kContinue;

    case Verb::kUserAgent:
      user_agent_.clear();
      for (const auto& a : cmd.args) {
        if (!user_agent_.empty()) user_agent_ += ' ';
        user_agent_ += a;
      }
      if (user_agent_.size() > 200) user_agent_.resize(200);
      ok(out);
      return Next::kContinue;

    case Verb::kAuth:
      error(out, "UNSUPPORTED", "AUTH is not offered: access is by client address (see the server's --seedlink-allow)");
      return Next::kContinue;

    case Verb::kStation: {
      auto p = v4_ ? StationPattern::parse_v4(cmd.args) : StationPattern::parse_v3(cmd.args);
      if (!p.ok()) {
        error(answer, "ARGUMENTS", p.status().message());
        return Next::kContinue;
      }
      std::string why;
      if (!host_.station_allowed(*p, why)) {
        error(answer, "UNAUTHORIZED", why);
        return Next::kContinue;
      }
      if (stations_.size() >= kMaxStations) {
        error(answer, "LIMIT", fmt::format("at most {} STATION commands per connection", kMaxStations));
        return Next::kContinue;
      }
      stations_.push_back(StationRequest{std::move(p).value(), {}, {}, {}, false});
      ok(answer);
      return Next::kContinue;
    }

    case Verb::kSelect: {
      auto& req = current();
      if (cmd.args.empty()) {
        if (v4_) {
          error(answer, "ARGUMENTS", "SELECT needs a pattern");
        } else {
          req.selectors.clear();  // v3: SELECT alone clears the selectors
          req.selector_texts.clear();
          ok(answer);
        }
        return Next::kContinue;
      }
      for (const auto& a : cmd.args) {
        auto s = v4_ ? Selector::parse_v4(a) : Selector::parse_v3(a);
        if (!s.ok()) {
          error(answer, "ARGUMENTS", s.status().message());
          return Next::kContinue;
        }
        if (auto st = req.selectors.add(std::move(s).value()); !st.ok()) {
          error(answer, "LIMIT", st.message());
          return Next::kContinue;
        }
        req.selector_texts.push_back(a);
      }
      ok(answer);
      return Next::kContinue;
    }

    case Verb::kData:
    case Verb::kFetch:
    case Verb::kTime: {
      if (cmd.verb == Verb::kTime && v4_) {
        error(answer, "UNSUPPORTED", "TIME is SeedLink 3; in SeedLink 4, DATA takes the time window");
        return Next::kContinue;
      }
      Result<StartRequest> r = cmd.verb == Verb::kTime ? parse_v3_time_arguments(cmd.args)
                               : v4_                   ? parse_v4_data_arguments(cmd.args)
                                                       : parse_v3_data_arguments(cmd.args);
      if (!r.ok()) {
        error(answer, "ARGUMENTS", r.status().message());
        return Next::kContinue;
      }
      auto& req = current();
      req.start = std::move(r).value();
      req.start_given = true;
      const bool dialup = cmd.verb == Verb::kFetch;
      if (!v4_ && stations_.empty()) {
        // v3 uni-station mode: the command itself starts the feed, unanswered.
        return start(dialup);
      }
      if (dialup) dialup_ = true;
      ok(answer);
      return Next::kContinue;
    }

    case Verb::kEnd:
      return start(dialup_);

    case Verb::kEndFetch:
      return start(true);

    case Verb::kInfo:
      if (cmd.args.empty()) {
        error(out, "ARGUMENTS", "INFO needs a level: ID, CAPABILITIES, STATIONS, STREAMS or CONNECTIONS");
        return Next::kContinue;
      }
      out += host_.info(protocol_major(), cmd.args[0]);
      return Next::kContinue;

    case Verb::kBatch:
      if (v4_) {
        error(out, "UNSUPPORTED", "BATCH is SeedLink 3 only");
      } else {
        ok(out);
        batch_ = true;
      }
      return Next::kContinue;

    case Verb::kBye:
      return Next::kClose;

    case Verb::kCat:
      if (v4_) {
        error(out, "UNSUPPORTED", "CAT is SeedLink 3; use INFO STATIONS");
      } else {
        out += "CAT command not implemented\r\n";
      }
      return Next::kContinue;

    case Verb::kHttp:
      error(out, "UNSUPPORTED", "this is a SeedLink port, not HTTP (the FDSN web services are on the HTTP port)");
      return Next::kClose;

    case Verb::kUnknown:
      break;
  }
  error(out, "UNSUPPORTED", fmt::format("unknown command '{}'", printable(cmd.word)));
  return Next::kContinue;
}

}  // namespace seisvault::server::seedlink
