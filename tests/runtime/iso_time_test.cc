#include "runtime/iso_time.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kappa {
namespace {

using ::testing::HasSubstr;

// 2026-11-21T09:30:00Z: 20,778 days after 1970-01-01 (Python's datetime agrees).
int64_t parse_ok(std::string_view text) {
  Result<int64_t> parsed = parse_iso_time(text);
  EXPECT_TRUE(parsed.is_ok()) << "'" << text << "': " << parsed.status().to_string();
  return parsed.is_ok() ? parsed.value() : -1;
}

constexpr int64_t kMorning = 20'778LL * 86'400'000 + (9 * 3600 + 30 * 60) * 1000LL;

TEST(IsoTimeTest, ParsesUtcAndOffsets) {
  EXPECT_EQ(parse_ok("2026-11-21T09:30:00Z"), kMorning);
  EXPECT_EQ(parse_ok("2026-11-21t09:30:00z"), kMorning);
  EXPECT_EQ(parse_ok("2026-11-21 09:30Z"), kMorning);
  EXPECT_EQ(parse_ok("2026-11-21T10:30:00+01:00"), kMorning);
  EXPECT_EQ(parse_ok("2026-11-21T04:00:00-0530"), kMorning);
  EXPECT_EQ(parse_ok("2026-11-21T09:30:00.25Z"), kMorning + 250);
  EXPECT_EQ(parse_ok("2026-11-21T09:30:00.123456Z"), kMorning + 123);
  EXPECT_EQ(parse_ok("2026-11-21"), kMorning - (9 * 3600 + 30 * 60) * 1000LL);
  EXPECT_EQ(parse_ok("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_ok("2024-02-29T00:00:00Z"), parse_ok("2024-02-29"));  // a leap day
}

TEST(IsoTimeTest, RefusesWhatItCannotReadOneLineEach) {
  for (const char* text : {"", "yesterday", "2026-11-21T09:30:00", "2026-13-01", "2026-02-30", "2026-11-21T24:00Z",
                           "2026-11-21T09:30:00+25:00", "2026-11-21T09:30:00Zjunk", "2026-11-21T09:30:00.Z",
                           "1763717400000", "2026-11-21X09:30Z"}) {
    Result<int64_t> parsed = parse_iso_time(text);
    ASSERT_FALSE(parsed.is_ok()) << text;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(parsed.status().message(), HasSubstr("2026-11-21T09:30:00Z")) << "says how to write it";
    EXPECT_EQ(parsed.status().message().find('\n'), std::string::npos);
  }
  EXPECT_THAT(parse_iso_time("2026-11-21T09:30:00").status().message(), HasSubstr("no time zone"));
}

TEST(IsoTimeTest, FormatsWhatItParses) {
  EXPECT_EQ(format_iso_time(kMorning + 7), "2026-11-21T09:30:00.007Z");
  EXPECT_EQ(format_iso_time(0), "1970-01-01T00:00:00.000Z");
  for (int64_t ms : {int64_t{0}, kMorning, kMorning + 999, int64_t{951'782'400'000}}) {
    EXPECT_EQ(parse_ok(format_iso_time(ms)), ms);
  }
}

// parse_iso8601: times in data, where a missing zone means UTC.
constexpr Timestamp k20261121 = 1'795'219'200'000;  // 2026-11-21T00:00:00Z

TEST(ParseIso8601, ZonesAndFractions) {
  EXPECT_EQ(parse_iso8601("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_iso8601("2026-11-21T00:00:00Z"), k20261121);
  EXPECT_EQ(parse_iso8601("2026-11-21T10:15:00Z"), k20261121 + (10 * 3600 + 15 * 60) * 1000);
  EXPECT_EQ(parse_iso8601("2026-11-21T10:15:00.123+01:00"), k20261121 + (9 * 3600 + 15 * 60) * 1000 + 123);
  EXPECT_EQ(parse_iso8601("2026-11-21T10:15:00.123+0100"), k20261121 + (9 * 3600 + 15 * 60) * 1000 + 123);
  EXPECT_EQ(parse_iso8601("2026-11-21T10:15:00-05:30"), k20261121 + (15 * 3600 + 45 * 60) * 1000);
  EXPECT_EQ(parse_iso8601("2026-11-21T10:15:00.5Z"), k20261121 + (10 * 3600 + 15 * 60) * 1000 + 500);
  EXPECT_EQ(parse_iso8601("2026-11-21T10:15:00.123456789Z"), k20261121 + (10 * 3600 + 15 * 60) * 1000 + 123);
  EXPECT_EQ(parse_iso8601("2026-11-21 10:15:00"), k20261121 + (10 * 3600 + 15 * 60) * 1000);  // UTC
  EXPECT_EQ(parse_iso8601("2026-11-21t10:15z"), k20261121 + (10 * 3600 + 15 * 60) * 1000);
  EXPECT_EQ(parse_iso8601("1969-12-31T23:59:59.999Z"), -1);
  EXPECT_EQ(parse_iso8601("2024-02-29T00:00:00Z"), 1'709'164'800'000);
}

TEST(ParseIso8601, RejectsWhatIsNotATime) {
  for (const char* bad : {"",
                          "2026",
                          "2026-11-21",
                          "2026-11-21T",
                          "2026-11-21T10",
                          "2026-13-01T00:00:00Z",
                          "2026-02-30T00:00:00Z",
                          "2025-02-29T00:00:00Z",
                          "2026-11-21T24:00:00Z",
                          "2026-11-21T10:60:00Z",
                          "2026-11-21T10:15:60Z",
                          "2026-11-21T10:15:00.Z",
                          "2026-11-21T10:15:00.1234567890Z",
                          "2026-11-21T10:15:00+1",
                          "2026-11-21T10:15:00+24:00",
                          "2026-11-21T10:15:00Zx",
                          "2026-11-21T10:15:00 ",
                          "26-11-21T10:15:00Z",
                          "1700000000000",
                          "2026-11-21X10:15:00Z"}) {
    EXPECT_EQ(parse_iso8601(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace kappa
