// JsonAggregate: the aggregates chosen with --agg, computed in one pass over
// JsonRecords, as ONE aggregate (operators/aggregate/aggregate.h) that any
// window or keyed operator can run.
//
// The list is only known at run time, so instead of a compile-time tuple the
// accumulator is a vector with one slot per aggregate, each a std::variant of
// the built-in accumulators, and every call dispatches on the slot's kind to
// the built-in aggregate (count, Welford variance, HyperLogLog, ... are not
// reimplemented here). Per record, --value is looked up once for all slots,
// and each distinct field once.
//
// Results: one AggregateValue per slot, in --agg order; null where the
// built-in has no result (mean of no values, stddev of fewer than two).
// Serialization: the slot count, then each slot in the built-in's format.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "jobs/window_agg/aggregate_spec.h"
#include "jobs/window_agg/json_record.h"
#include "operators/aggregate/builtins.h"
#include "runtime/record.h"

namespace kappa::window_agg {

// One aggregate's result: no value (JSON null), an integer (count,
// distinct) or a number.
using AggregateValue = std::variant<std::monostate, int64_t, double>;

// What one record offers the built-in aggregates: --value, and for a
// distinct slot the text of its field.
struct SlotInput {
  std::optional<double> number;
  std::optional<std::string_view> text;
};
struct SlotNumber {
  std::optional<double> operator()(const SlotInput& in) const { return in.number; }
};
struct SlotText {
  std::optional<std::string_view> operator()(const SlotInput& in) const { return in.text; }
};

class JsonAggregate {
 public:
  using SlotAccumulator = std::variant<agg::CountAccumulator, agg::SumAccumulator, agg::MinAccumulator,
                                       agg::MaxAccumulator, agg::MeanAccumulator, agg::MomentsAccumulator,
                                       agg::FirstAccumulator<double>, agg::LastAccumulator<double>, agg::HyperLogLog>;
  using accumulator_type = std::vector<SlotAccumulator>;
  using result_type = std::vector<AggregateValue>;

  // `value_field`: the field sum/min/max/mean/variance/stddev/first/last read
  // (may be empty when none of them is used).
  // REQUIRES: !specs.empty(); value_field non-empty if a spec uses it.
  JsonAggregate(std::vector<AggregateSpec> specs, std::string value_field);

  accumulator_type init() const;
  void add(accumulator_type& acc, const JsonRecord& record, Timestamp ts) const;
  void merge(accumulator_type& acc, const accumulator_type& other) const;
  result_type result(const accumulator_type& acc) const;

  void serialize(const accumulator_type& acc, std::string& out) const;
  [[nodiscard]] bool deserialize(std::string_view& in, accumulator_type& acc) const;

  const std::vector<AggregateSpec>& specs() const { return specs_; }

 private:
  // Calls f(builtin) with the built-in aggregate of `kind` (defined in the .cc).
  template <class F>
  decltype(auto) visit_builtin(AggregateKind kind, F&& f) const;

  std::vector<AggregateSpec> specs_;
  std::string value_field_;
  bool reads_value_ = false;

  agg::CountAggregate count_;
  agg::SumAggregate<SlotNumber> sum_{SlotNumber{}};
  agg::MinAggregate<SlotNumber> min_{SlotNumber{}};
  agg::MaxAggregate<SlotNumber> max_{SlotNumber{}};
  agg::MeanAggregate<SlotNumber> mean_{SlotNumber{}};
  agg::VarianceAggregate<SlotNumber> variance_{SlotNumber{}};
  agg::StddevAggregate<SlotNumber> stddev_{SlotNumber{}};
  agg::FirstAggregate<SlotNumber, double> first_{SlotNumber{}};
  agg::LastAggregate<SlotNumber, double> last_{SlotNumber{}};
  agg::DistinctAggregate<SlotText> distinct_{SlotText{}};
};

}  // namespace kappa::window_agg
