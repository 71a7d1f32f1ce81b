#include "jobs/window_agg/result_format.h"

#include <gtest/gtest.h>

#include <limits>

namespace kappa::window_agg {
namespace {

const std::vector<AggregateSpec> kSpecs = {
    {AggregateKind::kCount, ""}, {AggregateKind::kMean, ""}, {AggregateKind::kDistinct, "merchant"}};

TEST(ResultFormat, Window) {
  const ResultFormat format("card", kSpecs, /*with_final_flag=*/false);
  WindowResult<std::string, AggregateValues> r;
  r.key = "c1";
  r.start = 60000;
  r.end = 120000;
  r.value = {int64_t{3}, 2.5, int64_t{2}};
  EXPECT_EQ(format.window(r),
            R"({"card":"c1","window_start":60000,"window_end":120000,"count":3,"mean":2.5,"distinct_merchant":2})");
  r.value = {int64_t{1}, std::monostate{}, int64_t{0}};
  r.start = -60000;
  r.end = 0;
  EXPECT_EQ(format.window(r),
            R"({"card":"c1","window_start":-60000,"window_end":0,"count":1,"mean":null,"distinct_merchant":0})");
}

TEST(ResultFormat, FinalFlagInUpdatesMode) {
  const ResultFormat format("card", {{AggregateKind::kCount, ""}}, /*with_final_flag=*/true);
  WindowResult<std::string, AggregateValues> r{"c1", 0, 10, {int64_t{1}}, false};
  EXPECT_EQ(format.window(r), R"({"card":"c1","window_start":0,"window_end":10,"count":1,"final":false})");
  r.is_final = true;
  EXPECT_EQ(format.window(r), R"({"card":"c1","window_start":0,"window_end":10,"count":1,"final":true})");
}

TEST(ResultFormat, NumbersAreShortestExactAndNonFiniteIsNull) {
  const ResultFormat format("k", {{AggregateKind::kSum, ""}}, false);
  KeyedResult<std::string, AggregateValues> r{"a", {0.1 + 0.2}};
  EXPECT_EQ(format.running(r), R"({"k":"a","sum":0.30000000000000004})");
  r.value = {1e21};
  EXPECT_EQ(format.running(r), R"({"k":"a","sum":1e+21})");
  r.value = {123456789.0};
  EXPECT_EQ(format.running(r), R"({"k":"a","sum":123456789})");
  r.value = {std::numeric_limits<double>::infinity()};
  EXPECT_EQ(format.running(r), R"({"k":"a","sum":null})");
  r.value = {std::numeric_limits<double>::quiet_NaN()};
  EXPECT_EQ(format.running(r), R"({"k":"a","sum":null})");
}

TEST(ResultFormat, NamesAndKeysAreEscaped) {
  const ResultFormat format("the \"key\"", {{AggregateKind::kDistinct, "a\\b"}}, false);
  KeyedResult<std::string, AggregateValues> r{"line\nbreak\x01", {int64_t{1}}};
  EXPECT_EQ(format.running(r), R"({"the \"key\"":"line\nbreak\u0001","distinct_a\\b":1})");
}

TEST(ResultFormat, RollingCopiesTheEventAndReplacesFieldsNamedLikeAnAggregate) {
  const ResultFormat format("card", kSpecs, false);
  RollingResult<std::string, JsonRecord, AggregateValues> r;
  ASSERT_TRUE(
      r.event.parse(R"({"card":7, "count":"x","amount":1.50,"tags":["a" , "b"],"e\u0041":{"n":null}})").is_ok());
  r.key = "7";
  r.value = {int64_t{2}, 1.25, int64_t{1}};
  EXPECT_EQ(
      format.rolling(r),
      R"({"card":7,"amount":1.50,"tags":["a" , "b"],"eA":{"n":null},"count":2,"mean":1.25,"distinct_merchant":1})");

  ASSERT_TRUE(r.event.parse(R"({"count":1})").is_ok());
  EXPECT_EQ(format.rolling(r), R"({"count":2,"mean":1.25,"distinct_merchant":1})");
}

}  // namespace
}  // namespace kappa::window_agg
