#include "query_service.h"

#include <algorithm>
#include <map>

#include "seisvault/storage/availability.h"

#include <fmt/format.h>

namespace seisvault::server {

using storage::ChannelSelection;
using storage::TimeWindow;

namespace {

// Sorts windows and joins those that overlap or touch.
std::vector<TimeWindow> merge_windows(std::vector<TimeWindow> w) {
  std::sort(w.begin(), w.end(), [](const TimeWindow& a, const TimeWindow& b) { return a.begin_ns < b.begin_ns; });
  std::vector<TimeWindow> out;
  for (const auto& x : w) {
    if (!out.empty() && (x.begin_ns <= out.back().end_ns || out.back().end_ns == kTimeMax ||
                         x.begin_ns - out.back().end_ns <= 1)) {
      out.back().end_ns = std::max(out.back().end_ns, x.end_ns);
    } else {
      out.push_back(x);
    }
  }
  return out;
}

bool overlaps(const TimeWindow& w, TimeNs first, TimeNs last) { return first <= w.end_ns && last >= w.begin_ns; }

bool keeps(const RecordFilter& f, const storage::StoredRecord& r) {
  return !f.quality || record_quality(r.bytes) == *f.quality;
}

}  // namespace

char record_quality(std::span<const uint8_t> record) {
  return record.size() > 6 ? static_cast<char>(record[6]) : 0;
}

QueryService::QueryService(QueryOptions options, const storage::RecordStore& store)
    : options_(std::move(options)), token_(options_.token), store_(store) {}

Status QueryService::authorize(std::optional<std::string_view> authorization) const {
  if (!token_.required()) return {};
  if (!authorization) {
    return Status::unauthenticated(
        "this server requires a token: send 'Authorization: Bearer TOKEN' (seisvault query --token)");
  }
  if (!token_.accepts(*authorization)) return Status::unauthenticated("the token is not valid for this server");
  return {};
}

Result<ChannelSelection> QueryService::selection(std::span<const std::string> patterns) const {
  if (patterns.empty()) return ChannelSelection();
  if (patterns.size() > options_.max_selection_patterns) {
    return Status::invalid_argument(fmt::format("the selection has {} patterns, more than this server's limit of {}: "
                                                "use wildcards or comma lists, or split the request",
                                                patterns.size(), options_.max_selection_patterns));
  }
  size_t bytes = 0;
  for (const auto& p : patterns) bytes += p.size();
  if (bytes > options_.max_selection_bytes) {
    return Status::invalid_argument(fmt::format("the selection's patterns take {} bytes, more than this server's "
                                                "limit of {} bytes: use wildcards, or split the request",
                                                bytes, options_.max_selection_bytes));
  }
  std::string text;
  text.reserve(bytes + patterns.size());
  for (const auto& p : patterns) {
    if (p.find_first_of(" ;\t\n") != std::string::npos) {
      return Status::invalid_argument(fmt::format(
          "selection pattern '{}' contains a separator; give one NET.STA.LOC.CHA pattern per entry", p));
    }
    text += p;
    text += ' ';
  }
  return ChannelSelection::parse(text);
}

Result<ChannelSelection> QueryService::selection(std::string_view network, std::string_view station,
                                                 std::string_view location, std::string_view channel) const {
  static constexpr std::string_view kNames[] = {"network", "station", "location", "channel"};
  const std::string_view codes[] = {network, station, location, channel};
  std::string text;
  for (int i = 0; i < 4; ++i) {
    if (codes[i].find_first_of(". ;\t\n") != std::string_view::npos) {
      return Status::invalid_argument(fmt::format(
          "{} '{}' contains a character that is not allowed in a code list (letters, digits, ? * , and --)",
          kNames[i], codes[i]));
    }
    if (i > 0) text += '.';
    text += codes[i];
  }
  if (text.size() > options_.max_selection_bytes) {
    return Status::invalid_argument(fmt::format("the selection takes {} bytes, more than this server's limit of {}",
                                                text.size(), options_.max_selection_bytes));
  }
  return ChannelSelection::parse(text);
}

Result<TimeWindow> QueryService::window(std::optional<TimeNs> start, std::optional<TimeNs> end) {
  TimeWindow out;
  if (start) out.begin_ns = *start;
  if (end) out.end_ns = *end;
  if (out.end_ns < out.begin_ns) {
    return Status::invalid_argument(fmt::format("the window ends ({}) before it starts ({}): swap start and end",
                                                format_iso8601(out.end_ns), format_iso8601(out.begin_ns)));
  }
  return out;
}

namespace {

bool open_bound(const TimeWindow& w) { return w.begin_ns == kTimeMin || w.end_ns == kTimeMax; }

// check_window() on the channels the selection selects (`channels`, needed
// only when a bound is open).
Status check_window_against(int64_t max_window_s, const std::vector<storage::ChannelInfo>& channels, TimeWindow w,
                            std::string_view what, std::string_view fix) {
  if (max_window_s <= 0) return {};
  if (open_bound(w)) {
    if (channels.empty()) return {};
    TimeNs first = kTimeMax, last = kTimeMin;
    for (const auto& c : channels) {
      first = std::min(first, c.summary.first_start_ns);
      last = std::max(last, c.summary.last_end_ns);
    }
    w.begin_ns = std::max(w.begin_ns, first);
    w.end_ns = std::min(w.end_ns, last);
  }
  if (w.end_ns <= w.begin_ns) return {};
  const double span_s = (static_cast<double>(w.end_ns) - static_cast<double>(w.begin_ns)) / 1e9;
  if (span_s > static_cast<double>(max_window_s)) {
    return Status::invalid_argument(fmt::format("{} spans {:.1f} days, more than this server's limit of {:.1f} days: {}",
                                                what, span_s / 86400, static_cast<double>(max_window_s) / 86400,
                                                fix));
  }
  return {};
}

}  // namespace

Status QueryService::check_window(const ChannelSelection& sel, TimeWindow w, std::string_view what,
                                  std::string_view fix) const {
  std::vector<storage::ChannelInfo> channels;
  if (options_.max_window_s > 0 && open_bound(w)) {
    auto listed = store_.list_channels(sel);
    if (!listed.ok()) return listed.status();
    channels = std::move(*listed);
  }
  return check_window_against(options_.max_window_s, channels, w, what, fix);
}

Status QueryService::read_records(const RecordQuery& q,
                                  const std::function<bool(const storage::StoredRecord&)>& visitor) const {
  return store_.read_records(q.selection, q.window, visitor);
}

Result<std::vector<storage::ChannelInfo>> QueryService::list_channels(const ChannelSelection& selection) const {
  return store_.list_channels(selection);
}

Result<std::vector<storage::ChannelAvailability>> QueryService::availability(const RecordQuery& q,
                                                                            std::optional<TimeNs> tolerance_ns) const {
  return store_.availability(q.selection, q.window, tolerance_ns);
}

Result<std::vector<QualitySpans>> QueryService::availability_by_quality(const RecordQuery& q,
                                                                        std::optional<TimeNs> tolerance_ns,
                                                                        std::optional<char> quality) const {
  std::vector<QualitySpans> out;
  struct Merging {
    storage::SpanMerger merger;
    TimeNs updated_ns = kTimeMin;
  };
  std::map<char, Merging> merging;  // of the current channel, by quality
  std::string channel;
  size_t span_count = 0;
  const size_t max_spans = options_.max_availability_spans;
  const auto flush = [&] {
    for (auto& [qual, m] : merging) {
      auto a = m.merger.take(channel);
      span_count += a.spans.size();
      // One entry per sample rate, spans kept in start order within each.
      std::map<double, QualitySpans> by_rate;
      for (const auto& span : a.spans) {
        auto& e = by_rate[span.sample_rate];
        e.spans.push_back(span);
      }
      for (auto& [rate, e] : by_rate) {
        e.source_id = channel;
        e.quality = qual;
        e.sample_rate = rate;
        e.updated_ns = m.updated_ns;
        out.push_back(std::move(e));
      }
    }
    merging.clear();
  };
  const auto over = [&] { return max_spans > 0 && span_count > max_spans; };
  auto st = store_.read_records(q.selection, q.window, [&](const storage::StoredRecord& r) {
    if (r.source_id != channel) {
      flush();
      if (over()) return false;
      channel = std::string(r.source_id);
    }
    const char qual = record_quality(r.bytes);
    if (quality && qual != *quality) return true;
    auto it = merging.find(qual);
    if (it == merging.end()) it = merging.emplace(qual, Merging{storage::SpanMerger(tolerance_ns)}).first;
    // The rate of the record, as the store keeps it for availability.
    it->second.merger.add(r.start_ns, r.end_ns, r.sample_rate);
    it->second.updated_ns = std::max(it->second.updated_ns, r.receive_ns);
    return true;
  });
  if (!st.ok()) return st;
  flush();
  if (over()) {
    return Status::resource_exhausted(fmt::format(
        "the selection has more than this server's limit of {} continuous spans in the window: ask for a "
        "shorter window or fewer channels",
        max_spans));
  }
  return out;
}

Result<ReadPlan> QueryService::plan(std::span<const RecordQuery> lines, const RecordFilter& filter) const {
  struct Planned {
    std::vector<TimeWindow> windows;
    uint64_t records = 0, bytes = 0;
  };
  std::map<std::string, Planned> windows;  // by source id: the plan's order
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto& line = lines[i];
    const auto what = lines.size() == 1 ? std::string("the window") : fmt::format("the window of line {}", i + 1);
    // One listing serves the window check and the plan.
    auto channels = store_.list_channels(line.selection);
    if (!channels.ok()) return channels.status();
    if (auto st = check_window_against(options_.max_window_s, *channels, line.window, what, "narrow start/end");
        !st.ok()) {
      return st;
    }
    for (const auto& c : *channels) {
      if (c.summary.record_count == 0 || !overlaps(line.window, c.summary.first_start_ns, c.summary.last_end_ns)) {
        continue;
      }
      auto& p = windows[c.source_id];
      p.windows.push_back(line.window);
      p.records = c.summary.record_count;
      p.bytes = c.summary.byte_count;
    }
  }
  ReadPlan plan;
  plan.channels.reserve(windows.size());
  const bool by_span = filter.minimum_length_ns > 0 || filter.longest_only;
  for (auto& [source_id, planned] : windows) {
    auto merged = merge_windows(std::move(planned.windows));
    if (by_span) {
      // The continuous spans inside the windows, each cut to its window.
      std::vector<TimeWindow> spans;
      for (const auto& win : merged) {
        auto avail = store_.availability(ChannelSelection::exact(source_id), win, std::nullopt);
        if (!avail.ok()) return avail.status();
        for (const auto& a : *avail) {
          for (const auto& s : a.spans) {
            const TimeWindow cut{std::max(s.start_ns, win.begin_ns), std::min(s.end_ns, win.end_ns)};
            if (cut.end_ns < cut.begin_ns) continue;
            if (cut.end_ns - cut.begin_ns < filter.minimum_length_ns) continue;
            spans.push_back(cut);
          }
        }
      }
      if (filter.longest_only && spans.size() > 1) {
        const auto longest = std::max_element(spans.begin(), spans.end(), [](const TimeWindow& a, const TimeWindow& b) {
          return a.end_ns - a.begin_ns < b.end_ns - b.begin_ns;
        });
        spans = {*longest};
      }
      merged = merge_windows(std::move(spans));
    }
    if (!merged.empty()) plan.channels.push_back({source_id, std::move(merged), planned.records, planned.bytes});
  }
  if (lines.size() == 1 && !by_span && !plan.channels.empty()) plan.whole = lines[0];
  return plan;
}

