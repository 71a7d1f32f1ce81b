#include "operators/aggregate/min.h"

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

static_assert(Aggregate<decltype(min(&Txn::amount)), Txn>);

TEST(MinAggregateTest, NoValuesIsNullopt) {
  const auto agg = min(&Txn::amount);
  auto acc = agg.init();
  EXPECT_EQ(agg.result(acc), std::nullopt);
  agg.add(acc, testing::amount(std::nullopt), 0);
  agg.add(acc, testing::amount(kNaN), 0);
  EXPECT_EQ(agg.result(acc), std::nullopt);
}

TEST(MinAggregateTest, OneValueNegativesAndInfinities) {
  const auto agg = min(&Txn::amount);
  auto acc = agg.init();
  agg.add(acc, testing::amount(3.0), 0);
  EXPECT_EQ(agg.result(acc), 3.0);
  agg.add(acc, testing::amount(kNaN), 0);
  agg.add(acc, testing::amount(-7.0), 0);
  agg.add(acc, testing::amount(2.0), 0);
  EXPECT_EQ(agg.result(acc), -7.0);

  // +inf is a value, not "no value".
  auto inf_acc = agg.init();
  agg.add(inf_acc, testing::amount(kInf), 0);
  EXPECT_EQ(agg.result(inf_acc), kInf);
  agg.add(inf_acc, testing::amount(-kInf), 0);
  EXPECT_EQ(agg.result(inf_acc), -kInf);
}

TEST(MinAggregateTest, MergeWithEmptyKeepsValue) {
  const auto agg = min(&Txn::amount);
  auto acc = agg.init();
  agg.add(acc, testing::amount(4.0), 0);
  agg.merge(acc, agg.init());
  EXPECT_EQ(agg.result(acc), 4.0);
  auto empty = agg.init();
  agg.merge(empty, acc);
  EXPECT_EQ(agg.result(empty), 4.0);
}

TEST(MinAggregateTest, EveryPathMatchesBruteForceExactly) {
  const auto agg = min(&Txn::amount);
  std::mt19937_64 rng(13);
  for (int round = 0; round < 200; ++round) {
    const auto events = testing::random_events(rng);
    const auto xs = testing::present_amounts(events);
    const std::optional<double> expected =
        xs.empty() ? std::nullopt : std::optional<double>(*std::min_element(xs.begin(), xs.end()));
    const auto results = testing::run_every_path(agg, events, rng);
    testing::for_each_path(results, [&](const std::optional<double>& r, const char* path) {
      EXPECT_EQ(r, expected) << path << " round " << round;
    });
  }
}

TEST(MinAggregateTest, RejectsMalformedBytes) {
  const auto agg = min(&Txn::amount);
  MinAccumulator acc;
  std::string_view bad_flag("\x02", 1);
  EXPECT_FALSE(agg.deserialize(bad_flag, acc));
  std::string nan_value("\x01");
  encoding::put_double(nan_value, kNaN);
  std::string_view in = nan_value;
  EXPECT_FALSE(agg.deserialize(in, acc));
}

}  // namespace
}  // namespace kappa::agg
