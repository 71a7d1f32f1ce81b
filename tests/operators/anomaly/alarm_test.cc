#include "operators/anomaly/alarm.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <string_view>

namespace kappa::anomaly {
namespace {

TEST(AlarmFilterTest, FiresAtOrAboveTheThreshold) {
  AlarmFilter alarms({.threshold = 0.8, .quiet_period_ms = 0});
  EXPECT_FALSE(alarms.observe(0.79, 1));
  EXPECT_TRUE(alarms.observe(0.8, 2));
  EXPECT_TRUE(alarms.observe(1.0, 2));  // quiet period 0: every score above fires
  EXPECT_FALSE(alarms.observe(std::numeric_limits<double>::quiet_NaN(), 3));
}

TEST(AlarmFilterTest, QuietPeriodInEventTime) {
  AlarmFilter alarms({.threshold = 0.9, .quiet_period_ms = 1000});
  EXPECT_TRUE(alarms.observe(0.95, 10'000));
  EXPECT_FALSE(alarms.observe(0.99, 10'001));
  EXPECT_FALSE(alarms.observe(0.99, 10'999));  // suppressed: does not extend the quiet period
  EXPECT_FALSE(alarms.observe(0.99, 9'000));   // out of order, before the alarm: quiet
  EXPECT_FALSE(alarms.observe(0.5, 11'000));   // quiet period over, but below the threshold
  EXPECT_TRUE(alarms.observe(0.9, 11'000));    // exactly t_last + quiet
  EXPECT_EQ(alarms.last_alarm(), 11'000);
  EXPECT_FALSE(alarms.observe(0.9, 11'500));
  EXPECT_TRUE(alarms.observe(0.9, 50'000));
}

TEST(AlarmFilterTest, ExtremeTimestampsDoNotOverflow) {
  AlarmFilter alarms({.threshold = 0.5, .quiet_period_ms = 1000});
  EXPECT_TRUE(alarms.observe(1, kMinTimestamp));
  EXPECT_TRUE(alarms.observe(1, kMaxTimestamp));
  EXPECT_FALSE(alarms.observe(1, kMaxTimestamp));
}

TEST(AlarmFilterTest, RestoredFilterKeepsTheQuietPeriod) {
  AlarmFilter alarms({.threshold = 0.9, .quiet_period_ms = 1000});
  ASSERT_TRUE(alarms.observe(1, 5000));
  std::string bytes;
  alarms.serialize(bytes);
  AlarmFilter restored({.threshold = 0.9, .quiet_period_ms = 1000});
  std::string_view in = bytes;
  ASSERT_TRUE(restored.deserialize(in));
  EXPECT_TRUE(in.empty());
  EXPECT_FALSE(restored.observe(1, 5999));
  EXPECT_TRUE(restored.observe(1, 6000));

  // A filter that never alarmed round-trips too, in one byte.
  std::string fresh;
  AlarmFilter().serialize(fresh);
  EXPECT_EQ(fresh.size(), 1u);
  AlarmFilter from_fresh;
  in = fresh;
  ASSERT_TRUE(from_fresh.deserialize(in));
  EXPECT_FALSE(from_fresh.has_alarmed());
}

TEST(AlarmFilterTest, DeserializeRejectsTruncatedAndMalformedBytes) {
  AlarmFilter alarms;
  ASSERT_TRUE(alarms.observe(1, 123456));
  std::string bytes;
  alarms.serialize(bytes);
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    AlarmFilter target;
    std::string_view in(bytes.data(), n);
    EXPECT_FALSE(target.deserialize(in)) << n;
    EXPECT_FALSE(target.has_alarmed()) << "unchanged on failure";
  }
  std::string bad(1, '\x02');  // not a boolean
  std::string_view in = bad;
  AlarmFilter target;
  EXPECT_FALSE(target.deserialize(in));
}

TEST(AlarmFilterTest, ValidateRejectsOptionsOutOfRange) {
  EXPECT_TRUE(AlarmOptions{}.validate().is_ok());
  EXPECT_FALSE(AlarmOptions{.threshold = 1.5}.validate().is_ok());
  EXPECT_FALSE(AlarmOptions{.threshold = std::numeric_limits<double>::quiet_NaN()}.validate().is_ok());
  EXPECT_FALSE(AlarmOptions{.quiet_period_ms = -1}.validate().is_ok());
}

}  // namespace
}  // namespace kappa::anomaly
