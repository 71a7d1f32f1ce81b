// DeterministicRandom: the transaction generator's random draws, the same
// numbers for a seed on every host. Built on SplitMix64 with IEEE-754 +, *
// and / only: no std:: distribution (their algorithms differ between standard
// libraries) and no libm exp or log (not correctly rounded, so they may differ
// in the last bit between libms, and a last bit shows in JSON output). The
// library is compiled with -ffp-contract=off so that no compiler fuses a
// multiply and an add into an FMA on one target and not on another.
//
// Not thread-safe: one generator per owner.
#pragma once

#include <cstdint>

#include "operators/anomaly/random.h"

namespace kappa::gen {

class DeterministicRandom {
 public:
  explicit DeterministicRandom(uint64_t seed) : bits_(seed) {}

  // Uniform in [0, 1).
  double uniform();
  // Uniform in [lo, hi).
  double uniform(double lo, double hi);
  // Uniform integer in [lo, hi]. REQUIRES: 0 <= hi - lo < 2^63.
  int64_t between(int64_t lo, int64_t hi);
  // True with probability p.
  bool chance(double p);
  // Approximately standard normal: the sum of four uniforms, rescaled (mean
  // 0, variance 1, bounded to +-3.46, so no draw is absurd).
  double normal();

 private:
  anomaly::SplitMix64 bits_;
};

// 2^x, to about 1e-14 relative error, from + and * only (see above).
double portable_exp2(double x);

}  // namespace kappa::gen
