// agg::aggregates(a, b, ...): several aggregates computed in one pass over
// the elements. The accumulator is a std::tuple of the members' accumulators
// and the result a std::tuple of their results, in argument order:
//
//   auto features = agg::aggregates(agg::count(), agg::sum(&Txn::amount),
//                                   agg::distinct(&Txn::merchant));
//   auto [n, total, merchants] = features.result(acc);
//
// Each call forwards to every member in order; the serialized form is the
// members' forms concatenated.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include "operators/aggregate/aggregate.h"
#include "runtime/record.h"

namespace kappa::agg {

template <class... As>
class TupleAggregate {
  static_assert(sizeof...(As) > 0, "agg::aggregates() needs at least one aggregate");

 public:
  using accumulator_type = std::tuple<typename As::accumulator_type...>;
  using result_type = std::tuple<typename As::result_type...>;

  explicit TupleAggregate(As... members) : members_(std::move(members)...) {}

  accumulator_type init() const { return init(kIndices); }
  template <class T>
    requires(Aggregate<As, T> && ...)
  void add(accumulator_type& acc, const T& element, Timestamp ts) const {
    add(acc, element, ts, kIndices);
  }
  void merge(accumulator_type& acc, const accumulator_type& other) const { merge(acc, other, kIndices); }
  result_type result(const accumulator_type& acc) const { return result(acc, kIndices); }

  void serialize(const accumulator_type& acc, std::string& out) const { serialize(acc, out, kIndices); }
  [[nodiscard]] bool deserialize(std::string_view& in, accumulator_type& acc) const {
    return deserialize(in, acc, kIndices);
  }

  // The I-th member aggregate.
  template <std::size_t I>
  const auto& member() const {
    return std::get<I>(members_);
  }

 private:
  static constexpr std::index_sequence_for<As...> kIndices{};

  template <std::size_t... I>
  accumulator_type init(std::index_sequence<I...>) const {
    return accumulator_type(std::get<I>(members_).init()...);
  }
  template <class T, std::size_t... I>
  void add(accumulator_type& acc, const T& element, Timestamp ts, std::index_sequence<I...>) const {
    (std::get<I>(members_).add(std::get<I>(acc), element, ts), ...);
  }
  template <std::size_t... I>
  void merge(accumulator_type& acc, const accumulator_type& other, std::index_sequence<I...>) const {
    (std::get<I>(members_).merge(std::get<I>(acc), std::get<I>(other)), ...);
  }
  template <std::size_t... I>
  result_type result(const accumulator_type& acc, std::index_sequence<I...>) const {
    return result_type(std::get<I>(members_).result(std::get<I>(acc))...);
  }
  template <std::size_t... I>
  void serialize(const accumulator_type& acc, std::string& out, std::index_sequence<I...>) const {
    (std::get<I>(members_).serialize(std::get<I>(acc), out), ...);
  }
  template <std::size_t... I>
  bool deserialize(std::string_view& in, accumulator_type& acc, std::index_sequence<I...>) const {
    return (std::get<I>(members_).deserialize(in, std::get<I>(acc)) && ...);
  }

  std::tuple<As...> members_;
};

template <class... As>
TupleAggregate<As...> aggregates(As... members) {
  return TupleAggregate<As...>(std::move(members)...);
}

}  // namespace kappa::agg
