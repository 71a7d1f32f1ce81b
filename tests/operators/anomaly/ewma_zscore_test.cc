#include "operators/anomaly/ewma_zscore.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <string>
#include <string_view>
#include <vector>

#include "operators/anomaly/random.h"

namespace kappa::anomaly {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Normal(mean, sd) by Box-Muller over SplitMix64: reproducible everywhere.
double gaussian(SplitMix64& rng, double mean, double sd) {
  const double u1 = 1 - rng.uniform();  // (0, 1]
  const double u2 = rng.uniform();
  return mean + sd * std::sqrt(-2 * std::log(u1)) * std::cos(2 * std::numbers::pi * u2);
}

std::vector<double> noisy_stream(uint64_t seed, int n, double mean, double sd) {
  SplitMix64 rng(seed);
  std::vector<double> values;
  for (int i = 0; i < n; ++i) values.push_back(gaussian(rng, mean, sd));
  return values;
}

TEST(EwmaZScoreTest, KnownInputsGiveHandComputedScores) {
  // alpha = 1 - 2^-1 = 0.5.
  EwmaZScore d({.half_life = 1, .warmup = 2, .z_scale = 1, .clamp_sigmas = 3});
  EXPECT_EQ(d.score(5.0), 0.0);    // nothing learnt
  d.learn(0.0);                    // mean 0, var 0
  EXPECT_EQ(d.score(100.0), 0.0);  // one value < warmup 2
  d.learn(2.0);                    // d = 2, mean = 0 + 0.5*2 = 1, var = 0.5 * (0 + 2*1) = 1
  EXPECT_DOUBLE_EQ(d.mean(), 1.0);
  EXPECT_DOUBLE_EQ(d.variance(), 1.0);
  EXPECT_EQ(d.score(1.0), 0.0);                         // z = 0
  EXPECT_DOUBLE_EQ(d.score(4.0), 1 - std::exp(-4.5));   // z = 3: 1 - exp(-9/2)
  EXPECT_DOUBLE_EQ(d.score(-1.0), 1 - std::exp(-2.0));  // z = 2: 1 - exp(-4/2)
  EXPECT_DOUBLE_EQ(d.z(-1.0), 2.0);
  // 10 is winsorized at mean + 3*sd = 4 before it is learnt:
  // d = 3, mean = 1 + 1.5 = 2.5, var = 0.5 * (1 + 3*1.5) = 2.75.
  d.learn(10.0);
  EXPECT_DOUBLE_EQ(d.mean(), 2.5);
  EXPECT_DOUBLE_EQ(d.variance(), 2.75);
  EXPECT_EQ(d.count(), 3);
  EXPECT_DOUBLE_EQ(d.score(2.5 + std::sqrt(2.75)), 1 - std::exp(-0.5));  // z = 1
}

TEST(EwmaZScoreTest, HalfLifeHalvesTheWeightOfOldValues) {
  // After a step from 0 to 1, the mean covers half the step after half_life values.
  EwmaZScore d({.half_life = 10, .warmup = 2, .clamp_sigmas = kInf});
  d.learn(0.0);
  for (int i = 0; i < 10; ++i) d.learn(1.0);
  EXPECT_NEAR(d.mean(), 0.5, 1e-12);
}

TEST(EwmaZScoreTest, ScoreGrowsWithTheDeviation) {
  EwmaZScore d;
  for (double v : noisy_stream(7, 300, 100, 10)) d.learn(v);
  const double mean = d.mean();
  double previous = d.score(mean);
  EXPECT_EQ(previous, 0.0);
  for (double deviation = 0.5; deviation <= 200; deviation += 0.5) {
    const double above = d.score(mean + deviation);
    const double below = d.score(mean - deviation);
    // Strictly increasing until the score is within rounding of 1.0, never decreasing.
    EXPECT_GE(above, previous) << deviation;
    if (previous < 1 - 1e-9) {
      EXPECT_GT(above, previous) << deviation;
    }
    EXPECT_NEAR(above, below, 1e-12) << deviation;  // (mean + d) - mean may round differently from d
    EXPECT_LE(above, 1.0);
    previous = above;
  }
}

TEST(EwmaZScoreTest, ConstantStreamScoresZeroAndSpikeScoresHigh) {
  EwmaZScore d;
  for (int i = 0; i < 200; ++i) EXPECT_EQ(score_and_learn(d, std::vector<double>{42.0}), 0.0) << i;
  EXPECT_EQ(d.score(43.0), 1.0);  // sd = 0: any change is infinitely unusual
  EXPECT_EQ(d.score(42.0), 0.0);
}

TEST(EwmaZScoreTest, NoisyStreamScoresLowAndSpikeScoresHigh) {
  EwmaZScore d;
  const std::vector<double> values = noisy_stream(11, 2000, 50, 5);
  int high = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double s = score_and_learn(d, std::vector<double>{values[i]});
    if (i >= 100 && s >= 0.9) ++high;
  }
  // 0.9 is z = 5.4 with z_scale 2.5: essentially never in Gaussian noise.
  EXPECT_LE(high, 2);
  EXPECT_GT(d.score(50 + 10 * 5), 0.99);  // a 10-sigma spike
}

