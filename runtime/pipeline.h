// Pipeline: a job's typed chain of operators, composed at compile time.
//
//   auto p = kappa::pipeline<Transaction>()
//                .filter([](const Transaction& t) { return t.amount() > 0; })
//                .map([](const Transaction& t) { return enrich(t); });
//
// Each call returns a new Pipeline type; push() runs one element through every
// stage with the calls inlined, so the per-record path has no virtual call and
// no allocation of its own. A Pipeline is a value: every task copies it and so
// owns its own instance of the chain (stateful stages never share state across
// tasks). Functions given to map / filter / flat_map must therefore be
// copyable; they are called from one task's thread at a time.
#pragma once

#include <concepts>
#include <ranges>
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

#include "runtime/record.h"

namespace kappa {

namespace pipeline_detail {

template <class F, class T>
constexpr bool takes_value = std::is_invocable_v<F&, T&&>;
template <class F, class T>
constexpr bool takes_value_and_meta = std::is_invocable_v<F&, T&&, const RecordMeta&>;

// Calls f(value) or f(value, meta), whichever the function accepts.
template <class F, class T>
decltype(auto) call_user(F& f, Element<T>& e) {
  if constexpr (takes_value<F, T>) {
    return f(std::move(e.value));
  } else {
    return f(std::move(e.value), std::as_const(e.meta));
  }
}

template <class F, class T>
struct user_result {
  using type = void;
};
template <class F, class T>
  requires takes_value<F, T>
struct user_result<F, T> {
  using type = std::invoke_result_t<F&, T&&>;
};
template <class F, class T>
  requires(!takes_value<F, T> && takes_value_and_meta<F, T>)
struct user_result<F, T> {
  using type = std::invoke_result_t<F&, T&&, const RecordMeta&>;
};
template <class F, class T>
using user_result_t = typename user_result<F, T>::type;

template <class F, class T>
constexpr bool is_user_function = takes_value<F, T> || takes_value_and_meta<F, T>;

// The value type after the last stage (In when there is none).
template <class In, class... Stages>
struct last_output {
  using type = In;
};
template <class In, class S, class... Rest>
struct last_output<In, S, Rest...> {
  using type = typename last_output<typename S::output_type, Rest...>::type;
};

template <class R>
concept Iterable = requires(R& r) {
  std::begin(r);
  std::end(r);
};

}  // namespace pipeline_detail

// Stages: each has input_type, output_type and
//   template <class Emit> void process(Element<input_type>&&, Emit& emit)
// where emit(Element<output_type>&&) hands a result to the next stage.

template <class T, class F>
struct MapStage {
  using input_type = T;
  using output_type = std::decay_t<pipeline_detail::user_result_t<F, T>>;
  F fn;

  template <class Emit>
  void process(Element<T>&& e, Emit& emit) {
    RecordMeta meta = e.meta;
    emit(Element<output_type>{pipeline_detail::call_user(fn, e), meta});
  }
};

template <class T, class F>
struct FilterStage {
  using input_type = T;
  using output_type = T;
  F fn;

  template <class Emit>
  void process(Element<T>&& e, Emit& emit) {
    bool keep;
    if constexpr (pipeline_detail::takes_value<F, const T&>) {
      keep = fn(std::as_const(e.value));
    } else {
      keep = fn(std::as_const(e.value), std::as_const(e.meta));
    }
    if (keep) emit(std::move(e));
  }
};

// flat_map with a function that returns a container (vector, array, ...).
template <class T, class F>
struct FlatMapRangeStage {
  using input_type = T;
  using range_type = std::decay_t<pipeline_detail::user_result_t<F, T>>;
  using output_type = std::ranges::range_value_t<range_type>;
  F fn;

  template <class Emit>
  void process(Element<T>&& e, Emit& emit) {
    RecordMeta meta = e.meta;
    range_type outputs = pipeline_detail::call_user(fn, e);
    for (auto&& out : outputs) emit(Element<output_type>{output_type(std::move(out)), meta});
  }
};

// flat_map<U> with a function that calls its collector once per output:
//   .flat_map<Word>([](const Line& l, auto& out) { for (...) out(Word{...}); })
template <class T, class U, class F>
struct FlatMapCollectStage {
  using input_type = T;
  using output_type = U;
  F fn;

