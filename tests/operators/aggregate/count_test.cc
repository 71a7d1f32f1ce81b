#include "operators/aggregate/count.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "tests/operators/aggregate/aggregate_harness.h"
#include "tests/operators/aggregate/test_events.h"

namespace kappa::agg {
namespace {

using testing::Txn;

static_assert(Aggregate<CountAggregate, Txn>);
static_assert(Aggregate<CountAggregate, int>);
static_assert(SerializableAggregate<CountAggregate>);

TEST(CountAggregateTest, NoElementsIsZero) {
  const auto agg = count();
  EXPECT_EQ(agg.result(agg.init()), 0);
}

TEST(CountAggregateTest, CountsEveryElementEvenWithoutValues) {
  const auto agg = count();
  auto acc = agg.init();
  agg.add(acc, Txn{}, 5);
  agg.add(acc, testing::amount(1.0), 5);
  agg.add(acc, testing::amount(std::nullopt), -3);
  EXPECT_EQ(agg.result(acc), 3);
}

TEST(CountAggregateTest, EveryPathMatchesBruteForce) {
  const auto agg = count();
  std::mt19937_64 rng(11);
  for (int round = 0; round < 200; ++round) {
    const auto events = testing::random_events(rng);
    const auto results = testing::run_every_path(agg, events, rng);
    testing::for_each_path(results, [&](int64_t r, const char* path) {
      EXPECT_EQ(r, static_cast<int64_t>(events.size())) << path << " round " << round;
    });
  }
}

TEST(CountAggregateTest, RejectsMalformedBytes) {
  const auto agg = count();
  CountAccumulator acc;
  std::string_view overlong("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 10);  // > 2^63
  EXPECT_FALSE(agg.deserialize(overlong, acc));
  std::string_view empty;
  EXPECT_FALSE(agg.deserialize(empty, acc));
}

}  // namespace
}  // namespace kappa::agg
