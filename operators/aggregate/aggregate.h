// The Aggregate concept: what a window or keyed-aggregate operator needs from
// an aggregate function (count, sum, distinct count, ...), and how its
// accumulators are written into checkpoints.
//
// An aggregate A is an immutable, copyable object (it holds, say, the function
// that extracts a number from an element). Its per-key-and-window state is a
// separate value, A::accumulator_type, owned by the operator:
//
//   acc = agg.init();                 // the accumulator of no elements
//   agg.add(acc, element, ts);        // fold one element in (ts: its event time)
//   agg.merge(acc, other);            // fold another accumulator in
//   agg.result(acc)                   // -> A::result_type; acc is unchanged
//
// Contracts every aggregate keeps:
//  - add() and merge() give the same result however the elements are split
//    into accumulators, provided merge(acc, other) is called with `acc`
//    covering earlier-or-equal event times than `other` (a window operator
//    merges its slices in time order). Only first/last depend on that order.
//  - accumulator_type is default-constructible, copyable and movable; init()
//    of count/sum/min/max/mean/variance/first/last neither allocates nor
//    throws, and their add() is inline and allocation-free.
//  - All calls on one accumulator come from one thread (the task's); the
//    aggregate itself is const and may be shared.
//
// Serialization (checkpoints): the AGGREGATE, not the accumulator, writes and
// reads its accumulators, so that accumulators can be plain values or
// std::tuples (see agg::aggregates) and so that the format may depend on the
// aggregate's configuration:
//
//   agg.serialize(acc, out);          // appends acc's bytes to `out`
//   agg.deserialize(in, acc)          // -> bool
//
// deserialize() reads exactly the bytes serialize() wrote from the front of
// `in`, advances `in` past them (so encodings concatenate) and overwrites
// `acc` completely. It returns false, leaving `in` and `acc` unspecified, on
// truncated or malformed bytes; it never throws or aborts on bad input. The
// format is little-endian and independent of the host, so a checkpoint taken
// on one machine restores on another. Primitives: operators/aggregate/encoding.h.
#pragma once

#include <concepts>
#include <string>
#include <string_view>

#include "runtime/record.h"

namespace kappa {

// A: the aggregate (immutable, copyable: holds e.g. the value extractor); T: the element type.
template <class A, class T>
concept Aggregate = requires(const A& agg, typename A::accumulator_type& acc,
                             const typename A::accumulator_type& other, const T& value, Timestamp ts) {
  typename A::accumulator_type;  // movable, copyable, default-constructible
  typename A::result_type;
  { agg.init() } -> std::same_as<typename A::accumulator_type>;
  { agg.add(acc, value, ts) } -> std::same_as<void>;  // ts: the element's event time
  { agg.merge(acc, other) } -> std::same_as<void>;    // acc covers earlier-or-equal times than `other`
  { agg.result(acc) } -> std::same_as<typename A::result_type>;
};

// An aggregate whose accumulators can be checkpointed (every built-in is).
template <class A>
concept SerializableAggregate = requires(const A& agg, const typename A::accumulator_type& acc,
                                         typename A::accumulator_type& out, std::string& bytes,
                                         std::string_view& in) {
  { agg.serialize(acc, bytes) } -> std::same_as<void>;
  { agg.deserialize(in, out) } -> std::same_as<bool>;
};

}  // namespace kappa
