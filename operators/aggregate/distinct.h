// agg::distinct(f): the approximate number of distinct f(element) values,
// counted with a HyperLogLog sketch (hyperloglog.h): exact up to hash
// collisions for small counts (at most 256 distinct 25-bit hash prefixes,
// then ~1.6% standard error). f returns an integer or text (see
// value_function.h); std::nullopt values are ignored. Integers are hashed by
// value (int32 -1 and int64 -1 are the same value), text by its bytes; the
// integer 7 and the text "7" are different values.
//
// The accumulator is the sketch: empty and allocation-free from init(), at
// most 1 KiB while sparse, 4 KiB dense.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "operators/aggregate/hash.h"
#include "operators/aggregate/hyperloglog.h"
#include "operators/aggregate/value_function.h"
#include "runtime/record.h"

namespace kappa::agg {

// The hash distinct() uses for a value: hash_u64 of an integer (sign-extended
// to 64 bits), hash_bytes of text.
template <class V>
uint64_t distinct_hash(const V& value) {
  if constexpr (std::is_integral_v<V>) {
    if constexpr (std::is_signed_v<V>) {
      return hash_u64(static_cast<uint64_t>(static_cast<int64_t>(value)));
    } else {
      return hash_u64(static_cast<uint64_t>(value));
    }
  } else {
    return hash_bytes(std::string_view(value));
  }
}

template <class F>
class DistinctAggregate {
 public:
  using accumulator_type = HyperLogLog;
  using result_type = int64_t;

  explicit DistinctAggregate(F f) : f_(std::move(f)) {}

  HyperLogLog init() const { return {}; }
  template <class T>
    requires(IntegerFunction<F, T> || TextFunction<F, T>)
  void add(HyperLogLog& acc, const T& element, Timestamp /*ts*/) const {
    auto&& r = std::invoke(f_, element);
    if (!detail::present(r)) return;
    acc.add_hash(distinct_hash(detail::deref(r)));
  }
  void merge(HyperLogLog& acc, const HyperLogLog& other) const { acc.merge(other); }
  int64_t result(const HyperLogLog& acc) const { return std::llround(acc.estimate()); }

  // Format: HyperLogLog::serialize's.
  void serialize(const HyperLogLog& acc, std::string& out) const { acc.serialize(out); }
  [[nodiscard]] bool deserialize(std::string_view& in, HyperLogLog& acc) const { return acc.deserialize(in); }

 private:
  F f_;
};

template <class F>
DistinctAggregate<F> distinct(F f) {
  return DistinctAggregate<F>(std::move(f));
}

}  // namespace kappa::agg
