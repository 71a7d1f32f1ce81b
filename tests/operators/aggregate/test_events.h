// Test support: random transactions with explicit event times, out of order
// and with ties, plus the brute-force references the aggregate tests compare
// with.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "runtime/record.h"
#include "tests/operators/aggregate/aggregate_harness.h"

namespace kappa::agg::testing {

struct Txn {
  std::optional<double> amount;  // nullopt or NaN sometimes: "no value"
  int64_t quantity = 0;
  std::string merchant;
};

// Txns with one field set (designated initializers would warn about the
// others under -Wextra).
inline Txn amount(std::optional<double> a) {
  Txn t;
  t.amount = a;
  return t;
}
inline Txn quantity(int64_t q) {
  Txn t;
  t.quantity = q;
  return t;
}
inline Txn merchant(std::string m) {
  Txn t;
  t.merchant = std::move(m);
  return t;
}

struct EventOptions {
  std::size_t max_events = 2000;
  Timestamp time_range = 1000;  // small ranges give many ties in time
  double missing = 0.1;         // share of amounts that are nullopt
  double nan = 0.05;            // share of amounts that are NaN
};

inline EventOptions with_time_range(Timestamp range, std::size_t max_events = 2000) {
  EventOptions o;
  o.time_range = range;
  o.max_events = max_events;
  return o;
}

// A random batch: event times uniform in [t0, t0 + time_range), in random
// (not time) order; amounts are integers in [-1000, 1000], so sums are exact.
inline std::vector<Event<Txn>> random_events(std::mt19937_64& rng, const EventOptions& options = {}) {
  std::uniform_int_distribution<std::size_t> size_dist(0, options.max_events);
  // Small batches often: the edge cases (0, 1, 2 elements) matter most.
  const std::size_t n = std::bernoulli_distribution(0.2)(rng) ? size_dist(rng) % 4 : size_dist(rng);
  const Timestamp t0 = std::uniform_int_distribution<Timestamp>(-1'000'000, 1'700'000'000'000)(rng);
  std::uniform_int_distribution<Timestamp> ts_dist(t0, t0 + options.time_range - 1);
  std::uniform_int_distribution<int> amount_dist(-1000, 1000);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<Event<Txn>> events;
  for (std::size_t i = 0; i < n; ++i) {
    Txn t;
    const double u = unit(rng);
    if (u < options.missing) {
      t.amount = std::nullopt;
    } else if (u < options.missing + options.nan) {
      t.amount = std::numeric_limits<double>::quiet_NaN();
    } else {
      t.amount = amount_dist(rng);
    }
    t.quantity = amount_dist(rng);
    t.merchant = "m" + std::to_string(std::uniform_int_distribution<int>(0, 300)(rng));
    events.push_back({std::move(t), ts_dist(rng)});
  }
  return events;
}

// The amounts that count as values, in input order.
inline std::vector<double> present_amounts(const std::vector<Event<Txn>>& events) {
  std::vector<double> out;
  for (const auto& e : events) {
    if (e.value.amount && !std::isnan(*e.value.amount)) out.push_back(*e.value.amount);
  }
  return out;
}

inline std::optional<double> brute_variance(const std::vector<double>& xs) {
  if (xs.size() < 2) return std::nullopt;
  long double mean = 0;
  for (double x : xs) mean += x;
  mean /= xs.size();
  long double ss = 0;
  for (double x : xs) ss += (x - mean) * (x - mean);
  return static_cast<double>(ss / (xs.size() - 1));
}

// The amount of the event with the smallest (first) or largest (!first)
// time; ties go to the earliest (first) or latest (!first) in input order.
inline std::optional<double> brute_first_last(const std::vector<Event<Txn>>& events, bool first) {
  std::optional<double> value;
  Timestamp best = 0;
  for (const auto& e : events) {
    if (!e.value.amount || std::isnan(*e.value.amount)) continue;
    if (!value || (first ? e.ts < best : e.ts >= best)) {
      value = e.value.amount;
      best = e.ts;
    }
  }
  return value;
}

}  // namespace kappa::agg::testing
