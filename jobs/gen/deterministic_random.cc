#include "jobs/gen/deterministic_random.h"

#include <cmath>

namespace kappa::gen {

double DeterministicRandom::uniform() { return bits_.uniform(); }

double DeterministicRandom::uniform(double lo, double hi) { return lo + (hi - lo) * bits_.uniform(); }

int64_t DeterministicRandom::between(int64_t lo, int64_t hi) {
  const uint64_t span = static_cast<uint64_t>(hi - lo) + 1;
  // The modulo's bias is below span / 2^64: nothing for ranges of cards or merchants.
  return lo + static_cast<int64_t>(bits_.next() % span);
}

bool DeterministicRandom::chance(double p) { return bits_.uniform() < p; }

double DeterministicRandom::normal() {
  constexpr double kScale = 1.7320508075688772;  // sqrt(12 / 4): the sum's standard deviation is 1/kScale
  double sum = 0;
  for (int i = 0; i < 4; ++i) sum += bits_.uniform();
  return (sum - 2.0) * kScale;
}

double portable_exp2(double x) {
  constexpr double kLn2 = 0.6931471805599453;
  // floor and ldexp are exact; only the fraction needs a series.
  const double whole = std::floor(x);
  const double f = (x - whole) * kLn2;  // in [0, ln 2)
  double term = 1;
  double sum = 1;
  for (int k = 1; k <= 14; ++k) {  // the first term left out is below 1e-14
    term = term * f / k;
    sum += term;
  }
  return std::ldexp(sum, static_cast<int>(whole));
}

}  // namespace kappa::gen
