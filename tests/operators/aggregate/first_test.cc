#include "operators/aggregate/first.h"

#include <gtest/gtest.h>

#include <limits>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "tests/operators/aggregate/aggregate_harness.h"
#include "tests/operators/aggregate/test_events.h"

namespace kappa::agg {
namespace {

using testing::Txn;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Numbers are kept as double, text as std::string; generic lambdas name it.
static_assert(std::is_same_v<decltype(first(&Txn::amount)), FirstAggregate<std::optional<double> Txn::*, double>>);
static_assert(std::is_same_v<decltype(first(&Txn::quantity))::result_type, std::optional<double>>);
static_assert(std::is_same_v<decltype(first(&Txn::merchant))::result_type, std::optional<std::string>>);
static_assert(std::is_same_v<decltype(first([](const Txn& t) -> std::string_view { return t.merchant; }))::result_type,
                             std::optional<std::string>>);
static_assert(std::is_same_v<decltype(first<double>([](const auto& t) { return t.quantity; }))::result_type,
                             std::optional<double>>);
static_assert(Aggregate<decltype(first(&Txn::merchant)), Txn>);
static_assert(SerializableAggregate<decltype(first(&Txn::merchant))>);
static_assert(!Aggregate<decltype(first<std::string>([](const auto& t) { return t.quantity; })), Txn>);

TEST(FirstAggregateTest, NoValuesIsNullopt) {
  const auto agg = first(&Txn::amount);
  auto acc = agg.init();
  EXPECT_EQ(agg.result(acc), std::nullopt);
  agg.add(acc, testing::amount(std::nullopt), 1);
  agg.add(acc, testing::amount(kNaN), 0);
  EXPECT_EQ(agg.result(acc), std::nullopt);
}

TEST(FirstAggregateTest, SmallestTimeWinsWhateverTheOrder) {
  const auto agg = first(&Txn::amount);
  auto acc = agg.init();
  agg.add(acc, testing::amount(1.0), 20);
  EXPECT_EQ(agg.result(acc), 1.0);
  agg.add(acc, testing::amount(-2.0), 10);
  agg.add(acc, testing::amount(3.0), 30);
  agg.add(acc, testing::amount(std::nullopt), 5);  // no value: ignored
  agg.add(acc, testing::amount(kNaN), 5);
  EXPECT_EQ(agg.result(acc), -2.0);
  // Extreme times are ordinary times.
  agg.add(acc, testing::amount(9.0), kMinTimestamp);
  EXPECT_EQ(agg.result(acc), 9.0);
  auto late = agg.init();
  agg.add(late, testing::amount(4.0), kMaxTimestamp);
  EXPECT_EQ(agg.result(late), 4.0);
}

TEST(FirstAggregateTest, TiesKeepTheEarlierAddedAndAccsInMerge) {
  const auto agg = first(&Txn::amount);
  auto acc = agg.init();
  agg.add(acc, testing::amount(1.0), 10);
  agg.add(acc, testing::amount(2.0), 10);
  EXPECT_EQ(agg.result(acc), 1.0);

  auto other = agg.init();
  agg.add(other, testing::amount(3.0), 10);
  agg.merge(acc, other);
  EXPECT_EQ(agg.result(acc), 1.0);
  auto earlier = agg.init();
  agg.add(earlier, testing::amount(4.0), 9);
  agg.merge(acc, earlier);
  EXPECT_EQ(agg.result(acc), 4.0);
  agg.merge(acc, agg.init());
  EXPECT_EQ(agg.result(acc), 4.0);
}

TEST(FirstAggregateTest, KeepsText) {
  const auto agg = first([](const Txn& t) -> std::optional<std::string_view> {
    if (t.merchant.empty()) return std::nullopt;
    return t.merchant;
  });
  auto acc = agg.init();
  agg.add(acc, testing::merchant("b"), 2);
  agg.add(acc, testing::merchant(""), 1);
  agg.add(acc, testing::merchant("a"), 2);
  EXPECT_EQ(agg.result(acc), "b");
  agg.add(acc, testing::merchant("c"), 0);
  EXPECT_EQ(agg.result(acc), "c");
  const auto restored = testing::round_trip(agg, acc);
  EXPECT_EQ(restored, acc);
}

TEST(FirstAggregateTest, EveryPathMatchesBruteForceExactly) {
  const auto agg = first(&Txn::amount);
  std::mt19937_64 rng(18);
  for (int round = 0; round < 300; ++round) {
    // Short time ranges: many ties.
    const auto events = testing::random_events(rng, testing::with_time_range(round % 2 == 0 ? 20 : 100'000));
    const std::optional<double> expected = testing::brute_first_last(events, /*first=*/true);
    testing::for_each_path(testing::run_every_path(agg, events, rng),
                           [&](const std::optional<double>& r, const char* path) {
                             EXPECT_EQ(r, expected) << path << " round " << round;
                           });
  }
}

TEST(FirstAggregateTest, TextEveryPathMatchesBruteForce) {
  const auto agg = first(&Txn::merchant);
  std::mt19937_64 rng(19);
  for (int round = 0; round < 100; ++round) {
    const auto events = testing::random_events(rng, testing::with_time_range(30));
    std::optional<std::string> expected;
    Timestamp best = 0;
    for (const auto& e : events) {
      if (!expected || e.ts < best) {
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
