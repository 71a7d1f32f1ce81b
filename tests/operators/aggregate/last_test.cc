#include "operators/aggregate/last.h"

#include <gtest/gtest.h>

#include <limits>
#include <optional>
#include <random>
#include <string>

#include "tests/operators/aggregate/aggregate_harness.h"
#include "tests/operators/aggregate/test_events.h"

namespace kappa::agg {
namespace {

using testing::Txn;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

static_assert(std::is_same_v<decltype(last(&Txn::quantity))::result_type, std::optional<double>>);
static_assert(std::is_same_v<decltype(last(&Txn::merchant))::result_type, std::optional<std::string>>);
static_assert(Aggregate<decltype(last(&Txn::amount)), Txn>);
static_assert(SerializableAggregate<decltype(last(&Txn::merchant))>);

TEST(LastAggregateTest, NoValuesIsNullopt) {
  const auto agg = last(&Txn::amount);
  auto acc = agg.init();
  EXPECT_EQ(agg.result(acc), std::nullopt);
  agg.add(acc, testing::amount(std::nullopt), 1);
  agg.add(acc, testing::amount(kNaN), 0);
  EXPECT_EQ(agg.result(acc), std::nullopt);
}

TEST(LastAggregateTest, LargestTimeWinsWhateverTheOrder) {
  const auto agg = last(&Txn::amount);
  auto acc = agg.init();
  agg.add(acc, testing::amount(1.0), 20);
  EXPECT_EQ(agg.result(acc), 1.0);
  agg.add(acc, testing::amount(-2.0), 30);
  agg.add(acc, testing::amount(3.0), 10);
  agg.add(acc, testing::amount(std::nullopt), 40);  // no value: ignored
  agg.add(acc, testing::amount(kNaN), 40);
  EXPECT_EQ(agg.result(acc), -2.0);
  agg.add(acc, testing::amount(9.0), kMaxTimestamp);
  EXPECT_EQ(agg.result(acc), 9.0);
  auto early = agg.init();
  agg.add(early, testing::amount(4.0), kMinTimestamp);
  EXPECT_EQ(agg.result(early), 4.0);
}

TEST(LastAggregateTest, TiesTakeTheLaterAddedAndOthersInMerge) {
  const auto agg = last(&Txn::amount);
  auto acc = agg.init();
  agg.add(acc, testing::amount(1.0), 10);
  agg.add(acc, testing::amount(2.0), 10);
  EXPECT_EQ(agg.result(acc), 2.0);

  auto other = agg.init();
  agg.add(other, testing::amount(3.0), 10);
  agg.merge(acc, other);
  EXPECT_EQ(agg.result(acc), 3.0);
  auto earlier = agg.init();
  agg.add(earlier, testing::amount(4.0), 9);
  agg.merge(acc, earlier);
  EXPECT_EQ(agg.result(acc), 3.0);
  agg.merge(acc, agg.init());
  EXPECT_EQ(agg.result(acc), 3.0);
}

TEST(LastAggregateTest, EveryPathMatchesBruteForceExactly) {
  const auto agg = last(&Txn::amount);
  std::mt19937_64 rng(20);
  for (int round = 0; round < 300; ++round) {
    const auto events = testing::random_events(rng, testing::with_time_range(round % 2 == 0 ? 20 : 100'000));
    const std::optional<double> expected = testing::brute_first_last(events, /*first=*/false);
    testing::for_each_path(testing::run_every_path(agg, events, rng),
                           [&](const std::optional<double>& r, const char* path) {
                             EXPECT_EQ(r, expected) << path << " round " << round;
                           });
  }
}

TEST(LastAggregateTest, TextEveryPathMatchesBruteForce) {
  const auto agg = last(&Txn::merchant);
  std::mt19937_64 rng(21);
  for (int round = 0; round < 100; ++round) {
    const auto events = testing::random_events(rng, testing::with_time_range(30));
    std::optional<std::string> expected;
    Timestamp best = 0;
    for (const auto& e : events) {
      if (!expected || e.ts >= best) {
        expected = e.value.merchant;
        best = e.ts;
      }
    }
    testing::for_each_path(testing::run_every_path(agg, events, rng),
                           [&](const std::optional<std::string>& r, const char* path) {
                             EXPECT_EQ(r, expected) << path << " round " << round;
                           });
  }
}

}  // namespace
}  // namespace kappa::agg
