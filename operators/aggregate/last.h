// agg::last(f): f(element) of the element with the largest event time, among
// the elements that have a value (nullopt and NaN are ignored). Ties in time
// go to the element added last; in merge(acc, other), to other's.
// std::nullopt when no element has a value. See timed_value.h.
//
// When f is generic (an `auto` lambda) the value type cannot be deduced:
// write agg::last<double>(f) or agg::last<std::string>(f).
#pragma once

#include <type_traits>
#include <utility>

#include "operators/aggregate/timed_value.h"

namespace kappa::agg {

template <class V>
using LastAccumulator = TimedValue<V, TimeEnd::kLatest>;
template <class F, class V>
using LastAggregate = TimedValueAggregate<F, V, TimeEnd::kLatest>;

template <class V = void, class F>
auto last(F f) {
  using Stored = timed_value_type<V, F>;
  static_assert(!std::is_void_v<Stored>,
                "agg::last(f): f(const T&) must return a number, text (std::string, std::string_view, "
                "const char*) or std::optional of one; for a generic lambda name the value type: "
                "agg::last<double>(f) or agg::last<std::string>(f)");
  return LastAggregate<F, Stored>(std::move(f));
}

}  // namespace kappa::agg
