// agg::variance(f) and agg::stddev(f): the SAMPLE variance (n - 1 in the
// denominator) of f(element) over the elements that have a value (nullopt and
// NaN are ignored; see value_function.h), and its square root. std::nullopt
// when fewer than two elements have a value. An infinite value makes the
// result NaN.
//
// Numerically stable: add() is Welford's update of (count, mean, M2), merge()
// Chan, Golub and LeVeque's pairwise combination, so values with a large
// common offset (timestamps, prices around 1e9) keep their precision, unlike
// sum-of-squares formulas that cancel catastrophically.
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "operators/aggregate/encoding.h"
#include "operators/aggregate/value_function.h"
#include "runtime/record.h"

namespace kappa::agg {

// The first two moments: count, mean and M2 = sum of squared deviations from
// the mean.
struct MomentsAccumulator {
  int64_t count = 0;
  double mean = 0.0;
  double m2 = 0.0;
  friend bool operator==(const MomentsAccumulator&, const MomentsAccumulator&) = default;
};

template <class F>
class VarianceAggregate {
 public:
  using accumulator_type = MomentsAccumulator;
  using result_type = std::optional<double>;

  explicit VarianceAggregate(F f) : f_(std::move(f)) {}

  MomentsAccumulator init() const { return {}; }
  template <class T>
    requires NumberFunction<F, T>
  void add(MomentsAccumulator& acc, const T& element, Timestamp /*ts*/) const {
    double x;
    if (!number_of(f_, element, x)) return;
    ++acc.count;
    const double delta = x - acc.mean;
    acc.mean += delta / static_cast<double>(acc.count);
    acc.m2 += delta * (x - acc.mean);
  }
  void merge(MomentsAccumulator& acc, const MomentsAccumulator& other) const {
    if (other.count == 0) return;
    if (acc.count == 0) {
      acc = other;
      return;
    }
    const double na = static_cast<double>(acc.count);
    const double nb = static_cast<double>(other.count);
    const double n = na + nb;
    const double delta = other.mean - acc.mean;
    acc.count += other.count;
    acc.mean += delta * (nb / n);
    acc.m2 += other.m2 + delta * delta * (na * nb / n);
  }
  std::optional<double> result(const MomentsAccumulator& acc) const {
    if (acc.count < 2) return std::nullopt;
    const double m2 = acc.m2 < 0.0 ? 0.0 : acc.m2;  // rounding; NaN (from an infinity) stays NaN
    return m2 / static_cast<double>(acc.count - 1);
  }

  // Format: the count as a varint, then mean and M2 as 8 bytes each.
  void serialize(const MomentsAccumulator& acc, std::string& out) const {
    encoding::put_count(out, acc.count);
    encoding::put_double(out, acc.mean);
    encoding::put_double(out, acc.m2);
  }
  [[nodiscard]] bool deserialize(std::string_view& in, MomentsAccumulator& acc) const {
    return encoding::get_count(in, acc.count) && encoding::get_double(in, acc.mean) && encoding::get_double(in, acc.m2);
  }

 private:
  F f_;
};

// The same accumulator as VarianceAggregate; the result is its square root.
template <class F>
class StddevAggregate {
 public:
  using accumulator_type = MomentsAccumulator;
  using result_type = std::optional<double>;

  explicit StddevAggregate(F f) : variance_(std::move(f)) {}

  MomentsAccumulator init() const { return {}; }
  template <class T>
    requires NumberFunction<F, T>
  void add(MomentsAccumulator& acc, const T& element, Timestamp ts) const { variance_.add(acc, element, ts); }
  void merge(MomentsAccumulator& acc, const MomentsAccumulator& other) const { variance_.merge(acc, other); }
  std::optional<double> result(const MomentsAccumulator& acc) const {
    const std::optional<double> v = variance_.result(acc);
    if (!v) return std::nullopt;
    return std::sqrt(*v);
  }

  void serialize(const MomentsAccumulator& acc, std::string& out) const { variance_.serialize(acc, out); }
  [[nodiscard]] bool deserialize(std::string_view& in, MomentsAccumulator& acc) const {
    return variance_.deserialize(in, acc);
  }

 private:
  VarianceAggregate<F> variance_;
};

template <class F>
VarianceAggregate<F> variance(F f) {
  return VarianceAggregate<F>(std::move(f));
}

template <class F>
StddevAggregate<F> stddev(F f) {
  return StddevAggregate<F>(std::move(f));
}

}  // namespace kappa::agg
