// agg::min(f): the smallest f(element) over the elements that have a value
// (nullopt and NaN are ignored; see value_function.h), as a double;
// std::nullopt when no element has a value. -inf and +inf are values.
#pragma once

#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "operators/aggregate/encoding.h"
#include "operators/aggregate/value_function.h"
#include "runtime/record.h"

namespace kappa::agg {

// `value` is +inf while there is no value, so add() and merge() need no branch.
struct MinAccumulator {
  double value = std::numeric_limits<double>::infinity();
  bool has_value = false;
  friend bool operator==(const MinAccumulator&, const MinAccumulator&) = default;
};

template <class F>
class MinAggregate {
 public:
  using accumulator_type = MinAccumulator;
  using result_type = std::optional<double>;

  explicit MinAggregate(F f) : f_(std::move(f)) {}

  MinAccumulator init() const { return {}; }
  template <class T>
    requires NumberFunction<F, T>
  void add(MinAccumulator& acc, const T& element, Timestamp /*ts*/) const {
    double x;
    if (!number_of(f_, element, x)) return;
    acc.value = x < acc.value ? x : acc.value;
    acc.has_value = true;
  }
  void merge(MinAccumulator& acc, const MinAccumulator& other) const {
    acc.value = other.value < acc.value ? other.value : acc.value;
    acc.has_value |= other.has_value;
  }
  std::optional<double> result(const MinAccumulator& acc) const {
    return acc.has_value ? std::optional<double>(acc.value) : std::nullopt;
  }

  // Format: a has-value byte, then the value as 8 bytes if there is one.
  void serialize(const MinAccumulator& acc, std::string& out) const {
    encoding::put_bool(out, acc.has_value);
    if (acc.has_value) encoding::put_double(out, acc.value);
  }
  [[nodiscard]] bool deserialize(std::string_view& in, MinAccumulator& acc) const {
    acc = MinAccumulator{};
    if (!encoding::get_bool(in, acc.has_value)) return false;
    return !acc.has_value || (encoding::get_double(in, acc.value) && acc.value == acc.value);
  }

 private:
  F f_;
};

template <class F>
MinAggregate<F> min(F f) {
  return MinAggregate<F>(std::move(f));
}

}  // namespace kappa::agg
