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
// Events are kept per key for size + delay of event time. Each key's window
// only slides forward (no accepted event can land inside the part already
// aggregated), so a two-stack sliding aggregator keeps it: every event is
// added once and merged O(1) times amortized, and a result costs one merge,
// however many events the window holds (30 days of a card's transactions).
//
// Checkpoints (runtime/state.h, layout in key_table.h): one entry per key,
// its kept events (time, input sequence, value: state_value.h says which
// value types can be written) and the positions of its emitted events and
// sliding window; the window's two stacks are rebuilt from the events on
// restore with the same additions and merges, so their accumulators are
// identical. The meta entry holds the watermark and the input sequence.
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
#include "operators/keyed/state_value.h"
#include "operators/window/window_result.h"
#include "runtime/encoding.h"
#include "runtime/record.h"
#include "runtime/stage_context.h"
#include "runtime/state.h"
#include "runtime/status.h"

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
    if (!state.started) {
      // A default-constructed accumulator is not always a valid empty one.
      state.window.back = agg_.init();
      state.started = true;
    }
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

  // Under --state-memory: see KeyTable::shed_memory.
  void shed_memory() { keys_.shed_memory(); }

  void checkpoint(StateWriter& out) {
    static_assert(StateValue<T>,
                  "checkpoint(): a rolling window keeps the stream's values in state, so they must be "
                  "trivially copyable, a std::string or a Protobuf message; map them to one first");
    std::string meta;
    encoding::put_u8(meta, kFormatVersion);
    encoding::put_i64(meta, watermark_);
    encoding::put_varint(meta, next_sequence_);
    keys_.checkpoint(out, meta, [&](const K&, const KeyState& state, std::string& value) {
      encoding::put_count(value, static_cast<int64_t>(state.events.size()));
      for (const Entry& e : state.events) {
        encoding::put_i64(value, e.time);
        encoding::put_varint(value, e.sequence);
        put_state_value(value, e.value);
      }
      for (std::size_t index : {state.emitted, state.window.begin, state.window.back_begin, state.window.end}) {
        encoding::put_count(value, static_cast<int64_t>(index));
      }
    });
  }

  [[nodiscard]] Status restore(StateReader& in) {
    static_assert(StateValue<T>,
                  "restore(): a rolling window keeps the stream's values in state, so they must be "
                  "trivially copyable, a std::string or a Protobuf message; map them to one first");
    Timestamp watermark = kMinTimestamp;
    uint64_t next_sequence = 0;
    KAPPA_RETURN_IF_ERROR(keys_.restore(
        in,
        [&](std::string_view meta) {
          uint8_t version;
          if (!encoding::get_u8(meta, version) || version != kFormatVersion || !encoding::get_i64(meta, watermark) ||
              !encoding::get_varint(meta, next_sequence) || !meta.empty()) {
            return bad_state("the meta entry does not decode (another format version?)");
          }
          return Status::ok();
        },
        [this](const K&, std::string_view value) { return read_key_state(value); }));
    watermark_ = watermark;
    next_sequence_ = next_sequence;
    return Status::ok();
  }

  std::size_t key_count() const { return keys_.size(); }

 private:
  static constexpr uint8_t kFormatVersion = 1;

  struct Entry {
    Timestamp time;
    uint64_t sequence;
    T value;
  };
  // The aggregate over events[begin, end) of a key, as two stacks: `front`
  // holds, for each event of [begin, back_begin), the aggregate from it to
  // back_begin (the oldest one last), and `back` the aggregate of
  // [back_begin, end). Dropping the oldest event pops `front`; when `front`
  // is empty the back part is turned into suffix aggregates first.
  struct SlidingWindow {
    std::size_t begin = 0;
    std::size_t back_begin = 0;
    std::size_t end = 0;
    std::vector<Acc> front;
    Acc back{};
  };
  struct KeyState {
    std::deque<Entry> events;  // sorted by (time, sequence)
    std::size_t emitted = 0;   // events[0, emitted) have had their result emitted
    SlidingWindow window;      // indexes into events
    bool started = false;      // window.back holds agg.init()
  };
  using Table = KeyTable<K, KeyState>;

  void push(KeyState& state) {
    SlidingWindow& w = state.window;
    const Entry& e = state.events[w.end++];
    agg_.add(w.back, e.value, e.time);
  }

  void pop(KeyState& state) {
    SlidingWindow& w = state.window;
    if (w.front.empty()) flip(state);
    w.front.pop_back();
    ++w.begin;
  }

  // Moves the back part onto the front stack as suffix aggregates, newest
  // first, so the oldest is on top. REQUIRES: the front stack is empty.
  void flip(KeyState& state) {
    SlidingWindow& w = state.window;
    for (std::size_t k = w.end; k-- > w.back_begin;) {
      Acc suffix = agg_.init();
      agg_.add(suffix, state.events[k].value, state.events[k].time);
      if (!w.front.empty()) agg_.merge(suffix, w.front.back());  // suffix is the earlier side
      w.front.push_back(std::move(suffix));
    }
    w.back = agg_.init();
    w.back_begin = w.end;
  }

  static Status bad_state(const char* what) { return Status::corruption(std::string("rolling window state: ") + what); }

  // A key's state from its entry (see checkpoint()). A front stack entry
  // depends only on the events from it to back_begin, so flipping just
  // [begin, back_begin) repeats the additions and merges that made it.
  Result<KeyState> read_key_state(std::string_view value) {
    KeyState state;
    int64_t count;
    if (!encoding::get_count(value, count) || count == 0) return bad_state("a key's entry has no events");
    // No reserve(count): a garbled count runs out of bytes instead of allocating.
    for (int64_t i = 0; i < count; ++i) {
      Entry e{0, 0, T{}};
      if (!encoding::get_i64(value, e.time) || !encoding::get_varint(value, e.sequence) ||
          !get_state_value(value, e.value)) {
        return bad_state("a key's event does not decode");
      }
      if (!state.events.empty() && state.events.back().time > e.time) return bad_state("a key's events are unsorted");
      state.events.push_back(std::move(e));
    }
    int64_t emitted, begin, back_begin, end;
    if (!encoding::get_count(value, emitted) || !encoding::get_count(value, begin) ||
        !encoding::get_count(value, back_begin) || !encoding::get_count(value, end) || !value.empty()) {
      return bad_state("a key's positions do not decode");
    }
    if (emitted > count || begin > back_begin || back_begin > end || end > count) {
      return bad_state("a key's positions are out of order or range");
    }
    state.emitted = static_cast<std::size_t>(emitted);
    SlidingWindow& w = state.window;
    w.begin = w.back_begin = w.end = static_cast<std::size_t>(begin);
    w.back = agg_.init();
    state.started = true;
    while (w.end < static_cast<std::size_t>(back_begin)) push(state);
    flip(state);
    while (w.end < static_cast<std::size_t>(end)) push(state);
    return state;
  }

  // The aggregate over the window of events[i]: (t - delay - size, t - delay],
  // and with delay 0 only up to the trigger among events at its own time.
  R result_for(KeyState& state, std::size_t i) {
    SlidingWindow& w = state.window;
    const Timestamp upper = state.events[i].time - delay_;  // inclusive
    const Timestamp lower = upper - size_;                  // exclusive
    while (w.end < state.events.size() && (delay_ == 0 ? w.end <= i : state.events[w.end].time <= upper)) push(state);
    while (w.begin < w.end && state.events[w.begin].time <= lower) pop(state);
    if (w.front.empty()) return agg_.result(w.back);
    Acc acc = w.front.back();
    agg_.merge(acc, w.back);
    return agg_.result(acc);
  }

  // Drops events[0], which is in no future window.
  void drop_oldest(KeyState& state) {
    SlidingWindow& w = state.window;
    if (w.begin == 0 && w.end > 0) pop(state);
    state.events.pop_front();
    for (std::size_t* index : {&state.emitted, &w.begin, &w.back_begin, &w.end}) {
      if (*index > 0) --*index;
    }
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
      drop_oldest(state);
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
