// agg::first(f): f(element) of the element with the smallest event time,
// among the elements that have a value (nullopt and NaN are ignored). Ties in
// time go to the element added first; in merge(acc, other), to acc's.
// std::nullopt when no element has a value. See timed_value.h.
//
// When f is generic (an `auto` lambda) the value type cannot be deduced:
// write agg::first<double>(f) or agg::first<std::string>(f).
#pragma once

#include <type_traits>
#include <utility>

#include "operators/aggregate/timed_value.h"

namespace kappa::agg {

template <class V>
using FirstAccumulator = TimedValue<V, TimeEnd::kEarliest>;
template <class F, class V>
using FirstAggregate = TimedValueAggregate<F, V, TimeEnd::kEarliest>;

template <class V = void, class F>
auto first(F f) {
  using Stored = timed_value_type<V, F>;
  static_assert(!std::is_void_v<Stored>,
                "agg::first(f): f(const T&) must return a number, text (std::string, std::string_view, "
                "const char*) or std::optional of one; for a generic lambda name the value type: "
                "agg::first<double>(f) or agg::first<std::string>(f)");
  return FirstAggregate<F, Stored>(std::move(f));
}

}  // namespace kappa::agg
