// agg::count(): the number of elements added, including elements whose fields
// are empty (it looks at no field). 0 for no elements.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "operators/aggregate/encoding.h"
#include "runtime/record.h"

namespace kappa::agg {

struct CountAccumulator {
  int64_t count = 0;
  friend bool operator==(const CountAccumulator&, const CountAccumulator&) = default;
};

class CountAggregate {
 public:
  using accumulator_type = CountAccumulator;
  using result_type = int64_t;

  CountAccumulator init() const { return {}; }
  template <class T>
  void add(CountAccumulator& acc, const T& /*element*/, Timestamp /*ts*/) const {
    ++acc.count;
  }
  void merge(CountAccumulator& acc, const CountAccumulator& other) const { acc.count += other.count; }
  int64_t result(const CountAccumulator& acc) const { return acc.count; }

  // Format: the count as a varint.
  void serialize(const CountAccumulator& acc, std::string& out) const { encoding::put_count(out, acc.count); }
  [[nodiscard]] bool deserialize(std::string_view& in, CountAccumulator& acc) const {
    return encoding::get_count(in, acc.count);
  }
};

inline CountAggregate count() { return {}; }

}  // namespace kappa::agg
