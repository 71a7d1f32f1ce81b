// AggregateSpec: one aggregate the user asked for with --agg, as a plain
// value: which built-in it is and, for distinct, the field it counts. The
// flag parser produces a list of these; JsonAggregate computes them and the
// result writer names the output fields after them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace kappa::window_agg {

enum class AggregateKind : uint8_t {
  kCount,     // records, with or without a value
  kSum,       // of --value; 0 when no record has a value
  kMin,       // of --value
  kMax,       // of --value
  kMean,      // of --value
  kVariance,  // sample variance of --value (n - 1)
  kStddev,    // its square root
  kFirst,     // --value of the record with the smallest event time
  kLast,      // --value of the record with the largest event time
  kDistinct,  // approximate distinct count of another field (HyperLogLog)
};

struct AggregateSpec {
  AggregateKind kind = AggregateKind::kCount;
  std::string field;  // kDistinct only: the field whose distinct values are counted

  // The output field: "count", "sum", ..., "distinct_<field>".
  std::string output_name() const;
  // Whether it reads --value (every kind but count and distinct).
  bool uses_value() const { return kind != AggregateKind::kCount && kind != AggregateKind::kDistinct; }

  friend bool operator==(const AggregateSpec&, const AggregateSpec&) = default;
};

// The name of a kind as written in --agg ("count", ..., "distinct").
std::string_view aggregate_kind_name(AggregateKind kind);

}  // namespace kappa::window_agg