namespace {

// Walks a plan's records once each, in the plan's order.
Status walk_plan(const storage::RecordStore& store, const ReadPlan& plan, const RecordFilter& filter,
                 const std::function<bool(const storage::StoredRecord&)>& visitor) {
  if (plan.whole) {
    return store.read_records(plan.whole->selection, plan.whole->window, [&](const storage::StoredRecord& r) {
      return !keeps(filter, r) || visitor(r);
    });
  }
  for (const auto& channel : plan.channels) {
    const auto sel = ChannelSelection::exact(channel.source_id);
    // A record overlapping two windows comes first with the earlier one:
    // records of later windows starting no later than the last one
    // delivered were delivered already (starts only grow within a channel).
    TimeNs last_start = kTimeMin;
    bool stop = false;
    for (const auto& w : channel.windows) {
      const TimeNs before = last_start;
      auto st = store.read_records(sel, w, [&](const storage::StoredRecord& r) {
        if (before != kTimeMin && r.start_ns <= before) return true;
        last_start = r.start_ns;
        if (!keeps(filter, r)) return true;
        if (!visitor(r)) {
          stop = true;
          return false;
        }
        return true;
      });
      if (!st.ok()) return st;
      if (stop) return {};
    }
  }
  return {};
}

}  // namespace

Result<ReadSize> QueryService::measure(const ReadPlan& plan, const RecordFilter& filter) const {
  ReadSize size;
  const uint64_t max_records = options_.max_request_records;
  const uint64_t max_bytes = options_.max_request_bytes;
  // The planned channels' totals bound what their windows hold: within the
  // limits, finding one record is all there is to decide.
  uint64_t all_records = 0, all_bytes = 0;
  for (const auto& c : plan.channels) {
    all_records += c.record_count;
    all_bytes += c.byte_count;
  }
  const bool may_pass = (max_records > 0 && all_records > max_records) || (max_bytes > 0 && all_bytes > max_bytes);
  bool over = false;
  auto st = walk_plan(store_, plan, filter, [&](const storage::StoredRecord& r) {
    ++size.records;
    size.bytes += r.bytes.size();
    over = (max_records > 0 && size.records > max_records) || (max_bytes > 0 && size.bytes > max_bytes);
    return !over && may_pass;
  });
  if (!st.ok()) return st;
  if (over) {
    return Status::resource_exhausted(fmt::format(
        "the request selects more than this server's limit of {} records and {} bytes per request: "
        "ask for fewer channels or a shorter window, or split the request",
        max_records > 0 ? fmt::format("{}", max_records) : std::string("unlimited"),
        max_bytes > 0 ? fmt::format("{}", max_bytes) : std::string("unlimited")));
  }
  return size;
}

Status QueryService::read_plan(const ReadPlan& plan, const RecordFilter& filter,
                               const std::function<bool(const storage::StoredRecord&)>& visitor) const {
  return walk_plan(store_, plan, filter, visitor);
}

}  // namespace seisvault::server
