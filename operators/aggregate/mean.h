// agg::mean(f): the arithmetic mean of f(element) over the elements that have
// a value (nullopt and NaN are ignored; see value_function.h), as sum / count
// in double; std::nullopt when no element has a value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "operators/aggregate/encoding.h"
#include "operators/aggregate/value_function.h"
#include "runtime/record.h"

namespace kappa::agg {

struct MeanAccumulator {
  double sum = 0.0;
  int64_t count = 0;  // elements with a value
  friend bool operator==(const MeanAccumulator&, const MeanAccumulator&) = default;
};

template <class F>
class MeanAggregate {
 public:
  using accumulator_type = MeanAccumulator;
  using result_type = std::optional<double>;

  explicit MeanAggregate(F f) : f_(std::move(f)) {}

  MeanAccumulator init() const { return {}; }
  template <class T>
    requires NumberFunction<F, T>
  void add(MeanAccumulator& acc, const T& element, Timestamp /*ts*/) const {
    double x;
    if (!number_of(f_, element, x)) return;
    acc.sum += x;
    ++acc.count;
  }
  void merge(MeanAccumulator& acc, const MeanAccumulator& other) const {
    acc.sum += other.sum;
    acc.count += other.count;
  }
  std::optional<double> result(const MeanAccumulator& acc) const {
    if (acc.count == 0) return std::nullopt;
    return acc.sum / static_cast<double>(acc.count);
  }

  // Format: the count as a varint, then the sum as 8 bytes.
  void serialize(const MeanAccumulator& acc, std::string& out) const {
    encoding::put_count(out, acc.count);
    encoding::put_double(out, acc.sum);
  }
  [[nodiscard]] bool deserialize(std::string_view& in, MeanAccumulator& acc) const {
    return encoding::get_count(in, acc.count) && encoding::get_double(in, acc.sum);
  }

 private:
  F f_;
};

template <class F>
MeanAggregate<F> mean(F f) {
  return MeanAggregate<F>(std::move(f));
}

}  // namespace kappa::agg
