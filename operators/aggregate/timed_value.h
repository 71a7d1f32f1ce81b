// TimedValueAggregate: the value of the element at one end of event time,
// the machinery behind agg::first (the earliest) and agg::last (the latest).
//
// Only elements that have a value count (nullopt and NaN are ignored; see
// value_function.h). Ties in time: first keeps the element added first and,
// in merge(acc, other), acc's; last takes the element added last and other's.
// The value is kept as a double when f returns a number and as a std::string
// when f returns text.
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

enum class TimeEnd { kEarliest, kLatest };

template <class V, TimeEnd End>
struct TimedValue {
  Timestamp ts = 0;
  V value{};
  bool has_value = false;
  friend bool operator==(const TimedValue&, const TimedValue&) = default;
};

template <class F, class V, TimeEnd End>
class TimedValueAggregate {
  static_assert(std::is_same_v<V, double> || std::is_same_v<V, std::string>,
                "agg::first<V>(f) / agg::last<V>(f): V is double (f returns a number) or std::string (f returns text)");

 public:
  using accumulator_type = TimedValue<V, End>;
  using result_type = std::optional<V>;

  explicit TimedValueAggregate(F f) : f_(std::move(f)) {}

  accumulator_type init() const { return {}; }
  template <class T>
    requires ValueFunction<F, T, V>
  void add(accumulator_type& acc, const T& element, Timestamp ts) const {
    if (acc.has_value && !replaces(ts, acc.ts)) return;
    if (store_value<V>(f_, element, [&](const auto& x) { acc.value = x; })) {
      acc.ts = ts;
      acc.has_value = true;
    }
  }
  // `other` covers later-or-equal times, so on a tie it is the later-added side.
  void merge(accumulator_type& acc, const accumulator_type& other) const {
    if (other.has_value && (!acc.has_value || replaces(other.ts, acc.ts))) acc = other;
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
  // Whether a value at time `candidate`, arriving after the one at `held`,
  // takes its place.
  static bool replaces(Timestamp candidate, Timestamp held) {
    return End == TimeEnd::kEarliest ? candidate < held : candidate >= held;
  }

  F f_;
};

// The value type a first/last aggregate keeps for f, or the explicit V.
template <class V, class F>
using timed_value_type = std::conditional_t<std::is_void_v<V>, typename detail::deduced_stored<F>::type, V>;

}  // namespace kappa::agg
