#include "operators/anomaly/half_space_trees.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <numbers>
#include <string>
#include <string_view>
#include <vector>

#include "operators/anomaly/random.h"

namespace kappa::anomaly {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double gaussian(SplitMix64& rng) {
  const double u1 = 1 - rng.uniform();
  const double u2 = rng.uniform();
  return std::sqrt(-2 * std::log(u1)) * std::cos(2 * std::numbers::pi * u2);
}

struct Point {
  std::vector<double> x;
  bool anomaly = false;
};

// A 3-D stream: normal points ~ N((0, 5, -2), diag(1, 2, 0.5)^2); with
// probability `rate` an anomaly instead, displaced 5-8 sigmas along one
// random feature (the other features stay normal).
std::vector<Point> stream(uint64_t seed, int n, double rate) {
  SplitMix64 rng(seed);
  const double mean[3] = {0, 5, -2};
  const double sd[3] = {1, 2, 0.5};
  std::vector<Point> points;
  for (int i = 0; i < n; ++i) {
    Point p;
    for (int f = 0; f < 3; ++f) p.x.push_back(mean[f] + sd[f] * gaussian(rng));
    if (rng.uniform() < rate) {
      p.anomaly = true;
      const uint32_t f = rng.below(3);
      const double sigmas = 5 + 3 * rng.uniform();
      p.x[f] = mean[f] + (rng.uniform() < 0.5 ? -1 : 1) * sigmas * sd[f];
    }
    points.push_back(std::move(p));
  }
  return points;
}

HalfSpaceTreesOptions options(uint64_t seed = 42) {
  HalfSpaceTreesOptions o;
  o.ranges = {{-4, 4}, {-3, 13}, {-4, 0}};  // mean ± 4 sd: a sample's range, say
  o.trees = 25;
  o.height = 8;
  o.window_size = 250;
  o.seed = seed;
  return o;
}

HalfSpaceTrees make(const HalfSpaceTreesOptions& o) {
  auto result = HalfSpaceTrees::create(o);
  EXPECT_TRUE(result.is_ok()) << result.status().to_string();
  return std::move(result).value();
}

// Area under the ROC curve: the probability that a random anomaly outscores a
// random normal point (ties count half).
double auc(const std::vector<double>& scores, const std::vector<bool>& labels) {
  double wins = 0, pairs = 0;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (!labels[i]) continue;
    for (std::size_t j = 0; j < scores.size(); ++j) {
      if (labels[j]) continue;
      wins += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0;
      pairs += 1;
    }
  }
  return wins / pairs;
}

// Average precision: mean of the precision at the rank of each anomaly,
// ranking by score descending (ties broken against the anomalies).
double average_precision(const std::vector<double>& scores, const std::vector<bool>& labels) {
  std::vector<std::size_t> order(scores.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return scores[a] != scores[b] ? scores[a] > scores[b] : labels[a] < labels[b];
  });
  double hits = 0, sum = 0;
  for (std::size_t rank = 0; rank < order.size(); ++rank) {
    if (!labels[order[rank]]) continue;
    hits += 1;
    sum += hits / static_cast<double>(rank + 1);
  }
  return hits > 0 ? sum / hits : 0;
}

TEST(HalfSpaceTreesTest, InjectedAnomaliesOutscoreNormalPoints) {
  HalfSpaceTrees hst = make(options());
  const std::vector<Point> points = stream(2024, 6000, 0.02);
  std::vector<double> scores;
  std::vector<bool> labels;
  for (std::size_t i = 0; i < points.size(); ++i) {
    const double s = score_and_learn(hst, points[i].x);
    ASSERT_GE(s, 0.0);
    ASSERT_LE(s, 1.0);
    if (i < 250) {
      EXPECT_EQ(s, 0.0) << "no reference before the first window";
      continue;
    }
    scores.push_back(s);
    labels.push_back(points[i].anomaly);
  }
  const double base_rate =
      static_cast<double>(std::count(labels.begin(), labels.end(), true)) / static_cast<double>(labels.size());
  const double area = auc(scores, labels);
  const double ap = average_precision(scores, labels);
  std::printf("HST on 3-D Gaussian stream (seed 2024, %zu scored, base rate %.4f): AUC %.4f, AP %.4f\n", scores.size(),
              base_rate, area, ap);
  EXPECT_GT(area, 0.95);
  EXPECT_GT(ap, 0.5);
  EXPECT_GT(ap, 10 * base_rate);
}

TEST(HalfSpaceTreesTest, NoScoreBeforeTheFirstWindow) {
  HalfSpaceTrees hst = make(options());
  const std::vector<Point> points = stream(1, 250, 0);
  for (const Point& p : points) {
    EXPECT_FALSE(hst.has_reference());
    EXPECT_EQ(hst.score(std::vector<double>{100, 100, 100}), 0.0);
    hst.learn(p.x);
  }
  EXPECT_TRUE(hst.has_reference());
  EXPECT_GT(hst.score(std::vector<double>{100, 100, 100}), 0.99);  // nobody out there
  EXPECT_LT(hst.score(std::vector<double>{0, 5, -2}), 0.05);       // the centre
}

TEST(HalfSpaceTreesTest, SameSeedSameScoresOtherSeedOtherScores) {
  HalfSpaceTrees a = make(options(7)), b = make(options(7)), c = make(options(8));
  bool differs = false;
  for (const Point& p : stream(5, 1500, 0.05)) {
    const double sa = score_and_learn(a, p.x);
    const double sb = score_and_learn(b, p.x);
    const double sc = score_and_learn(c, p.x);
    ASSERT_EQ(std::bit_cast<uint64_t>(sa), std::bit_cast<uint64_t>(sb));
    differs = differs || sa != sc;
  }
  EXPECT_TRUE(differs);
}

