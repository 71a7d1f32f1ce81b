// Test support: runs an aggregate over the same events along every path a
// window operator may take — one accumulator, time slices merged in time
// order (left fold and pairwise tree), slices restored from their serialized
// bytes — so a test compares every path's result with a brute-force one.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "operators/aggregate/aggregate.h"
#include "runtime/record.h"

namespace kappa::agg::testing {

template <class T>
struct Event {
  T value;
  Timestamp ts;
};

template <class R>
struct PathResults {
  R whole;     // one accumulator, events in input order
  R folded;    // time slices, each in input order, merged left to right
  R tree;      // the same slices merged pairwise, neighbours only
  R restored;  // the slices serialized, deserialized, then folded
};

// Serializes `acc`, checks that deserialize() reads exactly those bytes back
// into an accumulator that serializes identically, and that strict prefixes
// of the bytes are rejected. Returns the restored accumulator.
template <class A>
typename A::accumulator_type round_trip(const A& agg, const typename A::accumulator_type& acc) {
  std::string bytes;
  agg.serialize(acc, bytes);
  bytes += "tail";  // deserialize must stop at its own end
  std::string_view in = bytes;
  typename A::accumulator_type restored = agg.init();
  EXPECT_TRUE(agg.deserialize(in, restored));
  EXPECT_EQ(in, "tail");
  std::string again;
  agg.serialize(restored, again);
  EXPECT_EQ(again, bytes.substr(0, bytes.size() - 4));

  const std::size_t size = bytes.size() - 4;
  const std::size_t step = size <= 64 ? 1 : size / 61;
  for (std::size_t n = 0; n < size; n += step) {
    std::string_view prefix(bytes.data(), n);
    typename A::accumulator_type scratch = agg.init();
    EXPECT_FALSE(agg.deserialize(prefix, scratch)) << "accepted a " << n << "-byte prefix of " << size << " bytes";
  }
  return restored;
}

template <class A, class T>
  requires Aggregate<A, T> && SerializableAggregate<A>
PathResults<typename A::result_type> run_every_path(const A& agg, const std::vector<Event<T>>& events,
                                                    std::mt19937_64& rng, int max_slices = 8) {
  using Acc = typename A::accumulator_type;
  Acc whole = agg.init();
  for (const Event<T>& e : events) agg.add(whole, e.value, e.ts);

  // Random cut times split [min, max] into slices (some may be empty).
  Timestamp lo = 0;
  Timestamp hi = 0;
  if (!events.empty()) {
    auto [mn, mx] = std::minmax_element(events.begin(), events.end(),
                                        [](const Event<T>& a, const Event<T>& b) { return a.ts < b.ts; });
    lo = mn->ts;
    hi = mx->ts + 1;
  }
  const int slices = std::uniform_int_distribution<int>(1, max_slices)(rng);
  std::vector<Timestamp> cuts{lo, hi};
  for (int i = 1; i < slices; ++i) cuts.push_back(std::uniform_int_distribution<Timestamp>(lo, hi)(rng));
  std::sort(cuts.begin(), cuts.end());
  std::vector<Acc> parts(cuts.size() - 1, agg.init());
  for (const Event<T>& e : events) {
    const std::size_t slice = std::upper_bound(cuts.begin(), cuts.end(), e.ts) - cuts.begin() - 1;
    agg.add(parts[slice], e.value, e.ts);
  }

  Acc folded = agg.init();
  Acc restored = agg.init();
  for (const Acc& part : parts) {
    agg.merge(folded, part);
    agg.merge(restored, round_trip(agg, part));
  }
  std::vector<Acc> level = parts;
  while (level.size() > 1) {
    std::vector<Acc> next;
    for (std::size_t i = 0; i + 1 < level.size(); i += 2) {
      agg.merge(level[i], level[i + 1]);
      next.push_back(std::move(level[i]));
    }
    if (level.size() % 2 == 1) next.push_back(std::move(level.back()));
    level = std::move(next);
  }
  round_trip(agg, whole);
  return {agg.result(whole), agg.result(folded), agg.result(level.front()), agg.result(restored)};
}

// Checks every path's result with `check(const R&, const char* path)`.
template <class R, class Check>
void for_each_path(const PathResults<R>& r, Check&& check) {
  check(r.whole, "whole");
  check(r.folded, "folded");
  check(r.tree, "tree");
  check(r.restored, "restored");
}

// |a - b| <= rel * max(|a|, |b|), or both absent.
inline ::testing::AssertionResult near_relative(const std::optional<double>& a, const std::optional<double>& b,
                                                double rel) {
  if (a.has_value() != b.has_value()) {
    return ::testing::AssertionFailure() << (a ? "value" : "nullopt") << " vs " << (b ? "value" : "nullopt");
  }
  if (!a) return ::testing::AssertionSuccess();
  const double scale = std::max(std::fabs(*a), std::fabs(*b));
  if (std::fabs(*a - *b) <= rel * scale) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << *a << " vs " << *b << " (relative error " << std::fabs(*a - *b) / scale
                                       << ")";
}

}  // namespace kappa::agg::testing
