// The stateless stages a Pipeline is built from, and the event-time stage
// that stamps each element's time and advances the task's watermark.
//
// A stage has input_type, output_type and
//   template <class Emit> void process(Element<input_type>&&, Emit& emit)
// where emit(Element<output_type>&&) hands a result to the next stage and
// emit.watermark(t) tells every later stage that event time has reached t.
// Optional hooks, found by the Pipeline when present:
//   template <class Emit> void on_watermark(Timestamp, Emit&)  // timers
//   void bind(StageContext&)                                   // once per task
//   void checkpoint(StateWriter&)                              // state (runtime/state.h)
//   Status restore(StateReader&)
#pragma once

#include <chrono>
#include <concepts>
#include <cstddef>
#include <iterator>
#include <ranges>
#include <string>
#include <type_traits>
#include <utility>

#include "runtime/encoding.h"
#include "runtime/output_batch.h"
#include "runtime/record.h"
#include "runtime/stage_context.h"
#include "runtime/state.h"
#include "runtime/status.h"

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

// Writes f(value) to the task's side output `index` (when the job runs with
// it) and passes the element on unchanged.
template <class T, class F, class C>
struct SideOutputStage {
  using input_type = T;
  using output_type = T;
  std::size_t index;
  F fn;
  C codec;
  StageContext* context = nullptr;

  void bind(StageContext& c) { context = &c; }

  template <class Emit>
  void process(Element<T>&& e, Emit& emit) {
    if (OutputBatch* out = context != nullptr ? context->side_output(index) : nullptr) {
      const auto& side_value = fn(std::as_const(e.value));
      out->add(e.meta.key, e.meta.timestamp, [&](std::string& bytes) { codec.encode(side_value, bytes); });
    }
    emit(std::move(e));
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

// Stamps each element with its event time (from the value, or the source's
// timestamp) and advances the watermark after it: the largest event time seen
// minus the bounded out-of-orderness. Advancing per element, not per batch,
// is what makes results independent of batch sizes.
//
// Its state is the watermark, one entry (key "\0", the watermark as an i64):
// a restored task's watermark goes on from where it was, so lateness and
// event-time TTLs downstream decide as they would have without the restart.
template <class T, class F>
struct EventTimeStage {
  using input_type = T;
  using output_type = T;
  F timestamp_of;  // Timestamp(const T&), or nullptr_t to keep the source's timestamp
  std::chrono::milliseconds out_of_orderness;
  Timestamp watermark = kMinTimestamp;

  template <class Emit>
  void process(Element<T>&& e, Emit& emit) {
    if constexpr (!std::is_same_v<F, std::nullptr_t>) e.meta.timestamp = timestamp_of(std::as_const(e.value));
    const Timestamp t = e.meta.timestamp;
    emit(std::move(e));
    const Timestamp candidate =
        t < kMinTimestamp + out_of_orderness.count() ? kMinTimestamp : t - out_of_orderness.count();
    if (candidate > watermark) {
      watermark = candidate;
      emit.watermark(watermark);
    }
  }

  void checkpoint(StateWriter& out) {
    std::string value;
    encoding::put_i64(value, watermark);
    out.put(kWatermarkKey, value);
  }

  [[nodiscard]] Status restore(StateReader& in) {
    return in.scan([&](std::string_view key, std::string_view value) {
      Timestamp restored;
      if (key != kWatermarkKey || !encoding::get_i64(value, restored) || !value.empty()) {
        return Status::corruption("event time: unexpected state entry (not a watermark)");
      }
      watermark = restored;
      return Status::ok();
    });
  }

  static constexpr std::string_view kWatermarkKey{"\0", 1};
};

}  // namespace kappa
