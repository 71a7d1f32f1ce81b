#include "runtime/duration.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace kappa {
namespace {

using std::chrono::milliseconds;

milliseconds parse_ok(std::string_view text) {
  Result<milliseconds> parsed = parse_duration(text);
  EXPECT_TRUE(parsed.is_ok()) << "'" << text << "': " << parsed.status().to_string();
  return parsed.is_ok() ? *parsed : milliseconds(-1);
}

TEST(ParseDurationTest, EveryUnit) {
  EXPECT_EQ(parse_ok("500ms"), milliseconds(500));
  EXPECT_EQ(parse_ok("10s"), milliseconds(10'000));
  EXPECT_EQ(parse_ok("5m"), milliseconds(300'000));
  EXPECT_EQ(parse_ok("1h"), milliseconds(3'600'000));
  EXPECT_EQ(parse_ok("7d"), milliseconds(7 * 86'400'000LL));
  EXPECT_EQ(parse_ok("1ms"), milliseconds(1));
}

TEST(ParseDurationTest, Zero) {
  EXPECT_EQ(parse_ok("0"), milliseconds(0));
  EXPECT_EQ(parse_ok("0ms"), milliseconds(0));
  EXPECT_EQ(parse_ok("0s"), milliseconds(0));
  EXPECT_EQ(parse_ok("0d"), milliseconds(0));
}

TEST(ParseDurationTest, BadInputsAreInvalidArgumentsQuotingTheText) {
  for (const char* text : {"", "10", "s", "ms", "abc", "10x", "10 s", " 10s", "10s ", "1.5s", "-5s", "+5s", "10S",
                           "10sec", "5mm", "1h30m", "00x", "1e3ms"}) {
    Result<milliseconds> parsed = parse_duration(text);
    ASSERT_FALSE(parsed.is_ok()) << "'" << text << "' parsed as " << parsed->count() << " ms";
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << text;
    EXPECT_NE(parsed.status().message().find("'" + std::string(text) + "'"), std::string::npos)
        << parsed.status().message();
    EXPECT_NE(parsed.status().message().find("500ms, 10s"), std::string::npos) << parsed.status().message();
  }
}

TEST(ParseDurationTest, LargestValuesThatFit) {
  EXPECT_EQ(parse_ok("9223372036854775807ms"), milliseconds(INT64_MAX));
  EXPECT_EQ(parse_ok(std::to_string(INT64_MAX / 1000) + "s"), milliseconds(INT64_MAX / 1000 * 1000));
  EXPECT_EQ(parse_ok(std::to_string(INT64_MAX / 86'400'000) + "d"), milliseconds(INT64_MAX / 86'400'000 * 86'400'000));
}

TEST(ParseDurationTest, OverflowIsAnErrorNotAWrappedValue) {
  for (const std::string& text :
       {std::to_string(INT64_MAX / 1000 + 1) + "s", std::to_string(INT64_MAX / 60'000 + 1) + "m",
        std::to_string(INT64_MAX / 3'600'000 + 1) + "h", std::to_string(INT64_MAX / 86'400'000 + 1) + "d",
        std::string("9223372036854775807d"), std::string("9223372036854775808ms"),
        std::string("99999999999999999999999ms")}) {
    Result<milliseconds> parsed = parse_duration(text);
    ASSERT_FALSE(parsed.is_ok()) << text << " parsed as " << parsed->count() << " ms";
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << text;
  }
}

}  // namespace
}  // namespace kappa
