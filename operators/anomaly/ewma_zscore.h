// EwmaZScore: a robust z-score of one value against an exponentially
// weighted mean and variance of the values before it. One instance is one
// key's model (a card's amounts, say); the scorer operator keeps one per key.
//
// Model, for each learnt value x (alpha = 1 - 2^(-1 / half_life)):
//   first value:  mean = x, var = 0
//   afterwards:   x' = clamp(x, mean - c*sd, mean + c*sd)   (winsorized, see below)
//                 d = x' - mean;  mean += alpha*d;  var = (1 - alpha) * (var + alpha*d*d)
// The half-life is counted in OBSERVATIONS, not event time: after half_life
// more values, an old value weighs half as much. (Event-time decay would make
// a burst of values count as one; counting them is what a per-card model of
// "usual amounts" wants, and it keeps the model independent of clocks.)
//
// Score of x (before x is learnt):
//   z = |x - mean| / sd, with sd = max(sqrt(var), min_stddev)
//       (sd = 0: z = 0 if x == mean, else +inf)
//   score = 1 - exp(-z^2 / (2 * z_scale^2))
// which is 0 at z = 0, increasing in |x - mean| (strictly, until it is within
// rounding of 1.0: 1.0 exactly beyond z = 8.6 * z_scale), 0.5 at
// z = 1.1774 * z_scale and 1 at z = inf. With the default z_scale 2.5:
// z = 3 -> 0.51, z = 5 -> 0.86, z = 7 -> 0.98. Before `warmup` values have been
// learnt the score is 0 (too little history to call anything unusual).
//
// Robustness: once warmed up (and sd > 0), a value is winsorized at
// mean ± clamp_sigmas*sd before it is learnt, so one huge value moves the
// mean and variance by a bounded amount instead of blowing them up; a real
// level shift is still followed, geometrically, over a few half-lives. With a
// perfectly constant history (sd = 0, min_stddev = 0) there is no scale to
// clamp against and the value is learnt as is.
//
// Non-finite values score 0, contribute nothing and are not learnt. Thread
// use, determinism and checkpoints: see detector.h. The state is 3 numbers;
// serialize() writes them in at most 26 bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "operators/anomaly/detector.h"
#include "runtime/status.h"

namespace kappa::anomaly {

struct EwmaZScoreOptions {
  // Observations after which a value's weight halves. > 0. Default 50.
  double half_life = 50;
  // Values learnt before scores are non-zero. >= 2. Default 10.
  int64_t warmup = 10;
  // The z at which the score passes 0.5 is 1.1774 * z_scale. > 0. Default 2.5.
  double z_scale = 2.5;
  // Learnt values are clamped to mean ± clamp_sigmas * sd. > 0, may be +inf
  // (no clamping). Default 4.
  double clamp_sigmas = 4;
  // Lower bound on the standard deviation used for z and for clamping: keeps
  // tiny noise on a nearly constant series from scoring as anomalous. >= 0.
  // Default 0 (none).
  double min_stddev = 0;

  // OK, or InvalidArgument naming the first field out of range.
  Status validate() const;
};

class EwmaZScore {
 public:
  // REQUIRES: options.validate().is_ok() (checked).
  explicit EwmaZScore(const EwmaZScoreOptions& options = {});

  std::size_t dimensions() const { return 1; }

  // The single-value interface.
  double score(double x) const;
  void learn(double x);

  // The Detector interface: x has exactly one element.
  double score(std::span<const double> x) const;
  void learn(std::span<const double> x);
  // Feature 0 with weight 1 when score(x) > 0, else nothing.
  void contributions(std::span<const double> x, std::size_t k, std::vector<Contribution>& out) const;

  void serialize(std::string& out) const;
  [[nodiscard]] bool deserialize(std::string_view& in);

  // The model, for tests and for reporting.
  int64_t count() const { return count_; }  // values learnt
  double mean() const { return mean_; }
  double variance() const { return var_; }
  // |x - mean| / sd as used by score() (0 when nothing was learnt yet).
  double z(double x) const;

 private:
  double stddev() const;

  EwmaZScoreOptions options_;
  double alpha_;
  int64_t count_ = 0;
  double mean_ = 0;
  double var_ = 0;
};

static_assert(Detector<EwmaZScore>);

}  // namespace kappa::anomaly
