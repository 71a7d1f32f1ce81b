// agg::first(f): f(element) of the element with the smallest event time,
// among the elements that have a value (nullopt and NaN are ignored; see
// value_function.h). Ties in time go to the element added first; in
// merge(acc, other), to `acc`'s. std::nullopt when no element has a value.
//
// The value is kept as a double when f returns a number and as a std::string
// when f returns text. When f is generic (an `auto` lambda) that type cannot
// be deduced: write agg::first<double>(f) or agg::first<std::string>(f).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "operators/aggregate/encoding.h"
#include "operators/aggregate/value_function.h"
#include "runtime/record.h"

namespace kappa::agg {

// While there is no value, ts is kMaxTimestamp and value is V{}.
template <class V>
struct FirstAccumulator {
  Timestamp ts = kMaxTimestamp;
  V value{};
  bool has_value = false;
  friend bool operator==(const FirstAccumulator&, const FirstAccumulator&) = default;
};

template <class F, class V>
class FirstAggregate {
  static_assert(std::is_same_v<V, double> || std::is_same_v<V, std::string>,
                "agg::first<V>(f): V is double (f returns a number) or std::string (f returns text)");

 public:
  using accumulator_type = FirstAccumulator<V>;
  using result_type = std::optional<V>;

  explicit FirstAggregate(F f) : f_(std::move(f)) {}

  accumulator_type init() const { return {}; }
  template <class T>
    requires ValueFunction<F, T, V>
  void add(accumulator_type& acc, const T& element, Timestamp ts) const {
    if (acc.has_value && ts >= acc.ts) return;
    if (store_value<V>(f_, element, [&](const auto& x) { acc.value = x; })) {
      acc.ts = ts;
      acc.has_value = true;
    }
  }
  void merge(accumulator_type& acc, const accumulator_type& other) const {
    if (other.has_value && (!acc.has_value || other.ts < acc.ts)) acc = other;
  }
  result_type result(const accumulator_type& acc) const {
    return acc.has_value ? result_type(acc.value) : std::nullopt;
  }

  // Format: a has-value byte; if set, the time as 8 bytes, then the value
  // (a double as 8 bytes, text as a varint length and the bytes).
  void serialize(const accumulator_type& acc, std::string& out) const {
    encoding::put_bool(out, acc.has_value);
    if (!acc.has_value) return;
    encoding::put_i64(out, acc.ts);
    if constexpr (std::is_same_v<V, double>) {
      encoding::put_double(out, acc.value);
    } else {
      encoding::put_string(out, acc.value);
    }
  }
  [[nodiscard]] bool deserialize(std::string_view& in, accumulator_type& acc) const {
    acc = accumulator_type{};
    if (!encoding::get_bool(in, acc.has_value)) return false;
    if (!acc.has_value) return true;
    if (!encoding::get_i64(in, acc.ts)) return false;
    if constexpr (std::is_same_v<V, double>) {
      return encoding::get_double(in, acc.value) && acc.value == acc.value;
    } else {
      return encoding::get_string(in, acc.value);
    }
  }

 private:
  F f_;
};

template <class V = void, class F>
auto first(F f) {
  using Stored = std::conditional_t<std::is_void_v<V>, typename detail::deduced_stored<F>::type, V>;
  static_assert(!std::is_void_v<Stored>,
                "agg::first(f): f(const T&) must return a number, text (std::string, std::string_view, "
                "const char*) or std::optional of one; for a generic lambda name the value type: "
                "agg::first<double>(f) or agg::first<std::string>(f)");
  return FirstAggregate<F, Stored>(std::move(f));
}

}  // namespace kappa::agg
