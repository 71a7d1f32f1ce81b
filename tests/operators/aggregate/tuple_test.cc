#include "operators/aggregate/tuple.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "operators/aggregate/builtins.h"
#include "tests/operators/aggregate/aggregate_harness.h"
#include "tests/operators/aggregate/test_events.h"

namespace kappa::agg {
namespace {

using testing::Txn;

auto all_features() {
  return aggregates(count(), sum(&Txn::amount), min(&Txn::amount), max(&Txn::amount), mean(&Txn::amount),
                    variance(&Txn::amount), stddev(&Txn::amount), first(&Txn::amount), last(&Txn::merchant),
                    distinct(&Txn::merchant));
}

using AllFeatures = decltype(all_features());
static_assert(Aggregate<AllFeatures, Txn>);
static_assert(SerializableAggregate<AllFeatures>);
static_assert(std::is_same_v<AllFeatures::result_type,
                             std::tuple<int64_t, double, std::optional<double>, std::optional<double>,
                                        std::optional<double>, std::optional<double>, std::optional<double>,
                                        std::optional<double>, std::optional<std::string>, int64_t>>);
// A member that does not accept the element type makes the tuple not accept it.
static_assert(!Aggregate<decltype(aggregates(count(), sum(&Txn::amount))), int>);
static_assert(Aggregate<decltype(aggregates(count())), int>);

TEST(TupleAggregateTest, NoElements) {
  const auto agg = all_features();
  const auto r = agg.result(agg.init());
  EXPECT_EQ(std::get<0>(r), 0);
  EXPECT_EQ(std::get<1>(r), 0.0);
  EXPECT_EQ(std::get<2>(r), std::nullopt);
  EXPECT_EQ(std::get<7>(r), std::nullopt);
  EXPECT_EQ(std::get<8>(r), std::nullopt);
  EXPECT_EQ(std::get<9>(r), 0);
}

// Runs each member of `agg` on its own, in one accumulator.
template <std::size_t... I>
AllFeatures::result_type run_members_alone(const AllFeatures& agg, const std::vector<testing::Event<Txn>>& events,
                                           std::index_sequence<I...>) {
  auto run = [&](const auto& member) {
    auto acc = member.init();
    for (const auto& e : events) member.add(acc, e.value, e.ts);
    return member.result(acc);
  };
  return AllFeatures::result_type(run(agg.member<I>())...);
}

// Each member's result equals the result of that aggregate run alone.
TEST(TupleAggregateTest, EveryPathMatchesTheMembersRunAlone) {
  const auto agg = all_features();
  std::mt19937_64 rng(28);
  for (int round = 0; round < 100; ++round) {
    const auto events = testing::random_events(rng, testing::with_time_range(50, 500));
    const AllFeatures::result_type alone =
        run_members_alone(agg, events, std::make_index_sequence<std::tuple_size_v<AllFeatures::result_type>>{});
    const auto results = testing::run_every_path(agg, events, rng);
    testing::for_each_path(results, [&](const AllFeatures::result_type& r, const char* path) {
      EXPECT_EQ(std::get<0>(r), std::get<0>(alone)) << path;
      EXPECT_EQ(std::get<1>(r), std::get<1>(alone)) << path;
      EXPECT_EQ(std::get<2>(r), std::get<2>(alone)) << path;
      EXPECT_EQ(std::get<3>(r), std::get<3>(alone)) << path;
      EXPECT_TRUE(testing::near_relative(std::get<4>(r), std::get<4>(alone), 1e-9)) << path;
      EXPECT_TRUE(testing::near_relative(std::get<5>(r), std::get<5>(alone), 1e-9)) << path;
      EXPECT_TRUE(testing::near_relative(std::get<6>(r), std::get<6>(alone), 1e-9)) << path;
      EXPECT_EQ(std::get<7>(r), std::get<7>(alone)) << path;
      EXPECT_EQ(std::get<8>(r), std::get<8>(alone)) << path;
      EXPECT_EQ(std::get<9>(r), std::get<9>(alone)) << path;
    });
  }
}

TEST(TupleAggregateTest, SerializedFormIsTheMembersConcatenated) {
  const auto agg = aggregates(count(), sum(&Txn::amount));
  auto acc = agg.init();
  agg.add(acc, testing::amount(2.5), 0);
  agg.add(acc, testing::amount(1.0), 0);
  std::string bytes;
  agg.serialize(acc, bytes);
  std::string expected;
  agg.member<0>().serialize(std::get<0>(acc), expected);
  agg.member<1>().serialize(std::get<1>(acc), expected);
  EXPECT_EQ(bytes, expected);
  EXPECT_EQ(testing::round_trip(agg, acc), acc);
}

}  // namespace
}  // namespace kappa::agg