TEST(EwmaZScoreTest, OneHugeOutlierDoesNotBlowUpTheModel) {
  EwmaZScore d;
  for (double v : noisy_stream(3, 500, 100, 10)) d.learn(v);
  const double variance_before = d.variance();
  const double normal_score_before = d.score(d.mean() + 10);
  d.learn(1e12);
  // Winsorized at 4 sd: the variance grows by at most (1 - a) * a * 16 sd^2 (a = 0.0138).
  EXPECT_LT(d.variance(), 1.25 * variance_before);
  EXPECT_LT(std::abs(d.mean() - 100), 5.0);
  EXPECT_NEAR(d.score(d.mean() + 10), normal_score_before, 0.05);

  EwmaZScore unclamped({.clamp_sigmas = kInf});
  for (double v : noisy_stream(3, 500, 100, 10)) unclamped.learn(v);
  unclamped.learn(1e12);
  EXPECT_GT(unclamped.variance(), 1e6 * variance_before);  // what the clamp prevents
}

TEST(EwmaZScoreTest, LevelShiftIsFollowed) {
  EwmaZScore d({.half_life = 20});
  for (double v : noisy_stream(5, 300, 100, 1)) d.learn(v);
  for (double v : noisy_stream(6, 600, 200, 1)) d.learn(v);
  EXPECT_NEAR(d.mean(), 200, 1.0);
  EXPECT_LT(d.score(200.0), 0.5);
}

TEST(EwmaZScoreTest, NonFiniteValuesAreNotScoredOrLearnt) {
  EwmaZScore d;
  for (double v : noisy_stream(1, 50, 0, 1)) d.learn(v);
  const int64_t count = d.count();
  const double mean = d.mean();
  for (double bad : {kNaN, kInf, -kInf}) {
    EXPECT_EQ(d.score(bad), 0.0);
    std::vector<Contribution> contributions{{3, 1}};
    d.contributions(std::vector<double>{bad}, 3, contributions);
    EXPECT_TRUE(contributions.empty());
    d.learn(bad);
  }
  EXPECT_EQ(d.count(), count);
  EXPECT_EQ(d.mean(), mean);
}

TEST(EwmaZScoreTest, ContributionsNameTheOneFeature) {
  EwmaZScore d;
  for (double v : noisy_stream(2, 50, 0, 1)) d.learn(v);
  std::vector<Contribution> out;
  d.contributions(std::vector<double>{9.0}, 5, out);
  EXPECT_EQ(out, (std::vector<Contribution>{{0, 1.0}}));
  d.contributions(std::vector<double>{9.0}, 0, out);
  EXPECT_TRUE(out.empty());
  d.contributions(std::vector<double>{d.mean()}, 5, out);  // score 0
  EXPECT_TRUE(out.empty());
}

