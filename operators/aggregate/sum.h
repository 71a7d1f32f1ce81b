// agg::sum(f): the sum of f(element) over the elements that have a value
// (nullopt and NaN are ignored; see value_function.h), as a double. 0 when no
// element has a value. Plain floating-point addition: exact for integers
// while the running sum stays below 2^53; an infinite value makes it infinite,
// +inf and -inf together make it NaN.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "operators/aggregate/encoding.h"
#include "operators/aggregate/value_function.h"
#include "runtime/record.h"

namespace kappa::agg {

struct SumAccumulator {
  double sum = 0.0;
  friend bool operator==(const SumAccumulator&, const SumAccumulator&) = default;
};

template <class F>
class SumAggregate {
 public:
  using accumulator_type = SumAccumulator;
  using result_type = double;

  explicit SumAggregate(F f) : f_(std::move(f)) {}

  SumAccumulator init() const { return {}; }
  template <class T>
    requires NumberFunction<F, T>
  void add(SumAccumulator& acc, const T& element, Timestamp /*ts*/) const {
    double x;
    if (number_of(f_, element, x)) acc.sum += x;
  }
  void merge(SumAccumulator& acc, const SumAccumulator& other) const { acc.sum += other.sum; }
  double result(const SumAccumulator& acc) const { return acc.sum; }

  // Format: the sum as 8 bytes.
  void serialize(const SumAccumulator& acc, std::string& out) const { encoding::put_double(out, acc.sum); }
  [[nodiscard]] bool deserialize(std::string_view& in, SumAccumulator& acc) const {
    return encoding::get_double(in, acc.sum);
  }

 private:
  F f_;
};

template <class F>
SumAggregate<F> sum(F f) {
  return SumAggregate<F>(std::move(f));
}

}  // namespace kappa::agg
