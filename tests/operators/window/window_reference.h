// Test support: a brute-force reference for keyed event-time windows, and the
// from-scratch aggregates it (and the rolling-window tests) compare with.
//
// The reference follows the semantics stated in
// operators/window/window_operator.h, written the slow, obvious way: the
// watermark before each event is recomputed from the events before it, the
// windows holding an event are enumerated from their definition, and every
// emission's aggregates are recomputed by re-scanning all the events that
// count in its window up to that moment. Nothing here is incremental and
// nothing uses operators/, so a shared mistake is unlikely.
//
// One call covers one task (one partition): events of different partitions
// never mix.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "operators/window/emit_mode.h"
#include "runtime/record.h"

namespace kappa::window_testing {

// One input event. `amount` feeds the numeric aggregates (nullopt and NaN
// mean "no value"), `item` the distinct count.
struct RefEvent {
  std::string key;
  Timestamp time = 0;
  std::optional<double> amount;
  int64_t item = 0;
};

// Every built-in aggregate's result over one set of events, with the
// built-ins' conventions: nullopt where there is no value (variance and
// stddev need two values), first / last by event time, ties to the event
// that came first (first) or last (last) in input order.
struct RefAggregates {
  int64_t count = 0;
  double sum = 0;
  std::optional<double> min, max, mean, variance, stddev, first, last;
  int64_t distinct = 0;
};

inline bool has_amount(const RefEvent& e) { return e.amount.has_value() && !std::isnan(*e.amount); }

// The aggregates over `events`, given in input order.
inline RefAggregates aggregate_from_scratch(const std::vector<const RefEvent*>& events) {
  RefAggregates r;
  r.count = static_cast<int64_t>(events.size());
  std::vector<double> xs;
  const RefEvent* first = nullptr;
  const RefEvent* last = nullptr;
  std::vector<int64_t> items;
  for (const RefEvent* e : events) {
    items.push_back(e->item);
    if (!has_amount(*e)) continue;
    xs.push_back(*e->amount);
    if (first == nullptr || e->time < first->time) first = e;
    if (last == nullptr || e->time >= last->time) last = e;
  }
  std::sort(items.begin(), items.end());
  r.distinct = std::unique(items.begin(), items.end()) - items.begin();
  if (xs.empty()) return r;
  long double sum = 0;
  for (double x : xs) sum += x;
  r.sum = static_cast<double>(sum);
  r.min = *std::min_element(xs.begin(), xs.end());
  r.max = *std::max_element(xs.begin(), xs.end());
  r.mean = static_cast<double>(sum / xs.size());
  r.first = *first->amount;
  r.last = *last->amount;
  if (xs.size() >= 2) {
    const long double mean = sum / xs.size();
    long double ss = 0;
    for (double x : xs) ss += (x - mean) * (x - mean);
    r.variance = static_cast<double>(ss / (xs.size() - 1));
    r.stddev = std::sqrt(*r.variance);
  }
  return r;
}

// The watermark before each event of one task, and after the last one (one
// more entry): the largest event time so far minus the out-of-orderness,
// kMinTimestamp before any event.
inline std::vector<Timestamp> watermarks_before(const std::vector<RefEvent>& events, int64_t out_of_orderness) {
  std::vector<Timestamp> out{kMinTimestamp};
  for (const RefEvent& e : events) out.push_back(std::max(out.back(), e.time - out_of_orderness));
  return out;
}

struct RefWindowSpec {
  int64_t size = 10;
  int64_t slide = 10;  // == size: tumbling
  int64_t offset = 0;
  int64_t allowed_lateness = 0;
  int64_t out_of_orderness = 0;
  EmitMode emit = EmitMode::kFinal;

