// What the built-in aggregates accept as the function that picks a value out
// of an element: f(const T&) (a lambda, a function, or a pointer to a data
// member or to a const member function, called with std::invoke) returning
//
//   NumberFunction   a number, or std::optional of one; bool counts as 0 / 1.
//   TextFunction     std::string, std::string_view or const char*, or std::optional of one.
//   IntegerFunction  an integer, or std::optional of one.
//   ValueFunction<V> for first/last, which keep the value itself: V = double
//                    takes a NumberFunction, V = std::string a TextFunction.
//
// A std::nullopt result means "no value": the element is ignored, like a SQL
// NULL. A NaN number is treated the same way (ignored). Infinities are values.
// Numbers are converted to double, so integers beyond 2^53 lose precision.
//
// f must be callable on a const object (a lambda without `mutable`) because
// aggregates are immutable; it runs on the task's thread for every element.
#pragma once

#include <cmath>
#include <concepts>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace kappa::agg {

namespace detail {

template <class R>
struct unwrap_optional {
  using type = R;
  static constexpr bool kOptional = false;
};
template <class V>
struct unwrap_optional<std::optional<V>> {
  using type = V;
  static constexpr bool kOptional = true;
};

template <class F, class T>
using call_result_t = std::remove_cvref_t<std::invoke_result_t<const F&, const T&>>;

// The value type of f's result, with std::optional removed.
template <class F, class T>
using value_t = std::remove_cvref_t<typename unwrap_optional<call_result_t<F, T>>::type>;

template <class V>
constexpr bool kIsNumber = std::is_arithmetic_v<V>;
template <class V>
constexpr bool kIsText = !std::is_arithmetic_v<V> && std::is_convertible_v<const V&, std::string_view>;

template <class R>
bool present(const R& r) {
  if constexpr (unwrap_optional<std::remove_cvref_t<R>>::kOptional) {
    return r.has_value();
  } else {
    return true;
  }
}

template <class R>
decltype(auto) deref(const R& r) {
  if constexpr (unwrap_optional<std::remove_cvref_t<R>>::kOptional) {
    return *r;
  } else {
    return (r);
  }
}

// The result type f declares, for f that is not generic: a pointer to a data
// member or to a const member function, a function pointer, or a class with
// one non-template const operator() (a lambda without `auto` parameters).
template <class F>
struct declared_result {};
template <class M, class C>
  requires(!std::is_function_v<M>)
struct declared_result<M C::*> {
  using type = M;
};
template <class R, class C, class... A>
struct declared_result<R (C::*)(A...) const> {
  using type = R;
};
template <class R, class C, class... A>
struct declared_result<R (C::*)(A...) const noexcept> {
  using type = R;
};
template <class R, class... A>
struct declared_result<R (*)(A...)> {
  using type = R;
};
template <class R, class... A>
struct declared_result<R (*)(A...) noexcept> {
  using type = R;
};
template <class F>
  requires requires { &F::operator(); }
struct declared_result<F> : declared_result<decltype(&F::operator())> {};

// What first/last keep for a value of type V: double for numbers,
// std::string for text, void for anything else.
template <class V>
using stored_t = std::conditional_t<kIsNumber<V>, double, std::conditional_t<kIsText<V>, std::string, void>>;

// stored_t of the value type f declares; void when f's result cannot be
// deduced without the element type (a generic lambda) or is not supported.
template <class F>
struct deduced_stored {
  using type = void;
};
template <class F>
  requires requires { typename declared_result<F>::type; }
struct deduced_stored<F> {
  using type = stored_t<
      std::remove_cvref_t<typename unwrap_optional<std::remove_cvref_t<typename declared_result<F>::type>>::type>>;
};

}  // namespace detail

template <class F, class T>
concept NumberFunction = std::invocable<const F&, const T&> && detail::kIsNumber<detail::value_t<F, T>>;

template <class F, class T>
concept TextFunction = std::invocable<const F&, const T&> && detail::kIsText<detail::value_t<F, T>>;

template <class F, class T>
concept IntegerFunction = std::invocable<const F&, const T&> && std::is_integral_v<detail::value_t<F, T>>;

template <class F, class T, class V>
concept ValueFunction = (std::same_as<V, double> && NumberFunction<F, T>) ||
                        (std::same_as<V, std::string> && TextFunction<F, T>);

// Sets `out` to f(element) as a double and returns true, or returns false when
// f gives no value (nullopt or NaN).
template <class F, class T>
  requires NumberFunction<F, T>
inline bool number_of(const F& f, const T& element, double& out) {
  auto&& r = std::invoke(f, element);
  if (!detail::present(r)) return false;
  out = static_cast<double>(detail::deref(r));
  if constexpr (std::is_floating_point_v<detail::value_t<F, T>>) {
    return !std::isnan(out);
  } else {
    return true;
  }
}

// Calls store(x) with f(element), as a double (V = double) or a
// std::string_view (V = std::string), and returns true; returns false without
// calling it when f gives no value (nullopt or NaN).
template <class V, class F, class T, class Store>
  requires ValueFunction<F, T, V>
inline bool store_value(const F& f, const T& element, Store&& store) {
  if constexpr (std::same_as<V, double>) {
    double x;
    if (!number_of(f, element, x)) return false;
    store(x);
  } else {
    auto&& r = std::invoke(f, element);
    if (!detail::present(r)) return false;
    store(std::string_view(detail::deref(r)));
  }
  return true;
}

}  // namespace kappa::agg
