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

#include <chrono>
#include <concepts>
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

#include "runtime/record.h"
#include "runtime/stage_context.h"
#include "runtime/stages.h"
#include "runtime/state.h"
#include "runtime/status.h"

namespace kappa {

namespace pipeline_detail {

// Stands for any stage's emitter when asking what hooks a stage has.
struct AnyEmit {
  template <class E>
  void operator()(E&&) const;
  void watermark(Timestamp) const;
};
template <class S>
concept HasWatermarkHook = requires(S& s, Timestamp t, AnyEmit& emit) { s.on_watermark(t, emit); };
template <class S>
concept HasBindHook = requires(S& s, StageContext& context) { s.bind(context); };
template <class S>
concept HasCheckpointHook = requires(S& s, StateWriter& writer) { s.checkpoint(writer); };
template <class S>
concept HasShedMemoryHook = requires(S& s) { s.shed_memory(); };
template <class S>
concept HasRestoreHook = requires(S& s, StateReader& reader) {
  { s.restore(reader) } -> std::same_as<Status>;
};

}  // namespace pipeline_detail

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

  // event_time(out_of_orderness): event time is the source's timestamp (the
  // Kafka record's); event_time(f, out_of_orderness): f(const T&) -> Timestamp
  // (epoch ms) reads it from the value. Either way the task's watermark
  // follows: the largest event time seen minus the out-of-orderness.
  auto event_time(std::chrono::milliseconds out_of_orderness) const {
    return append(EventTimeStage<output_type, std::nullptr_t>{nullptr, out_of_orderness});
  }
  template <class F>
  auto event_time(F timestamp_of, std::chrono::milliseconds out_of_orderness) const {
    static_assert(std::is_invocable_r_v<Timestamp, F&, const output_type&>,
                  "event_time(f, out_of_orderness) takes f(const T&) returning the event time in epoch "
                  "milliseconds (kappa::Timestamp)");
    return append(EventTimeStage<output_type, F>{std::move(timestamp_of), out_of_orderness});
  }

  // side_output(index, f, codec): writes codec-encoded f(const Out&) to the
  // job's side output `index` (Job::add_side_output), with the element's key
  // and timestamp, and passes the element on unchanged. Nothing is written
  // when the job runs without that output.
  template <class F, class C>
  auto side_output(std::size_t index, F f, C codec) const {
    static_assert(std::is_invocable_v<F&, const output_type&>,
                  "side_output(index, f, codec) takes f(const T&) returning the side output's value, where T is "
                  "the stream's current type");
    return append(SideOutputStage<output_type, F, C>{index, std::move(f), std::move(codec)});
  }

  // then(spec): appends a stage built by an operator spec (a keyed aggregate,
  // a window, ...), which has `template <class T> auto make_stage() const`.
  template <class Spec>
  auto then(const Spec& spec) const {
    return append(spec.template make_stage<output_type>());
  }

  // Gives every stage that wants one the task's context. Once per task,
  // before the first push().
  void bind(StageContext& context) {
    std::apply(
        [&](auto&... stage) {
          (
              [&] {
                if constexpr (pipeline_detail::HasBindHook<std::decay_t<decltype(stage)>>) stage.bind(context);
              }(),
              ...);
        },
        stages_);
  }

  // Writes what every stateful stage changed since its last checkpoint (or
  // its restore) into the stage's namespace, state.writer(I) for stage I.
  // Called between two push() calls (a batch boundary), from the task's
  // thread.
  void checkpoint(TaskState& state) {
    for_each_stage([&]<std::size_t I>(auto& stage) {
      if constexpr (pipeline_detail::HasCheckpointHook<std::decay_t<decltype(stage)>>) stage.checkpoint(state.writer(I));
    });
  }

  // Lets every stage with state under a memory budget drop what it can
  // (KeyTable::shed_memory), once the last checkpoint is committed. Called
  // between two push() calls, from the task's thread.
  void shed_memory() {
    for_each_stage([&]<std::size_t I>(auto& stage) {
      if constexpr (pipeline_detail::HasShedMemoryHook<std::decay_t<decltype(stage)>>) stage.shed_memory();
    });
  }

  // Rebuilds every stateful stage from its namespace, state.reader(I). Once
  // per task, on a fresh pipeline, after bind() and before the first push().
  // Stops at the first stage that fails and returns its error; the pipeline
  // must then not be run.
  [[nodiscard]] Status restore(TaskState& state) {
    Status status;
    for_each_stage([&]<std::size_t I>(auto& stage) {
      if constexpr (pipeline_detail::HasRestoreHook<std::decay_t<decltype(stage)>>) {
        if (status.is_ok()) status = stage.restore(state.reader(I));
      }
    });
    return status;
  }

  // Runs one element through every stage; `sink(Element<output_type>&&)`
  // receives each result. Called from one thread at a time.
  template <class Sink>
  void push(Element<In>&& e, Sink& sink) {
    push_from<0>(std::move(e), sink);
  }

  // The input has ended for good: the watermark moves to +infinity, so every
  // window fires and every timer runs.
  template <class Sink>
  void finish(Sink& sink) {
    watermark_from<0>(kMaxTimestamp, sink);
  }

  static constexpr std::size_t stage_count() { return sizeof...(Stages); }

 private:
  template <class, class...>
  friend class Pipeline;

  // What stage I-1 emits into: elements go to stage I, watermarks to every
  // stage from I on.
  template <std::size_t I, class Sink>
  struct Downstream {
    Pipeline* pipeline;
    Sink* sink;
    template <class E>
    void operator()(E&& e) const {
      pipeline->template push_from<I>(std::forward<E>(e), *sink);
    }
    void watermark(Timestamp t) const { pipeline->template watermark_from<I>(t, *sink); }
  };

  // Calls f.template operator()<I>(stage I) for every stage, in order.
  template <class F>
  void for_each_stage(F&& f) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (f.template operator()<I>(std::get<I>(stages_)), ...);
    }(std::index_sequence_for<Stages...>{});
  }

  template <class S>
  auto append(S stage) const {
    return Pipeline<In, Stages..., S>(std::tuple_cat(stages_, std::tuple<S>(std::move(stage))));
  }

  template <std::size_t I, class E, class Sink>
  void push_from(E&& e, Sink& sink) {
    if constexpr (I == sizeof...(Stages)) {
      sink(std::forward<E>(e));
    } else {
      Downstream<I + 1, Sink> next{this, &sink};
      std::get<I>(stages_).process(std::forward<E>(e), next);
    }
  }

  template <std::size_t I, class Sink>
  void watermark_from(Timestamp t, Sink& sink) {
    if constexpr (I == sizeof...(Stages)) {
      // Past the last stage: a sink that keeps track of event time hears it.
      if constexpr (requires { sink.watermark(t); }) sink.watermark(t);
    } else {
      using Stage = std::tuple_element_t<I, std::tuple<Stages...>>;
      if constexpr (pipeline_detail::HasWatermarkHook<Stage>) {
        Downstream<I + 1, Sink> next{this, &sink};
        std::get<I>(stages_).on_watermark(t, next);
      }
      watermark_from<I + 1>(t, sink);
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
