#include "jobs/window_agg/aggregate_spec.h"

namespace kappa::window_agg {

std::string_view aggregate_kind_name(AggregateKind kind) {
  switch (kind) {
    case AggregateKind::kCount:
      return "count";
    case AggregateKind::kSum:
      return "sum";
    case AggregateKind::kMin:
      return "min";
    case AggregateKind::kMax:
      return "max";
    case AggregateKind::kMean:
      return "mean";
    case AggregateKind::kVariance:
      return "variance";
    case AggregateKind::kStddev:
      return "stddev";
    case AggregateKind::kFirst:
      return "first";
    case AggregateKind::kLast:
      return "last";
    case AggregateKind::kDistinct:
      return "distinct";
  }
  return "?";
}

std::string AggregateSpec::output_name() const {
  std::string name(aggregate_kind_name(kind));
  if (kind == AggregateKind::kDistinct) name += "_" + field;
  return name;
}

}  // namespace kappa::window_agg
