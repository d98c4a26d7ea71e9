#include "seedlink_selector.h"

#include <fmt/format.h>

#include "seedlink_text.h"

namespace seisvault::server::seedlink {

namespace {




bool all_of_chars(std::string_view s, bool allow_underscore) {
  for (char c : s) {
    if (!(is_alnum(c) || c == '?' || c == '*' || (allow_underscore && c == '_'))) return false;
  }
  return true;
}

bool is_blank_location(std::string_view location) {
  return location.empty() || location == "  " || location == "--";
}

// Longest stream ID built for matching; longer ones (no real code is) never match.
constexpr size_t kMaxStreamId = 96;

}  // namespace

bool glob_match(std::string_view pattern, std::string_view text) {
  // Iterative matcher with one backtrack point (the last '*'): linear in
  // practice, never recursive, never allocating.
  size_t p = 0, t = 0;
  size_t star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && (pattern[p] == '?' || to_upper(pattern[p]) == to_upper(text[t]))) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

// --- Parsing --------------------------------------------------------------------

Result<Selector> Selector::parse_v3(std::string_view text) {
  const auto bad = [&](std::string_view why) {
    return Status::invalid_argument(fmt::format("selector '{}': {}", printable(text), why));
  };
  constexpr std::string_view kShape = "expected [!][LL]CCC[.T], e.g. BHZ, 00BHZ, ??BH?.D, --LHZ";
  if (text.empty()) return bad("it is empty");
  if (text.size() > kMaxLength) return bad(fmt::format("longer than {} characters", kMaxLength));

  Selector s;
  s.syntax_ = SelectorSyntax::kV3;
  s.text_ = upper(text);
  std::string_view body = s.text_;
  if (body.front() == '!') {
    s.negated_ = true;
    body.remove_prefix(1);
  }
  if (body.empty()) return bad("nothing follows '!'");

  std::string_view stream = body;
  std::string_view type;
  if (const size_t dot = body.find('.'); dot != std::string_view::npos) {
    stream = body.substr(0, dot);
    type = body.substr(dot + 1);
    if (type.size() != 1) return bad("the type after '.' must be one letter of D E C T L O");
  } else if (body.size() == 1) {  // "D": the "LLCCC." part left out
    stream = {};
    type = body;
  }
  if (!type.empty()) {
    const char t = type.front();
    if (std::string_view("DECTLO?").find(t) == std::string_view::npos) {
      return body.size() == 1 ? bad(kShape) : bad(fmt::format("unknown record type '{}' (D E C T L O)", printable(type)));
    }
    s.type_ = t;
  }
  if (stream.empty()) return s;  // a type-only selector

  std::string_view location;
  std::string_view channel;
  if (stream.size() == 3) {
    channel = stream;
  } else if (stream.size() == 5) {
    location = stream.substr(0, 2);
    channel = stream.substr(2);
  } else {
    return bad(kShape);
  }
  if (!all_of_chars(channel, false)) return bad("the channel may hold letters, digits, '?' and '*' only");
  s.channel_ = std::string(channel);
  if (!location.empty()) {
    s.any_location_ = false;
    if (location == "--") {
      s.location_ = "  ";  // the blank location, as miniSEED 2 writes it
    } else if (all_of_chars(location, false)) {
      s.location_ = std::string(location);
    } else {
      return bad("the location may hold letters, digits, '?', '*', or be -- for a blank location");
    }
  }
  return s;
}

Result<Selector> Selector::parse_v4(std::string_view text) {
  const auto bad = [&](std::string_view why) {
    return Status::invalid_argument(fmt::format("selector '{}': {}", printable(text), why));
  };
  if (text.empty()) return bad("it is empty");
  if (text.size() > kMaxLength) return bad(fmt::format("longer than {} characters", kMaxLength));

  Selector s;
  s.syntax_ = SelectorSyntax::kV4;
  std::string_view body = text;
  if (body.front() == '!') {
    s.negated_ = true;
    body.remove_prefix(1);
  }
  if (const size_t colon = body.rfind(':'); colon != std::string_view::npos) {
    const std::string_view filter = body.substr(colon + 1);
    body = body.substr(0, colon);
    if (filter.empty()) return bad("nothing follows ':'");
    if (s.negated_) return bad("a ':filter' cannot be used with '!'");
    for (char c : filter) {
      if (!(is_alnum(c) || c == '_' || c == '-')) return bad("the filter may hold letters, digits, '_' and '-' only");
    }
    s.filter_ = std::string(filter);
  }
  std::string_view stream = body;
  std::string_view format;
  const size_t dot = body.find('.');
  if (dot != std::string_view::npos) {
    stream = body.substr(0, dot);
    format = body.substr(dot + 1);
    if (format.empty()) return bad("nothing follows '.' (a format and subformat, e.g. 2D)");
    if (format.size() > 4) return bad("the format/subformat pattern is longer than 4 characters");
    for (char c : format) {
      if (!(is_alnum(c) || c == '?' || c == '*')) {
        return bad("the format/subformat may hold letters, digits, '?' and '*' only");
      }
    }
  }
  if (stream.empty()) return bad("the stream pattern (LOC_B_S_SS) is missing");
  if (!all_of_chars(stream, true)) return bad("the stream pattern may hold letters, digits, '_', '?' and '*' only");
  if (stream.find_first_of("_*") == std::string_view::npos) {
    return bad("a v4 stream pattern is LOC_B_S_SS, e.g. 00_B_H_Z or *_B_H_? (this looks like a v3 selector)");
  }
  s.stream_ = upper(stream);
  if (!format.empty()) {
    s.format_ = upper(format);
    if (s.format_.back() != '*') s.format_ += '*';  // anchored at the start only
  }
  s.text_ = (s.negated_ ? "!" : "") + s.stream_;
  if (!format.empty()) s.text_ += "." + upper(format);
  if (!s.filter_.empty()) s.text_ += ":" + s.filter_;
  return s;
}

// --- Matching -------------------------------------------------------------------

bool Selector::matches(std::string_view location, std::string_view channel, char type, char format) const {
  if (syntax_ == SelectorSyntax::kV3) {
    if (type_ != 0 && type_ != '?' && to_upper(type) != type_) return false;
    if (!channel_.empty()) {
      char seed[3];
      std::string_view cha = channel;
      if (channel.size() == 5 && channel[1] == '_' && channel[3] == '_') {  // "B_H_Z" -> "BHZ"
        seed[0] = channel[0];
        seed[1] = channel[2];
        seed[2] = channel[4];
        cha = std::string_view(seed, 3);
      }
      if (!glob_match(channel_, cha)) return false;
    }
    if (!any_location_) {
      // Compare with the location as miniSEED 2 writes it: two characters,
      // blank-padded.
      char padded[2];
      std::string_view loc = location;
      if (is_blank_location(location)) {
        loc = "  ";
      } else if (location.size() == 1) {
        padded[0] = location[0];
        padded[1] = ' ';
        loc = std::string_view(padded, 2);
      }
      if (!glob_match(location_, loc)) return false;
    }
    return true;
  }

  // v4
  if (!format_.empty()) {
    const char fs[2] = {format, type};
    if (!glob_match(format_, std::string_view(fs, 2))) return false;
  }
  const std::string_view loc = is_blank_location(location) ? std::string_view() : location;
  const bool expand = channel.size() == 3 && channel.find('_') == std::string_view::npos;  // "BHZ" -> "B_H_Z"
  const size_t cha_size = expand ? 5 : channel.size();
  if (loc.size() + 1 + cha_size > kMaxStreamId) return false;
  char id[kMaxStreamId];
  size_t n = 0;
  for (char c : loc) id[n++] = c;
  id[n++] = '_';
  if (expand) {
    id[n++] = channel[0];
    id[n++] = '_';
    id[n++] = channel[1];
    id[n++] = '_';
    id[n++] = channel[2];
  } else {
    for (char c : channel) id[n++] = c;
  }
  return glob_match(stream_, std::string_view(id, n));
}

// --- SelectorList ---------------------------------------------------------------

Status SelectorList::add(Selector selector) {
  if (size() >= kMaxSelectors) {
    return Status::resource_exhausted(fmt::format("more than {} selectors", kMaxSelectors));
  }
  (selector.negated() ? negative_ : positive_).push_back(std::move(selector));
  return Status::ok_status();
}

void SelectorList::clear() {
  positive_.clear();
  negative_.clear();
}

bool SelectorList::matches(std::string_view location, std::string_view channel, char type, char format) const {
  for (const Selector& s : negative_) {
    if (s.matches(location, channel, type, format)) return false;
  }
  if (positive_.empty()) return true;
  for (const Selector& s : positive_) {
    if (s.matches(location, channel, type, format)) return true;
  }
  return false;
}

std::string_view SelectorList::filter_for(std::string_view location, std::string_view channel, char type,
                                          char format) const {
  for (const Selector& s : positive_) {
    if (!s.filter().empty() && s.matches(location, channel, type, format)) return s.filter();
  }
  return {};
}

}  // namespace seisvault::server::seedlink