  template <class Emit>
  void process(Element<T>&& e, Emit& emit) {
    const RecordMeta meta = e.meta;
    auto collect = [&](U value) { emit(Element<U>{std::move(value), meta}); };
    fn(std::as_const(e.value), collect);
  }
};

template <class In, class... Stages>
class Pipeline {
 public:
  using input_type = In;
  using output_type = typename pipeline_detail::last_output<In, Stages...>::type;

  Pipeline() = default;
  explicit Pipeline(std::tuple<Stages...> stages) : stages_(std::move(stages)) {}

  // map(f): f(const Out&) -> U, or f(const Out&, const kappa::RecordMeta&) -> U.
  template <class F>
  auto map(F f) const {
    using Out = output_type;
    static_assert(pipeline_detail::is_user_function<F, Out>,
                  "map() takes a function U(const T&), U(T) or U(const T&, const kappa::RecordMeta&), "
                  "where T is the stream's current type");
    static_assert(!pipeline_detail::is_user_function<F, Out> || !std::is_void_v<pipeline_detail::user_result_t<F, Out>>,
                  "map() needs a function that returns the new value; use filter() to drop records");
    return append(MapStage<Out, F>{std::move(f)});
  }

  // filter(p): p(const Out&) -> bool, or p(const Out&, const kappa::RecordMeta&) -> bool.
  template <class F>
  auto filter(F f) const {
    using Out = output_type;
    static_assert(std::is_invocable_r_v<bool, F&, const Out&> ||
                      std::is_invocable_r_v<bool, F&, const Out&, const RecordMeta&>,
                  "filter() takes a predicate bool(const T&) or bool(const T&, const kappa::RecordMeta&), "
                  "where T is the stream's current type");
    return append(FilterStage<Out, F>{std::move(f)});
  }

  // flat_map(f): f(const Out&[, meta]) returns a container of U (vector, array, ...),
  // flat_map<U>(f): f(const Out&, auto& out) calls out(U) once per result.
  template <class U = void, class F>
  auto flat_map(F f) const {
    using Out = output_type;
    if constexpr (std::is_void_v<U>) {
      static_assert(pipeline_detail::is_user_function<F, Out>,
                    "flat_map() takes a function returning a container, C(const T&) or "
                    "C(const T&, const kappa::RecordMeta&); or use flat_map<U>(f) with "
                    "f(const T&, auto& out) calling out(U) per result");
      static_assert(pipeline_detail::Iterable<std::decay_t<pipeline_detail::user_result_t<F, Out>>>,
                    "flat_map(f): f must return a container (vector, array, ...) of results; "
                    "or use flat_map<U>(f) with f(const T&, auto& out) calling out(U) per result");
      return append(FlatMapRangeStage<Out, F>{std::move(f)});
    } else {
      static_assert(std::is_invocable_v<F&, const Out&, void (*&)(U)>,
                    "flat_map<U>(f) takes f(const T&, auto& out) that calls out(U) once per result");
      return append(FlatMapCollectStage<Out, U, F>{std::move(f)});
    }
  }

  // Runs one element through every stage; `sink(Element<output_type>&&)`
  // receives each result. Called from one thread at a time.
  template <class Sink>
  void push(Element<In>&& e, Sink& sink) {
    push_from<0>(std::move(e), sink);
  }

  static constexpr std::size_t stage_count() { return sizeof...(Stages); }

 private:
  template <class S>
  auto append(S stage) const {
    return Pipeline<In, Stages..., S>(std::tuple_cat(stages_, std::tuple<S>(std::move(stage))));
  }

  template <std::size_t I, class E, class Sink>
  void push_from(E&& e, Sink& sink) {
    if constexpr (I == sizeof...(Stages)) {
      sink(std::forward<E>(e));
    } else {
      auto next = [&](auto&& out) { push_from<I + 1>(std::forward<decltype(out)>(out), sink); };
      std::get<I>(stages_).process(std::forward<E>(e), next);
    }
  }

  std::tuple<Stages...> stages_;
};

// The empty pipeline over values of type In: the start of every job's chain.
template <class In>
Pipeline<In> pipeline() {
  return Pipeline<In>();
}

}  // namespace kappa
