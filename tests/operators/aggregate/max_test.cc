#include "operators/aggregate/max.h"

#include <gtest/gtest.h>

#include <algorithm>
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

static_assert(Aggregate<decltype(max(&Txn::amount)), Txn>);

TEST(MaxAggregateTest, NoValuesIsNullopt) {
  const auto agg = max(&Txn::amount);
  auto acc = agg.init();
  EXPECT_EQ(agg.result(acc), std::nullopt);
  agg.add(acc, testing::amount(std::nullopt), 0);
  agg.add(acc, testing::amount(kNaN), 0);
  EXPECT_EQ(agg.result(acc), std::nullopt);
}

TEST(MaxAggregateTest, OneValueNegativesAndInfinities) {
  const auto agg = max(&Txn::amount);
  auto acc = agg.init();
  agg.add(acc, testing::amount(-3.0), 0);
  EXPECT_EQ(agg.result(acc), -3.0);
  agg.add(acc, testing::amount(kNaN), 0);
  agg.add(acc, testing::amount(-7.0), 0);
  agg.add(acc, testing::amount(-2.0), 0);
  EXPECT_EQ(agg.result(acc), -2.0);

  // -inf is a value, not "no value".
  auto inf_acc = agg.init();
  agg.add(inf_acc, testing::amount(-kInf), 0);
  EXPECT_EQ(agg.result(inf_acc), -kInf);
  agg.add(inf_acc, testing::amount(kInf), 0);
  EXPECT_EQ(agg.result(inf_acc), kInf);
}

TEST(MaxAggregateTest, MergeWithEmptyKeepsValue) {
  const auto agg = max(&Txn::amount);
  auto acc = agg.init();
  agg.add(acc, testing::amount(4.0), 0);
  agg.merge(acc, agg.init());
  EXPECT_EQ(agg.result(acc), 4.0);
  auto empty = agg.init();
  agg.merge(empty, acc);
  EXPECT_EQ(agg.result(empty), 4.0);
}

TEST(MaxAggregateTest, EveryPathMatchesBruteForceExactly) {
  const auto agg = max(&Txn::amount);
  std::mt19937_64 rng(14);
  for (int round = 0; round < 200; ++round) {
    const auto events = testing::random_events(rng);
    const auto xs = testing::present_amounts(events);
    const std::optional<double> expected =
        xs.empty() ? std::nullopt : std::optional<double>(*std::max_element(xs.begin(), xs.end()));
    const auto results = testing::run_every_path(agg, events, rng);
    testing::for_each_path(results, [&](const std::optional<double>& r, const char* path) {
      EXPECT_EQ(r, expected) << path << " round " << round;
    });
  }
}

TEST(MaxAggregateTest, RejectsMalformedBytes) {
  const auto agg = max(&Txn::amount);
  MaxAccumulator acc;
  std::string_view bad_flag("\x02", 1);
  EXPECT_FALSE(agg.deserialize(bad_flag, acc));
  std::string nan_value("\x01");
  encoding::put_double(nan_value, kNaN);
  std::string_view in = nan_value;
  EXPECT_FALSE(agg.deserialize(in, acc));
}

}  // namespace
}  // namespace kappa::agg