TEST(HalfSpaceTreesTest, RestoredMidStreamGivesBitIdenticalScoresAndContributions) {
  const std::vector<Point> points = stream(99, 1400, 0.03);
  HalfSpaceTrees uninterrupted = make(options());
  std::vector<double> expected;
  std::vector<std::vector<Contribution>> expected_contributions;
  std::vector<Contribution> c;
  for (const Point& p : points) {
    uninterrupted.contributions(p.x, 3, c);
    expected_contributions.push_back(c);
    expected.push_back(score_and_learn(uninterrupted, p.x));
  }
  // Before the first window, on a window boundary, and mid-window.
  for (std::size_t cut : {std::size_t{100}, std::size_t{500}, std::size_t{777}}) {
    HalfSpaceTrees first = make(options());
    for (std::size_t i = 0; i < cut; ++i) first.learn(points[i].x);
    std::string bytes;
    first.serialize(bytes);
    HalfSpaceTrees restored = make(options());
    std::string_view in = bytes;
    ASSERT_TRUE(restored.deserialize(in));
    EXPECT_TRUE(in.empty());
    for (std::size_t i = cut; i < points.size(); ++i) {
      restored.contributions(points[i].x, 3, c);
      ASSERT_EQ(c, expected_contributions[i]) << cut << " " << i;
      const double s = score_and_learn(restored, points[i].x);
      ASSERT_EQ(std::bit_cast<uint64_t>(s), std::bit_cast<uint64_t>(expected[i])) << cut << " " << i;
    }
  }
}

TEST(HalfSpaceTreesTest, DeserializeRejectsTruncatedAndMismatchedBytes) {
  HalfSpaceTreesOptions small = options();
  small.trees = 3;
  small.height = 4;
  small.window_size = 20;
  HalfSpaceTrees hst = make(small);
  for (const Point& p : stream(3, 50, 0)) hst.learn(p.x);
  std::string bytes;
  hst.serialize(bytes);
  const std::vector<double> probe = {0.5, 6, -2};
  const double before = make(small).score(probe);
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    HalfSpaceTrees target = make(small);
    std::string_view in(bytes.data(), n);
    EXPECT_FALSE(target.deserialize(in)) << n;
    EXPECT_EQ(target.score(probe), before) << "unchanged on failure";
  }
  HalfSpaceTreesOptions other_seed = small;
  other_seed.seed = 43;
  HalfSpaceTreesOptions other_height = small;
  other_height.height = 5;
  for (const HalfSpaceTreesOptions& o : {other_seed, other_height}) {
    HalfSpaceTrees target = make(o);
    std::string_view in = bytes;
    EXPECT_FALSE(target.deserialize(in));
  }
  std::string bad_version = bytes;
  bad_version[0] = 9;
  HalfSpaceTrees target = make(small);
  std::string_view in = bad_version;
  EXPECT_FALSE(target.deserialize(in));
}

TEST(HalfSpaceTreesTest, ContributionsNameTheDisplacedFeature) {
  HalfSpaceTrees hst = make(options());
  for (const Point& p : stream(17, 1000, 0)) hst.learn(p.x);
  const double sd[3] = {1, 2, 0.5};
  const double mean[3] = {0, 5, -2};
  std::vector<Contribution> out;
  for (std::size_t f = 0; f < 3; ++f) {
    std::vector<double> x(mean, mean + 3);
    x[f] += 7 * sd[f];
    EXPECT_GT(hst.score(x), 0.5) << f;
    hst.contributions(x, 3, out);
    ASSERT_FALSE(out.empty()) << f;
    EXPECT_EQ(out[0].feature, f);
    EXPECT_GT(out[0].weight, 0.5) << f;
    double total = 0;
    for (std::size_t i = 0; i < out.size(); ++i) {
      total += out[i].weight;
      if (i > 0) {
        EXPECT_GE(out[i - 1].weight, out[i].weight);
      }
    }
    EXPECT_NEAR(total, 1.0, 1e-12);
  }
  hst.contributions(std::vector<double>{8, 5, -2}, 1, out);
  EXPECT_EQ(out.size(), 1u);
}

TEST(HalfSpaceTreesTest, NonFiniteFeaturesAreNotScoredOrLearnt) {
  HalfSpaceTrees hst = make(options());
  const std::vector<Point> points = stream(8, 260, 0);
  for (const Point& p : points) hst.learn(p.x);
  const std::vector<double> bad = {kNaN, 5, -2};
  EXPECT_EQ(hst.score(bad), 0.0);
  std::vector<Contribution> out;
  hst.contributions(bad, 3, out);
  EXPECT_TRUE(out.empty());
  std::string before, after;
  hst.serialize(before);
  hst.learn(bad);
  hst.serialize(after);
  EXPECT_EQ(before, after);
}

TEST(HalfSpaceTreesTest, ValidateRejectsOptionsOutOfRange) {
  EXPECT_TRUE(options().validate().is_ok());
  EXPECT_FALSE(HalfSpaceTreesOptions{}.validate().is_ok());  // no ranges
  HalfSpaceTreesOptions o = options();
  o.ranges[1] = {3, 3};
  EXPECT_FALSE(o.validate().is_ok());
  o = options();
  o.ranges[0].max = kNaN;
  EXPECT_FALSE(o.validate().is_ok());
  o = options();
  o.trees = 0;
  EXPECT_FALSE(o.validate().is_ok());
  o = options();
  o.height = 21;
  EXPECT_FALSE(o.validate().is_ok());
  o = options();
  o.window_size = 0;
  EXPECT_FALSE(o.validate().is_ok());
  EXPECT_FALSE(HalfSpaceTrees::create(o).is_ok());
}

}  // namespace
}  // namespace kappa::anomaly
