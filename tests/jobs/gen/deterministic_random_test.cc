#include "jobs/gen/deterministic_random.h"

#include <gtest/gtest.h>

#include <cmath>

namespace kappa::gen {
namespace {

TEST(PortableExp2, MatchesLibmToAFewUlps) {
  for (double x = -12; x <= 12; x += 0.0137) {
    EXPECT_NEAR(portable_exp2(x) / std::exp2(x), 1.0, 1e-14) << x;
  }
  EXPECT_EQ(portable_exp2(0), 1.0);
  EXPECT_EQ(portable_exp2(3), 8.0);
  EXPECT_EQ(portable_exp2(-2), 0.25);
}

TEST(DeterministicRandom, SameSeedSameNumbers) {
  DeterministicRandom a(42);
  DeterministicRandom b(42);
  DeterministicRandom c(43);
  int differ = 0;
  for (int i = 0; i < 1000; ++i) {
    const double x = a.normal();
    EXPECT_EQ(x, b.normal());
    differ += x != c.normal() ? 1 : 0;
  }
  EXPECT_GT(differ, 990);
}

TEST(DeterministicRandom, NormalHasMeanZeroAndVarianceOneWithinBounds) {
  DeterministicRandom random(7);
  constexpr int kDraws = 200'000;
  double sum = 0;
  double squares = 0;
  for (int i = 0; i < kDraws; ++i) {
    const double x = random.normal();
    ASSERT_LE(std::fabs(x), 3.4642);  // 2 * sqrt(3)
    sum += x;
    squares += x * x;
  }
  EXPECT_NEAR(sum / kDraws, 0.0, 0.01);
  EXPECT_NEAR(squares / kDraws, 1.0, 0.01);
}

TEST(DeterministicRandom, BetweenCoversTheRangeInclusive) {
  DeterministicRandom random(1);
  int seen[5] = {};
  for (int i = 0; i < 10'000; ++i) {
    const int64_t x = random.between(3, 7);
    ASSERT_GE(x, 3);
    ASSERT_LE(x, 7);
    ++seen[x - 3];
  }
  for (int count : seen) EXPECT_GT(count, 1800);
}

}  // namespace
}  // namespace kappa::gen
