#include "operators/aggregate/sum.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <optional>
#include <random>

#include "tests/operators/aggregate/aggregate_harness.h"
#include "tests/operators/aggregate/test_events.h"

namespace kappa::agg {
namespace {

using testing::Txn;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(SumAggregateTest, AcceptsNumbersOptionalsAndMemberPointers) {
  auto by_lambda = sum([](const Txn& t) { return t.quantity; });
  auto by_member = sum(&Txn::amount);
  auto by_optional_int = sum([](const Txn& t) -> std::optional<int> { return static_cast<int>(t.quantity); });
  auto by_bool = sum([](const Txn& t) { return t.quantity > 0; });
  static_assert(Aggregate<decltype(by_lambda), Txn>);
  static_assert(Aggregate<decltype(by_member), Txn>);
  static_assert(Aggregate<decltype(by_optional_int), Txn>);
  static_assert(Aggregate<decltype(by_bool), Txn>);
  static_assert(SerializableAggregate<decltype(by_member)>);
  // The element type must fit the function: the concept says so.
  static_assert(!Aggregate<decltype(by_lambda), int>);
  auto by_text = sum([](const Txn& t) { return t.merchant; });
  static_assert(!Aggregate<decltype(by_text), Txn>);

  auto acc = by_bool.init();
  by_bool.add(acc, testing::quantity(3), 0);
  by_bool.add(acc, testing::quantity(-3), 0);
  by_bool.add(acc, testing::quantity(4), 0);
  EXPECT_EQ(by_bool.result(acc), 2.0);
}

TEST(SumAggregateTest, NoValuesIsZero) {
  const auto agg = sum(&Txn::amount);
  auto acc = agg.init();
  EXPECT_EQ(agg.result(acc), 0.0);
  agg.add(acc, testing::amount(std::nullopt), 0);
  agg.add(acc, testing::amount(kNaN), 0);
  EXPECT_EQ(agg.result(acc), 0.0);
}

TEST(SumAggregateTest, IgnoresNullAndNaNAndKeepsNegatives) {
  const auto agg = sum(&Txn::amount);
  auto acc = agg.init();
  agg.add(acc, testing::amount(-2.5), 0);
  agg.add(acc, testing::amount(kNaN), 0);
  agg.add(acc, testing::amount(std::nullopt), 0);
  agg.add(acc, testing::amount(1.0), 0);
  EXPECT_EQ(agg.result(acc), -1.5);
}

TEST(SumAggregateTest, InfinitiesFollowIeee) {
  const auto agg = sum(&Txn::amount);
  auto acc = agg.init();
  agg.add(acc, testing::amount(kInf), 0);
  agg.add(acc, testing::amount(1.0), 0);
  EXPECT_EQ(agg.result(acc), kInf);
  agg.add(acc, testing::amount(-kInf), 0);
  EXPECT_TRUE(std::isnan(agg.result(acc)));
}

TEST(SumAggregateTest, EveryPathMatchesBruteForceExactly) {
  const auto agg = sum(&Txn::amount);
  std::mt19937_64 rng(12);
  for (int round = 0; round < 200; ++round) {
    const auto events = testing::random_events(rng);
    double expected = 0;
    for (double x : testing::present_amounts(events)) expected += x;
    const auto results = testing::run_every_path(agg, events, rng);
    testing::for_each_path(results,
                           [&](double r, const char* path) { EXPECT_EQ(r, expected) << path << " round " << round; });
  }
}

}  // namespace
}  // namespace kappa::agg
