#include "jobs/window_agg/record_fields.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>

namespace kappa::window_agg {
namespace {

JsonRecord record(std::string_view json) {
  JsonRecord r;
  EXPECT_TRUE(r.parse(json).is_ok()) << json;
  return r;
}

// The message of the std::invalid_argument that f throws.
template <class F>
std::string thrown(F f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  ADD_FAILURE() << "did not throw std::invalid_argument";
  return "";
}

TEST(KeyOf, StringsAndNumbersAsText) {
  const KeyOf key("card");
  EXPECT_EQ(key(record(R"({"card":"c-1"})")), "c-1");
  EXPECT_EQ(key(record(R"({"card":"a\"b"})")), "a\"b");
  EXPECT_EQ(key(record(R"({"card":42})")), "42");
  EXPECT_EQ(key(record(R"({"card":-7.5})")), "-7.5");
  EXPECT_EQ(key(record(R"({"card":""})")), "");
}

TEST(KeyOf, MissingOrMistypedKeyThrowsNamingTheField) {
  const KeyOf key("card");
  EXPECT_EQ(thrown([&] { key(record(R"({"id":1})")); }), "field 'card' is missing");
  EXPECT_EQ(thrown([&] { key(record(R"({"card":null})")); }),
            "field 'card' must be a string or a number to be a key, not null");
  EXPECT_EQ(thrown([&] { key(record(R"({"card":{"id":1}})")); }),
            "field 'card' must be a string or a number to be a key, not an object");
  EXPECT_EQ(thrown([&] { key(record(R"({"card":[1]})")); }),
            "field 'card' must be a string or a number to be a key, not an array");
  EXPECT_EQ(thrown([&] { key(record(R"({"card":true})")); }),
            "field 'card' must be a string or a number to be a key, not a boolean");
}

TEST(EventTimeOf, EpochMillisecondsAndIsoStrings) {
  const EventTimeOf time{"ts"};
  EXPECT_EQ(time(record(R"({"ts":1700000000123})")), 1'700'000'000'123);
  EXPECT_EQ(time(record(R"({"ts":-5})")), -5);
  EXPECT_EQ(time(record(R"({"ts":1700000000123.9})")), 1'700'000'000'123);
  EXPECT_EQ(time(record(R"({"ts":1.7e12})")), 1'700'000'000'000);
  EXPECT_EQ(time(record(R"({"ts":"1970-01-01T00:00:01.5+00:00"})")), 1500);
  EXPECT_EQ(time(record(R"({"ts":"1970-01-01T01:00:00+01:00"})")), 0);
  // Protobuf's JSON mapping of an int64, as kappa gen writes event_time.
  EXPECT_EQ(time(record(R"({"ts":"1767225600000"})")), 1'767'225'600'000);
  EXPECT_EQ(time(record(R"({"ts":"-5"})")), -5);
}

TEST(EventTimeOf, MissingOrBadTimeThrowsNamingTheField) {
  const EventTimeOf time{"ts"};
  EXPECT_EQ(thrown([&] { time(record(R"({"t":1})")); }), "field 'ts' is missing");
  EXPECT_EQ(thrown([&] { time(record(R"({"ts":null})")); }),
            "field 'ts' must be epoch milliseconds (a number) or an ISO-8601 time (a string), not null");
  EXPECT_EQ(thrown([&] { time(record(R"({"ts":{}})")); }),
            "field 'ts' must be epoch milliseconds (a number) or an ISO-8601 time (a string), not an object");
  EXPECT_THAT(thrown([&] { time(record(R"({"ts":"yesterday"})")); }),
              ::testing::StartsWith("field 'ts' is not an ISO-8601 time: \"yesterday\" (write 2026-11-21T10:15:00Z"));
  EXPECT_THAT(thrown([&] { time(record(R"({"ts":"17672256e5"})")); }),
              ::testing::EndsWith("or epoch milliseconds as a number or a string of digits)"));
  EXPECT_THAT(thrown([&] { time(record(R"({"ts":"9223372036854775807"})")); }),
              ::testing::HasSubstr("field 'ts' is out of range"));
  EXPECT_THAT(thrown([&] { time(record(R"({"ts":1e300})")); }), ::testing::HasSubstr("field 'ts' is out of range"));
  EXPECT_THAT(thrown([&] { time(record(R"({"ts":9223372036854775807})")); }),
              ::testing::HasSubstr("field 'ts' is out of range"));
}

TEST(ValueOf, NumbersOnlyOtherwiseNoValue) {
  EXPECT_EQ(value_of(record(R"({"amount":12.5})"), "amount"), 12.5);
  EXPECT_EQ(value_of(record(R"({"amount":-3})"), "amount"), -3.0);
  EXPECT_EQ(value_of(record(R"({"x":1})"), "amount"), std::nullopt);
  EXPECT_EQ(value_of(record(R"({"amount":null})"), "amount"), std::nullopt);
  EXPECT_EQ(value_of(record(R"({"amount":"12.5"})"), "amount"), std::nullopt);
  EXPECT_EQ(value_of(record(R"({"amount":true})"), "amount"), std::nullopt);
}

}  // namespace
}  // namespace kappa::window_agg
