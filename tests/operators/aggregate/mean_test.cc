#include "operators/aggregate/mean.h"

#include <gtest/gtest.h>

#include <limits>
#include <optional>
#include <random>

#include "tests/operators/aggregate/aggregate_harness.h"
#include "tests/operators/aggregate/test_events.h"

namespace kappa::agg {
namespace {

using testing::Txn;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

static_assert(Aggregate<decltype(mean(&Txn::amount)), Txn>);
static_assert(SerializableAggregate<decltype(mean(&Txn::amount))>);

TEST(MeanAggregateTest, NoValuesIsNullopt) {
  const auto agg = mean(&Txn::amount);
  auto acc = agg.init();
  EXPECT_EQ(agg.result(acc), std::nullopt);
  agg.add(acc, testing::amount(std::nullopt), 0);
  agg.add(acc, testing::amount(kNaN), 0);
  EXPECT_EQ(agg.result(acc), std::nullopt);
}

TEST(MeanAggregateTest, OneValueAndNegatives) {
  const auto agg = mean(&Txn::amount);
  auto acc = agg.init();
  agg.add(acc, testing::amount(-4.0), 0);
  EXPECT_EQ(agg.result(acc), -4.0);
  agg.add(acc, testing::amount(kNaN), 0);  // not counted
  agg.add(acc, testing::amount(1.0), 0);
  EXPECT_EQ(agg.result(acc), -1.5);
}

TEST(MeanAggregateTest, EveryPathMatchesBruteForce) {
  const auto agg = mean(&Txn::amount);
  std::mt19937_64 rng(15);
  for (int round = 0; round < 200; ++round) {
    const auto events = testing::random_events(rng);
    const auto xs = testing::present_amounts(events);
    std::optional<double> expected;
    if (!xs.empty()) {
      long double total = 0;
      for (double x : xs) total += x;
      expected = static_cast<double>(total / xs.size());
    }
    const auto results = testing::run_every_path(agg, events, rng);
    testing::for_each_path(results, [&](const std::optional<double>& r, const char* path) {
      EXPECT_TRUE(testing::near_relative(r, expected, 1e-9)) << path << " round " << round;
    });
  }
}

}  // namespace
}  // namespace kappa::agg
