#include "operators/aggregate/distinct.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tests/operators/aggregate/aggregate_harness.h"
#include "tests/operators/aggregate/test_events.h"

namespace kappa::agg {
namespace {

using testing::Txn;

static_assert(Aggregate<decltype(distinct(&Txn::merchant)), Txn>);
static_assert(Aggregate<decltype(distinct(&Txn::quantity)), Txn>);
static_assert(Aggregate<decltype(distinct([](const Txn& t) { return std::string_view(t.merchant); })), Txn>);
static_assert(Aggregate<decltype(distinct([](const Txn& t) -> std::optional<int64_t> { return t.quantity; })), Txn>);
static_assert(Aggregate<decltype(distinct([](const auto& t) { return t.merchant.c_str(); })), Txn>);
static_assert(!Aggregate<decltype(distinct(&Txn::amount)), Txn>);  // doubles are not counted
static_assert(SerializableAggregate<decltype(distinct(&Txn::merchant))>);

TEST(DistinctAggregateTest, EmptyIsZeroAndAllocatesNothing) {
  const auto agg = distinct(&Txn::merchant);
  const auto acc = agg.init();
  EXPECT_EQ(agg.result(acc), 0);
  EXPECT_EQ(acc.heap_bytes(), 0u);
}

TEST(DistinctAggregateTest, IgnoresNullopt) {
  const auto agg = distinct([](const Txn& t) -> std::optional<int64_t> {
    if (t.quantity < 0) return std::nullopt;
    return t.quantity;
  });
  auto acc = agg.init();
  for (int64_t q : {-1, -2, 3, 3, 4, -5}) agg.add(acc, testing::quantity(q), 0);
  EXPECT_EQ(agg.result(acc), 2);
}

TEST(DistinctAggregateTest, IntegersAndTextAreDifferentValues) {
  EXPECT_NE(distinct_hash(int64_t{7}), distinct_hash(std::string("7")));
  EXPECT_EQ(distinct_hash(int32_t{-1}), distinct_hash(int64_t{-1}));
  EXPECT_EQ(distinct_hash(std::string("abc")), distinct_hash(std::string_view("abc")));
}

TEST(DistinctAggregateTest, ExactForSmallCounts) {
  const auto by_text = distinct([](const std::string& s) { return std::string_view(s); });
  const auto by_int = distinct([](const int64_t& x) { return x; });
  std::mt19937_64 rng(22);
  for (int seed = 0; seed < 5; ++seed) {
    for (int n = 0; n <= 256; ++n) {
      auto text_acc = by_text.init();
      auto int_acc = by_int.init();
      for (int i = 0; i < n; ++i) {
        // Every value twice, at random times.
        for (int copy = 0; copy < 2; ++copy) {
          by_text.add(text_acc, "user-" + std::to_string(seed) + "-" + std::to_string(i),
                      static_cast<Timestamp>(rng()));
          by_int.add(int_acc, static_cast<int64_t>(seed) * 1'000'000 + i * 7919, 0);
        }
      }
      ASSERT_EQ(by_text.result(text_acc), n) << "seed " << seed;
      ASSERT_EQ(by_int.result(int_acc), n) << "seed " << seed;
      EXPECT_FALSE(text_acc.is_dense());
    }
  }
}

TEST(DistinctAggregateTest, EveryPathGivesTheSameSketch) {
  const auto agg = distinct(&Txn::merchant);
  std::mt19937_64 rng(23);
  for (int round = 0; round < 100; ++round) {
    const auto events = testing::random_events(rng);
    std::set<std::string> exact;
    for (const auto& e : events) exact.insert(e.value.merchant);
    const auto results = testing::run_every_path(agg, events, rng);
    // At most 301 merchants: under 256 exactly, above within a few percent.
    const auto n = static_cast<int64_t>(exact.size());
    testing::for_each_path(results, [&](int64_t r, const char* path) {
      EXPECT_EQ(r, results.whole) << path;
      if (n <= 256) {
        EXPECT_EQ(r, n) << path << " round " << round;
      } else {
        EXPECT_LE(std::abs(r - n), n / 20) << path << " round " << round;
      }
    });
  }
}

TEST(DistinctAggregateTest, MergedPartialsEqualTheSketchOfTheUnion) {
  const auto agg = distinct([](const uint64_t& x) { return x; });
  std::mt19937_64 rng(24);
  for (int n : {50, 300, 5'000, 100'000}) {
    std::vector<uint64_t> values;
    for (int i = 0; i < n; ++i) values.push_back(rng() % (static_cast<uint64_t>(n) * 3 / 2));  // with repeats
    auto whole = agg.init();
    for (uint64_t v : values) agg.add(whole, v, 0);

    // Up to 1000 partials of random sizes, some sparse and some dense.
    const int parts = std::min(n, 1000);
    std::vector<HyperLogLog> partials(parts, agg.init());
    for (uint64_t v : values) agg.add(partials[rng() % parts], v, 0);
    std::shuffle(partials.begin(), partials.end(), rng);  // distinct ignores order
    while (partials.size() > 1) {
      const std::size_t i = rng() % (partials.size() - 1);
      agg.merge(partials[i], partials[i + 1]);
      partials.erase(partials.begin() + static_cast<std::ptrdiff_t>(i) + 1);
    }
    EXPECT_TRUE(partials.front() == whole) << n;
    EXPECT_EQ(agg.result(partials.front()), agg.result(whole));
  }
}

struct ErrorFigures {
  double mean_abs;
  double max_abs;
};

// Relative errors of the estimate for `distinct_count` values over `seeds`
// seeds; half the seeds use integers, half text.
ErrorFigures measure_error(int64_t distinct_count, int seeds) {
  const auto by_int = distinct([](const uint64_t& x) { return x; });
  const auto by_text = distinct([](const std::string& s) { return std::string_view(s); });
  double sum = 0;
  double worst = 0;
  for (int seed = 0; seed < seeds; ++seed) {
    int64_t estimate;
    if (seed % 2 == 0) {
      std::mt19937_64 rng(1000 + seed);
      auto acc = by_int.init();
      // Distinct odd multipliers of a random base: distinct 64-bit values.
      const uint64_t base = rng() | 1;
      for (int64_t i = 0; i < distinct_count; ++i) by_int.add(acc, base * static_cast<uint64_t>(2 * i + 1), 0);
      estimate = by_int.result(acc);
    } else {
      auto acc = by_text.init();
      std::string s;
      for (int64_t i = 0; i < distinct_count; ++i) {
        s = "card-" + std::to_string(seed) + ":" + std::to_string(i);
        by_text.add(acc, s, 0);
      }
      estimate = by_text.result(acc);
    }
    const double error = std::fabs(static_cast<double>(estimate - distinct_count)) / distinct_count;
    sum += error;
    worst = std::max(worst, error);
  }
  return {sum / seeds, worst};
}

// p = 12: standard error 1.04 / sqrt(4096) = 1.63%; the mean absolute error
// of an unbiased estimator is then ~1.3%.
TEST(DistinctAggregateTest, RelativeErrorWithinBounds) {
  for (int64_t n : {1'000, 10'000, 100'000, 1'000'000}) {
    const int seeds = n >= 1'000'000 ? 20 : 40;
    const ErrorFigures e = measure_error(n, seeds);
    std::printf("distinct n=%lld seeds=%d mean |rel err|=%.2f%% max=%.2f%%\n", static_cast<long long>(n), seeds,
                100 * e.mean_abs, 100 * e.max_abs);
    EXPECT_LE(e.max_abs, 0.05) << n;  // ~3 standard errors
    EXPECT_LE(e.mean_abs, 0.02) << n;
  }
}

}  // namespace
}  // namespace kappa::agg
