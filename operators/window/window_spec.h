// Builders for windowed operators, reached through key_by(...).window(...)
// and key_by(...).rolling(...) (operators/keyed/key_by.h).
#pragma once

#include <chrono>
#include <functional>
#include <utility>

#include "operators/aggregate/aggregate.h"
#include "operators/keyed/key.h"
#include "operators/window/emit_mode.h"
#include "operators/window/slice_assigner.h"
#include "operators/window/rolling_operator.h"
#include "operators/window/window_operator.h"

namespace kappa {

template <class KeyFn>
class WindowSpec {
 public:
  WindowSpec(KeyFn key_of, SliceAssigner assigner) : key_of_(std::move(key_of)), assigner_(assigner) {}

  WindowSpec& allowed_lateness(std::chrono::milliseconds lateness) {
    options_.allowed_lateness = lateness;
    return *this;
  }
  WindowSpec& emit(EmitMode mode) {
    options_.emit = mode;
    return *this;
  }
  // Also calls f(const RecordMeta&) for every late element (late elements go
  // to the task's late output and are counted either way).
  WindowSpec& on_late(std::function<void(const RecordMeta&)> f) {
    on_late_ = std::move(f);
    return *this;
  }

  template <class Agg>
  auto aggregate(Agg agg) const {
    return keyed_stage<KeyFn, Agg>([spec = *this, agg = std::move(agg)](auto type) {
      using T = typename decltype(type)::type;
      return WindowOperator<T, KeyFn, Agg>(spec.key_of_, spec.assigner_, agg, spec.options_, spec.on_late_);
    });
  }

 private:
  KeyFn key_of_;
  SliceAssigner assigner_;
  WindowOptions options_;
  std::function<void(const RecordMeta&)> on_late_;
};

// rolling(size[, delay]) after key_by: see rolling_operator.h.
template <class KeyFn>
class RollingSpec {
 public:
  RollingSpec(KeyFn key_of, std::chrono::milliseconds size, std::chrono::milliseconds delay)
      : key_of_(std::move(key_of)), size_(size), delay_(delay) {}

  RollingSpec& on_late(std::function<void(const RecordMeta&)> f) {
    on_late_ = std::move(f);
    return *this;
  }

  template <class Agg>
  auto aggregate(Agg agg) const {
    return keyed_stage<KeyFn, Agg>([spec = *this, agg = std::move(agg)](auto type) {
      using T = typename decltype(type)::type;
      return RollingOperator<T, KeyFn, Agg>(spec.key_of_, spec.size_.count(), spec.delay_.count(), agg,
                                            spec.on_late_);
    });
  }

 private:
  KeyFn key_of_;
  std::chrono::milliseconds size_;
  std::chrono::milliseconds delay_;
  std::function<void(const RecordMeta&)> on_late_;
};

}  // namespace kappa
