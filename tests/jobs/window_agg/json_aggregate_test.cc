#include "jobs/window_agg/json_aggregate.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "operators/aggregate/aggregate.h"

namespace kappa::window_agg {
namespace {

static_assert(Aggregate<JsonAggregate, JsonRecord>);
static_assert(SerializableAggregate<JsonAggregate>);

std::vector<AggregateSpec> all_specs() {
  return {{AggregateKind::kCount, ""},  {AggregateKind::kSum, ""},
          {AggregateKind::kMin, ""},    {AggregateKind::kMax, ""},
          {AggregateKind::kMean, ""},   {AggregateKind::kVariance, ""},
          {AggregateKind::kStddev, ""}, {AggregateKind::kFirst, ""},
          {AggregateKind::kLast, ""},   {AggregateKind::kDistinct, "merchant"}};
}

struct Input {
  Timestamp ts;
  std::string json;
};

// Amounts 4, 8, (none), 6, (not a number) at times 30, 10, 20, 40, 50; merchants a, b, a, c, (none).
std::vector<Input> inputs() {
  return {{30, R"({"amount":4,"merchant":"a"})"},
          {10, R"({"amount":8,"merchant":"b"})"},
          {20, R"({"merchant":"a"})"},
          {40, R"({"amount":6,"merchant":"c"})"},
          {50, R"({"amount":"n/a","merchant":null})"}};
}

JsonAggregate::accumulator_type fold(const JsonAggregate& agg, const std::vector<Input>& in, std::size_t from,
                                     std::size_t to) {
  JsonAggregate::accumulator_type acc = agg.init();
  for (std::size_t i = from; i < to; ++i) {
    JsonRecord r;
    EXPECT_TRUE(r.parse(in[i].json).is_ok());
    agg.add(acc, r, in[i].ts);
  }
  return acc;
}

double number(const AggregateValue& v) {
  if (const double* x = std::get_if<double>(&v)) return *x;
  ADD_FAILURE() << "not a double";
  return NAN;
}

TEST(JsonAggregate, EveryAggregateInOnePass) {
  const JsonAggregate agg(all_specs(), "amount");
  const auto in = inputs();
  const JsonAggregate::result_type r = agg.result(fold(agg, in, 0, in.size()));
  ASSERT_EQ(r.size(), 10u);
  EXPECT_EQ(std::get<int64_t>(r[0]), 5);  // count counts records without a value too
  EXPECT_EQ(number(r[1]), 18.0);
  EXPECT_EQ(number(r[2]), 4.0);
  EXPECT_EQ(number(r[3]), 8.0);
  EXPECT_EQ(number(r[4]), 6.0);
  EXPECT_DOUBLE_EQ(number(r[5]), 4.0);  // sample variance of 4, 8, 6
  EXPECT_DOUBLE_EQ(number(r[6]), 2.0);
  EXPECT_EQ(number(r[7]), 8.0);  // at time 10
  EXPECT_EQ(number(r[8]), 6.0);  // at time 40; the record at 50 has no value
  EXPECT_EQ(std::get<int64_t>(r[9]), 3);
}

TEST(JsonAggregate, NoValuesGiveNull) {
  const JsonAggregate agg(all_specs(), "amount");
  const JsonAggregate::result_type empty = agg.result(agg.init());
  EXPECT_EQ(std::get<int64_t>(empty[0]), 0);
  EXPECT_EQ(number(empty[1]), 0.0);  // sum of nothing, as agg::sum defines it
  for (int i : {2, 3, 4, 5, 6, 7, 8}) EXPECT_TRUE(std::holds_alternative<std::monostate>(empty[i])) << i;
  EXPECT_EQ(std::get<int64_t>(empty[9]), 0);

  const auto in = inputs();
  const JsonAggregate::result_type one = agg.result(fold(agg, in, 0, 1));
  EXPECT_EQ(number(one[4]), 4.0);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(one[5]));  // variance of one value
  EXPECT_TRUE(std::holds_alternative<std::monostate>(one[6]));
}

// Equal, but for rounding in doubles (Welford's updates and Chan's merges
// round differently).
void expect_near(const JsonAggregate::result_type& actual, const JsonAggregate::result_type& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) {
    ASSERT_EQ(actual[i].index(), expected[i].index()) << "slot " << i;
    if (const double* x = std::get_if<double>(&expected[i])) {
      EXPECT_NEAR(std::get<double>(actual[i]), *x, 1e-12 * std::max(1.0, std::fabs(*x))) << "slot " << i;
    } else {
      EXPECT_EQ(actual[i], expected[i]) << "slot " << i;
    }
  }
}

TEST(JsonAggregate, MergeOfAnySplitEqualsOnePass) {
  const JsonAggregate agg(all_specs(), "amount");
  // Times in order, so that splits are merged in time order as operators do.
  std::vector<Input> in = inputs();
  std::sort(in.begin(), in.end(), [](const Input& a, const Input& b) { return a.ts < b.ts; });
  const JsonAggregate::result_type whole = agg.result(fold(agg, in, 0, in.size()));
  for (std::size_t split = 0; split <= in.size(); ++split) {
    JsonAggregate::accumulator_type acc = fold(agg, in, 0, split);
    agg.merge(acc, fold(agg, in, split, in.size()));
    SCOPED_TRACE("split at " + std::to_string(split));
    expect_near(agg.result(acc), whole);
  }
}

TEST(JsonAggregate, SerializesThroughTheBuiltIns) {
  const JsonAggregate agg(all_specs(), "amount");
  const auto in = inputs();
  const JsonAggregate::accumulator_type acc = fold(agg, in, 0, in.size());
  std::string bytes;
  agg.serialize(acc, bytes);
  bytes += "tail";

  std::string_view view(bytes);
  JsonAggregate::accumulator_type back;
  ASSERT_TRUE(agg.deserialize(view, back));
  EXPECT_EQ(view, "tail");
  EXPECT_EQ(back, acc);

  for (std::size_t n = 0; n + 4 < bytes.size(); ++n) {
    std::string_view truncated(bytes.data(), n);
    EXPECT_FALSE(agg.deserialize(truncated, back)) << "accepted " << n << " bytes";
  }
  // Another aggregate list cannot read them.
  const JsonAggregate fewer({{AggregateKind::kCount, ""}}, "");
  std::string_view again(bytes);
  EXPECT_FALSE(fewer.deserialize(again, back));
}

TEST(JsonAggregate, ValueIsReadOnlyWhenNeeded) {
  // Without --value only count and distinct are possible; records need no value field.
  const JsonAggregate agg({{AggregateKind::kDistinct, "ip"}, {AggregateKind::kCount, ""}}, "");
  JsonAggregate::accumulator_type acc = agg.init();
  for (const char* json : {R"({"ip":"10.0.0.1"})", R"({"ip":"10.0.0.2"})", R"({"ip":"10.0.0.1"})", R"({"ip":7})",
                           R"({"ip":"7"})", R"({})"}) {
    JsonRecord r;
    ASSERT_TRUE(r.parse(json).is_ok());
    agg.add(acc, r, 0);
  }
  // The number 7 and the string "7" have the same text: one value.
  EXPECT_EQ(agg.result(acc), (JsonAggregate::result_type{int64_t{3}, int64_t{6}}));
}

}  // namespace
}  // namespace kappa::window_agg
