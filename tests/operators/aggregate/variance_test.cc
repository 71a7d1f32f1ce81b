#include "operators/aggregate/variance.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <optional>
#include <random>
#include <vector>

#include "tests/operators/aggregate/aggregate_harness.h"
#include "tests/operators/aggregate/test_events.h"

namespace kappa::agg {
namespace {

using testing::Event;
using testing::Txn;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

static_assert(Aggregate<decltype(variance(&Txn::amount)), Txn>);
static_assert(Aggregate<decltype(stddev(&Txn::amount)), Txn>);
static_assert(SerializableAggregate<decltype(stddev(&Txn::amount))>);

TEST(VarianceAggregateTest, FewerThanTwoValuesIsNullopt) {
  const auto var = variance(&Txn::amount);
  const auto sd = stddev(&Txn::amount);
  auto acc = var.init();
  EXPECT_EQ(var.result(acc), std::nullopt);
  EXPECT_EQ(sd.result(acc), std::nullopt);
  var.add(acc, testing::amount(5.0), 0);
  var.add(acc, testing::amount(std::nullopt), 0);
  var.add(acc, testing::amount(kNaN), 0);
  EXPECT_EQ(var.result(acc), std::nullopt);
  EXPECT_EQ(sd.result(acc), std::nullopt);
}

TEST(VarianceAggregateTest, SampleVarianceOfSmallSets) {
  const auto var = variance(&Txn::amount);
  const auto sd = stddev(&Txn::amount);
  auto acc = var.init();
  for (double x : {2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0}) var.add(acc, testing::amount(x), 0);
  // Mean 5, squared deviations sum to 32, n - 1 = 7.
  EXPECT_DOUBLE_EQ(*var.result(acc), 32.0 / 7.0);
  EXPECT_DOUBLE_EQ(*sd.result(acc), std::sqrt(32.0 / 7.0));

  auto same = var.init();
  for (int i = 0; i < 10; ++i) var.add(same, testing::amount(-3.0), 0);
  EXPECT_EQ(var.result(same), 0.0);

  auto two = var.init();
  var.add(two, testing::amount(-1.0), 0);
  var.add(two, testing::amount(1.0), 0);
  EXPECT_EQ(var.result(two), 2.0);
}

TEST(VarianceAggregateTest, InfinityMakesNaN) {
  const auto var = variance(&Txn::amount);
  auto acc = var.init();
  var.add(acc, testing::amount(1.0), 0);
  var.add(acc, testing::amount(kInf), 0);
  ASSERT_TRUE(var.result(acc).has_value());
  EXPECT_TRUE(std::isnan(*var.result(acc)));
}

TEST(VarianceAggregateTest, EveryPathMatchesTwoPassComputation) {
  const auto var = variance(&Txn::amount);
  const auto sd = stddev(&Txn::amount);
  std::mt19937_64 rng(16);
  for (int round = 0; round < 200; ++round) {
    const auto events = testing::random_events(rng);
    const std::optional<double> expected = testing::brute_variance(testing::present_amounts(events));
    testing::for_each_path(testing::run_every_path(var, events, rng),
                           [&](const std::optional<double>& r, const char* path) {
                             EXPECT_TRUE(testing::near_relative(r, expected, 1e-9)) << path << " round " << round;
                           });
    const std::optional<double> expected_sd = expected ? std::optional<double>(std::sqrt(*expected)) : std::nullopt;
    testing::for_each_path(testing::run_every_path(sd, events, rng),
                           [&](const std::optional<double>& r, const char* path) {
                             EXPECT_TRUE(testing::near_relative(r, expected_sd, 1e-9)) << path << " round " << round;
                           });
  }
}

// Values around 1e9 with noise in [0, 1): the variance (~1/12) is 1e-19 of
// the squared mean, so E[x^2] - E[x]^2 in doubles loses every digit, while
// Welford and Chan keep it to ~1e-7 relative (the error of representing the
// inputs near 1e9 is already 1e-7 of the noise).
TEST(VarianceAggregateTest, StableWithLargeOffset) {
  const auto var = variance([](double x) { return x; });
  std::mt19937_64 rng(17);
  std::uniform_real_distribution<double> noise(0.0, 1.0);
  for (int round = 0; round < 5; ++round) {
    std::vector<Event<double>> events;
    std::vector<double> xs;
    for (int i = 0; i < 100'000; ++i) {
      const double x = 1e9 + noise(rng);
      xs.push_back(x);
      events.push_back({x, i});
    }
    const std::optional<double> two_pass = testing::brute_variance(xs);

    double sum = 0;
    double sum_sq = 0;
    for (double x : xs) {
      sum += x;
      sum_sq += x * x;
    }
    const double n = static_cast<double>(xs.size());
    const double naive = (sum_sq - sum * sum / n) / (n - 1);
    EXPECT_FALSE(testing::near_relative(naive, two_pass, 1e-2)) << "the naive formula should fail here";

    testing::for_each_path(testing::run_every_path(var, events, rng, 64),
                           [&](const std::optional<double>& r, const char* path) {
                             EXPECT_TRUE(testing::near_relative(r, two_pass, 1e-6)) << path << " round " << round;
                           });
  }
}

}  // namespace
}  // namespace kappa::agg