TEST(EwmaZScoreTest, RestoredMidStreamGivesBitIdenticalScores) {
  const std::vector<double> values = noisy_stream(9, 1000, 20, 3);
  EwmaZScore uninterrupted;
  std::vector<double> expected;
  for (double v : values) expected.push_back(score_and_learn(uninterrupted, std::vector<double>{v}));

  for (std::size_t cut : {std::size_t{0}, std::size_t{1}, std::size_t{5}, std::size_t{500}}) {
    EwmaZScore first;
    std::vector<double> scores;
    for (std::size_t i = 0; i < cut; ++i) scores.push_back(score_and_learn(first, std::vector<double>{values[i]}));
    std::string bytes;
    first.serialize(bytes);
    EXPECT_LE(bytes.size(), 26u);
    EwmaZScore restored;
    std::string_view in = bytes;
    ASSERT_TRUE(restored.deserialize(in));
    EXPECT_TRUE(in.empty());
    for (std::size_t i = cut; i < values.size(); ++i) {
      scores.push_back(score_and_learn(restored, std::vector<double>{values[i]}));
    }
    ASSERT_EQ(scores.size(), expected.size());
    for (std::size_t i = 0; i < scores.size(); ++i) {
      ASSERT_EQ(std::bit_cast<uint64_t>(scores[i]), std::bit_cast<uint64_t>(expected[i])) << cut << " " << i;
    }
  }
}

TEST(EwmaZScoreTest, EncodingsConcatenate) {
  EwmaZScore a, b;
  a.learn(1.0);
  b.learn(2.0);
  b.learn(3.0);
  std::string bytes;
  a.serialize(bytes);
  b.serialize(bytes);
  EwmaZScore ra, rb;
  std::string_view in = bytes;
  ASSERT_TRUE(ra.deserialize(in));
  ASSERT_TRUE(rb.deserialize(in));
  EXPECT_TRUE(in.empty());
  EXPECT_EQ(ra.mean(), a.mean());
  EXPECT_EQ(rb.count(), 2);
  EXPECT_EQ(rb.variance(), b.variance());
}

TEST(EwmaZScoreTest, DeserializeRejectsTruncatedAndMalformedBytes) {
  EwmaZScore d;
  for (double v : noisy_stream(4, 30, 0, 1)) d.learn(v);
  std::string bytes;
  d.serialize(bytes);
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    EwmaZScore target;
    target.learn(7.0);
    std::string_view in(bytes.data(), n);
    EXPECT_FALSE(target.deserialize(in)) << n;
    EXPECT_EQ(target.count(), 1) << "unchanged on failure";
    EXPECT_EQ(target.mean(), 7.0);
  }
  // A negative or NaN variance, a non-finite mean, and state without a count.
  auto encode = [](uint8_t count, double mean, double var) {
    std::string out(1, static_cast<char>(count));
    for (double v : {mean, var}) {
      const uint64_t bits = std::bit_cast<uint64_t>(v);
      for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(bits >> (8 * i)));
    }
    return out;
  };
  for (const std::string& bad : {encode(3, 1, -1), encode(3, 1, kNaN), encode(3, kInf, 1), encode(0, 1, 0)}) {
    EwmaZScore target;
    std::string_view in = bad;
    EXPECT_FALSE(target.deserialize(in));
  }
  std::string good = encode(3, 1, 2);
  std::string_view in = good;
  EwmaZScore target;
  EXPECT_TRUE(target.deserialize(in));
  EXPECT_EQ(target.variance(), 2.0);
}

TEST(EwmaZScoreTest, ValidateRejectsOptionsOutOfRange) {
  EXPECT_TRUE(EwmaZScoreOptions{}.validate().is_ok());
  EXPECT_FALSE(EwmaZScoreOptions{.half_life = 0}.validate().is_ok());
  EXPECT_FALSE(EwmaZScoreOptions{.half_life = kNaN}.validate().is_ok());
  EXPECT_FALSE(EwmaZScoreOptions{.warmup = 1}.validate().is_ok());
  EXPECT_FALSE(EwmaZScoreOptions{.z_scale = -1}.validate().is_ok());
  EXPECT_FALSE(EwmaZScoreOptions{.clamp_sigmas = 0}.validate().is_ok());
  EXPECT_TRUE(EwmaZScoreOptions{.clamp_sigmas = kInf}.validate().is_ok());
  EXPECT_FALSE(EwmaZScoreOptions{.min_stddev = -0.1}.validate().is_ok());
}

TEST(EwmaZScoreTest, MinStddevDampsTinyNoise) {
  EwmaZScore d({.min_stddev = 1.0});
  for (int i = 0; i < 50; ++i) d.learn(10.0);
  EXPECT_LT(d.score(10.5), 0.05);  // z = 0.5 against the floor, not infinity
  EXPECT_GT(d.score(30.0), 0.99);
}

}  // namespace
}  // namespace kappa::anomaly
