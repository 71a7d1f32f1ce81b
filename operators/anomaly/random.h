// SplitMix64 (Steele, Lea & Flood 2014): the detectors' PRNG. Its output is
// fixed by the algorithm, unlike std:: distributions whose output may change
// between standard library versions, so a seed gives the same model on every
// host and build.
//
// Not thread-safe: one generator per owner.
#pragma once

#include <cstdint>

namespace kappa::anomaly {

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}

  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  // Uniform in [0, 1), 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  // Uniform in [0, n); REQUIRES: n > 0. Lemire's multiply-shift on 32 bits
  // (bias below 2^-32 * n, irrelevant for choosing among a few features).
  uint32_t below(uint32_t n) { return static_cast<uint32_t>(((next() >> 32) * n) >> 32); }

 private:
  uint64_t state_;
};

}  // namespace kappa::anomaly