  std::string to_string() const {
    std::ostringstream os;
    os << "size=" << size << " slide=" << slide << " offset=" << offset << " lateness=" << allowed_lateness
       << " ooo=" << out_of_orderness << " emit=" << (emit == EmitMode::kFinal ? "final" : "updates");
    return os.str();
  }
};

// Where in the run an emission happens: while event `event` is processed
// (phase 0), when the watermark moves after it (phase 1), or at the end of
// the input (event == number of events, phase 1).
struct RefPosition {
  std::size_t event = 0;
  int phase = 0;
  friend auto operator<=>(const RefPosition&, const RefPosition&) = default;
};

struct RefEmission {
  std::string key;
  Timestamp start = 0;
  Timestamp end = 0;
  RefAggregates value;
  bool is_final = true;
  RefPosition position;
};

struct RefWindowOutput {
  std::vector<RefEmission> emissions;  // by (key, window), each window's in order
  std::vector<std::size_t> late;       // indices of late events, in input order
};

// Floor division, for window starts before the epoch.
inline int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Starts of the windows (offset + k * slide, length size) holding time t.
inline std::vector<Timestamp> window_starts_holding(Timestamp t, const RefWindowSpec& spec) {
  std::vector<Timestamp> starts;
  Timestamp start = floor_div(t - spec.offset, spec.slide) * spec.slide + spec.offset;  // the last start <= t
  for (; start + spec.size > t; start -= spec.slide) starts.push_back(start);
  std::reverse(starts.begin(), starts.end());
  return starts;
}

// Every emission one task makes for `events` (in input order).
inline RefWindowOutput reference_windows(const std::vector<RefEvent>& events, const RefWindowSpec& spec) {
  const std::size_t n = events.size();
  const std::vector<Timestamp> wm = watermarks_before(events, spec.out_of_orderness);
  auto counts_in = [&](std::size_t i, Timestamp end) { return end + spec.allowed_lateness > wm[i]; };

  // The events that count in each (key, window), in input order, and each key's events.
  std::map<std::tuple<std::string, Timestamp>, std::vector<std::size_t>> counting;
  std::map<std::string, std::vector<std::size_t>> of_key;
  RefWindowOutput out;
  for (std::size_t i = 0; i < n; ++i) {
    of_key[events[i].key].push_back(i);
    bool counts_somewhere = false;
    for (Timestamp start : window_starts_holding(events[i].time, spec)) {
      if (counts_in(i, start + spec.size)) {
        counting[{events[i].key, start}].push_back(i);
        counts_somewhere = true;
      }
    }
    if (!counts_somewhere) out.late.push_back(i);
  }

  for (const auto& [window, members] : counting) {
    const auto& [key, start] = window;
    const Timestamp end = start + spec.size;
    // The watermark first reaches the end after event i - 1 (wm[i] >= end),
    // or else at the end of the input.
    std::size_t i = 1;
    while (i <= n && wm[i] < end) ++i;
    const RefPosition crossing = i <= n ? RefPosition{i - 1, 1} : RefPosition{n, 1};

    std::vector<std::pair<RefPosition, bool>> at;  // (where, is_final)
    for (std::size_t j : members) {
      if (wm[j] >= end) {
        at.push_back({{j, 0}, true});
      } else if (spec.emit == EmitMode::kUpdates) {
        at.push_back({{j, 0}, false});
      }
    }
    if (members.front() <= crossing.event) at.push_back({crossing, true});  // it has events when it fires
    std::sort(at.begin(), at.end());

    for (const auto& [where, is_final] : at) {
      // From scratch: re-scan the key's events, keeping those in the window
      // that count in it and came no later than the emission.
      std::vector<const RefEvent*> in_window;
      for (std::size_t j : of_key[key]) {
        if (j > where.event) break;
        if (events[j].time < start || events[j].time >= end || !counts_in(j, end)) continue;
        in_window.push_back(&events[j]);
      }
      out.emissions.push_back(RefEmission{key, start, end, aggregate_from_scratch(in_window), is_final, where});
    }
  }
  return out;
}

// Differences between two aggregate results, "" when they agree: exact for
// count, sum, min, max, mean, first, last (integer-valued inputs make these
// exact), relative 1e-9 for variance and stddev, and for distinct exact up to
// `exact_distinct_up_to` (the sketch's sparse, exact range) and within 5%
// above it.
inline std::string aggregate_diff(const RefAggregates& want, const RefAggregates& got,
                                  int64_t exact_distinct_up_to) {
  std::ostringstream os;
  auto show = [](const std::optional<double>& v) {
    if (!v) return std::string("null");
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.17g", *v);
    return std::string(buffer);
  };
  auto exact = [&](const char* name, const std::optional<double>& w, const std::optional<double>& g) {
    if (w != g) os << " " << name << ": want " << show(w) << " got " << show(g);
  };
  auto close = [&](const char* name, const std::optional<double>& w, const std::optional<double>& g) {
    if (w.has_value() != g.has_value() ||
        (w && std::fabs(*w - *g) > 1e-9 * std::max(1.0, std::fabs(*w)))) {
      os << " " << name << ": want " << show(w) << " got " << show(g);
    }
  };
  if (want.count != got.count) os << " count: want " << want.count << " got " << got.count;
  exact("sum", want.sum, got.sum);
  exact("min", want.min, got.min);
  exact("max", want.max, got.max);
  exact("mean", want.mean, got.mean);
  close("variance", want.variance, got.variance);
  close("stddev", want.stddev, got.stddev);
  exact("first", want.first, got.first);
  exact("last", want.last, got.last);
  const bool distinct_ok = want.distinct <= exact_distinct_up_to
                               ? want.distinct == got.distinct
                               : std::fabs(static_cast<double>(got.distinct - want.distinct)) <= 0.05 * want.distinct;
  if (!distinct_ok) os << " distinct: want " << want.distinct << " got " << got.distinct;
  return os.str();
}

}  // namespace kappa::window_testing
