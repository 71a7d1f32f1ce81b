// RollingOperator: one result per event, over that key's events in
// (t - delay - size, t - delay] (SQL OVER (RANGE ...), Kafka Streams'
// SlidingWindows): "transactions of this card in the last hour, this one
// included" is rolling(1h) with delay 0.
//
// Semantics (mirrored by the brute-force reference in the tests): events are
// ordered by (event time, input order). With delay 0 an event's window holds
// the events at its time that came before it in the input, and itself; with
// a delay, every event up to t - delay. An event earlier than the watermark
// when it arrives is late (late output, counted) and is neither emitted nor
// counted in other events' windows. An event's result is emitted once the
// watermark reaches its time, when no event that belongs in its window can
// still arrive; so results come out in event-time order per key, and the
// same input gives the same results however it was batched.
//
// Events are kept per key for size + delay of event time. The aggregate is
// recomputed from the kept events for every result (cost proportional to the
// events in the window); a sliding aggregator is the next step if windows
// with thousands of events per key become common.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "operators/aggregate/aggregate.h"
#include "operators/keyed/key_table.h"
#include "operators/window/window_result.h"
#include "runtime/record.h"
#include "runtime/stage_context.h"

namespace kappa {

template <class T, class KeyFn, class Agg>
class RollingOperator {
 public:
  using K = stored_key_t<std::invoke_result_t<const KeyFn&, const T&>>;
  using Acc = typename Agg::accumulator_type;
  using R = typename Agg::result_type;
  using input_type = T;
  using output_type = RollingResult<K, T, R>;
  using LateHandler = std::function<void(const RecordMeta&)>;

  // REQUIRES: size > 0, delay >= 0.
  RollingOperator(KeyFn key_of, int64_t size, int64_t delay, Agg agg, LateHandler on_late)
      : key_of_(std::move(key_of)), size_(size), delay_(delay), agg_(std::move(agg)), on_late_(std::move(on_late)) {}

  void bind(StageContext& context) { context_ = &context; }

  template <class Emit>
  void process(Element<T>&& e, Emit&) {
    const Timestamp t = e.meta.timestamp;
    if (t < watermark_) {
      if (context_ != nullptr) context_->report_late();
      if (on_late_) on_late_(e.meta);
      return;
    }
    auto& entry = keys_.find_or_add(key_of_(std::as_const(e.value)));
    KeyState& state = entry.second.state;
    // Sorted by (time, input order); out-of-order events are rare and near the back.
    auto it = state.events.end();
    while (it != state.events.begin() && std::prev(it)->time > t) --it;
    // Never before an emitted event: that one's time is at most the
    // watermark, and this one is not late.
    state.events.insert(it, Entry{t, next_sequence_++, std::move(e.value)});
    keys_.schedule(entry, t);
  }

  template <class Emit>
  void on_watermark(Timestamp watermark, Emit& emit) {
    if (watermark <= watermark_) return;
    watermark_ = watermark;
    keys_.run_timers(watermark_, [&](typename Table::Entry& entry) { service(entry, emit); });
  }

  std::size_t key_count() const { return keys_.size(); }

 private:
  struct Entry {
    Timestamp time;
    uint64_t sequence;
    T value;
  };
  struct KeyState {
    std::deque<Entry> events;  // sorted by (time, sequence)
    std::size_t emitted = 0;   // events[0, emitted) have had their result emitted
  };
  using Table = KeyTable<K, KeyState>;

  // The aggregate over the window of events[i].
  R result_for(const KeyState& state, std::size_t i) const {
    const Entry& trigger = state.events[i];
    const Timestamp upper = trigger.time - delay_;  // inclusive
    const Timestamp lower = upper - size_;          // exclusive
    Acc acc = agg_.init();
    for (const Entry& entry : state.events) {
      if (entry.time <= lower) continue;
      if (entry.time > upper) break;
      // With delay 0, events at the trigger's own time count up to the trigger.
      if (delay_ == 0 && entry.time == upper && entry.sequence > trigger.sequence) break;
      agg_.add(acc, entry.value, entry.time);
    }
    return agg_.result(acc);
  }

  template <class Emit>
  void service(typename Table::Entry& entry, Emit& emit) {
    KeyState& state = entry.second.state;
    for (; state.emitted < state.events.size() && state.events[state.emitted].time <= watermark_; ++state.emitted) {
      const Entry& trigger = state.events[state.emitted];
      key_bytes_.clear();
      append_key_bytes(entry.first, key_bytes_);
      Element<output_type> result;
      result.meta.key = key_bytes_;
      result.meta.timestamp = trigger.time;
      result.value.key = entry.first;
      result.value.event = trigger.value;
      result.value.event_time = trigger.time;
      result.value.value = result_for(state, state.emitted);
      emit(std::move(result));
    }
    // Events at or before watermark - delay - size are in no future window:
    // every future event is at or after the watermark.
    const Timestamp keep_after = watermark_ == kMaxTimestamp ? kMaxTimestamp : watermark_ - delay_ - size_;
    while (!state.events.empty() && state.emitted > 0 && state.events.front().time <= keep_after) {
      state.events.pop_front();
      --state.emitted;
    }
    if (state.events.empty()) {
      keys_.forget(entry.first);
      return;
    }
    // Next: the first event still to emit, or when the oldest kept event leaves every window.
    const Timestamp expiry = state.events.front().time + delay_ + size_;
    keys_.schedule(entry,
                   state.emitted < state.events.size() ? std::min(state.events[state.emitted].time, expiry) : expiry);
  }

  KeyFn key_of_;
  int64_t size_;
  int64_t delay_;
  Agg agg_;
  LateHandler on_late_;
  StageContext* context_ = nullptr;

  Timestamp watermark_ = kMinTimestamp;
  uint64_t next_sequence_ = 0;  // input order, for ties in time
  Table keys_;
  std::string key_bytes_;
};

}  // namespace kappa
