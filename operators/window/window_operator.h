// WindowOperator: keyed tumbling / hopping windows over slices.
//
// State per key (a KeyTable): its slices (sorted by start, each one
// accumulator), the windows fired so far and one pending timer. An event
// updates one slice; a window's result merges its slices when it fires.
//
// Semantics (the brute-force reference in tests/operators/window implements
// the same): let wm be the watermark before an event (from the events before
// it). The event counts in every window W that contains its time and has
// W.end + allowed_lateness > wm; an event that counts in no window is late:
// reported to the task's late output (and to on_late, if set), never
// silently dropped. A window with at least one event fires (final mode) when
// the watermark reaches its end, and fires again after each later event that
// counts in it; in updates mode it also emits after every event before that.
// Slices are dropped once every window containing them is past its lateness,
// and a key with no slices left is forgotten.
//
// Checkpoints (runtime/state.h, layout in key_table.h): one entry per key,
// its whole state: the windows fired so far (fired_through) and its slices,
// start and accumulator each (the aggregate must be a SerializableAggregate).
// Per key rather than per slice: an event changes one slice of one key, but
// a key holds only the slices of (size + allowed lateness), and the fired
// windows are per key. The meta entry holds the watermark and the first open
// window end. The emit mode and lateness are configuration, not state.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <absl/container/inlined_vector.h>

#include "operators/aggregate/aggregate.h"
#include "operators/keyed/key_table.h"
#include "operators/window/emit_mode.h"
#include "operators/window/slice_assigner.h"
#include "operators/window/window_result.h"
#include "runtime/encoding.h"
#include "runtime/record.h"
#include "runtime/stage_context.h"
#include "runtime/state.h"
#include "runtime/status.h"

namespace kappa {

struct WindowOptions {
  // How long after a window's end late events still update it. Default 0.
  std::chrono::milliseconds allowed_lateness{0};
  EmitMode emit = EmitMode::kFinal;
};

template <class T, class KeyFn, class Agg>
class WindowOperator {
 public:
  using K = stored_key_t<std::invoke_result_t<const KeyFn&, const T&>>;
  using Acc = typename Agg::accumulator_type;
  using R = typename Agg::result_type;
  using input_type = T;
  using output_type = WindowResult<K, R>;
  // Called with each late element's metadata (besides the task's late output).
  using LateHandler = std::function<void(const RecordMeta&)>;

  WindowOperator(KeyFn key_of, SliceAssigner assigner, Agg agg, WindowOptions options, LateHandler on_late)
      : key_of_(std::move(key_of)),
        assigner_(assigner),
        agg_(std::move(agg)),
        options_(options),
        on_late_(std::move(on_late)) {}

  void bind(StageContext& context) { context_ = &context; }

  template <class Emit>
  void process(Element<T>&& e, Emit& emit) {
    const Timestamp t = e.meta.timestamp;
    if (t < slice_.start || t >= slice_.start + assigner_.slice_size()) slice_ = slice_of(t);
    const SliceInfo& slice = slice_;
    if (expired(slice.last_end)) {
      report_late(e);
      return;
    }
    auto& entry = keys_.find_or_add(key_of_(std::as_const(e.value)));
    KeyState& state = entry.second.state;
    agg_.add(slice_acc(state, slice.start), std::as_const(e.value), t);

    // Windows already fired but still within their lateness get the event
    // now; so does every open window in updates mode.
    if (options_.emit == EmitMode::kUpdates || slice.first_end <= watermark_) {
      for (Timestamp end = slice.first_end; end <= slice.last_end; end += assigner_.slide()) {
        const bool fired = end <= watermark_;
        if (fired ? !expired(end) : options_.emit == EmitMode::kUpdates) {
          emit_window(entry.first, state, end, /*is_final=*/fired, emit);
        }
      }
    }
    // Every window of this key ending at or before the watermark has now
    // been emitted (by its timer, or just above): service() must not go back
    // over them.
    state.fired_through = std::max(state.fired_through, watermark_);
    // The next timer: the first open window, or the slice's expiry (which
    // matters when every window of a late slice has fired).
    const Timestamp open = std::max(slice.first_end, open_end_);
    const Timestamp expiry = slice.last_end + options_.allowed_lateness.count();
    keys_.schedule(entry, open <= slice.last_end ? std::min(open, expiry) : expiry);
  }

  template <class Emit>
  void on_watermark(Timestamp watermark, Emit& emit) {
    if (watermark <= watermark_) return;
    watermark_ = watermark;
    open_end_ = assigner_.window_end_after(watermark_);
    keys_.run_timers(watermark_, [&](typename Table::Entry& entry) { service(entry, emit); });
  }

  // Under --state-memory: see KeyTable::shed_memory.
  void shed_memory() { keys_.shed_memory(); }

  void checkpoint(StateWriter& out) {
    static_assert(SerializableAggregate<Agg>,
                  "checkpoint(): the aggregate must serialize its accumulators "
                  "(SerializableAggregate in operators/aggregate/aggregate.h)");
    std::string meta;
    encoding::put_u8(meta, kFormatVersion);
    encoding::put_i64(meta, watermark_);
    encoding::put_i64(meta, open_end_);
    keys_.checkpoint(out, meta, [&](const K&, const KeyState& state, std::string& value) {
      encoding::put_i64(value, state.fired_through);
      encoding::put_count(value, static_cast<int64_t>(state.slices.size()));
      for (const Slice& slice : state.slices) {
        encoding::put_i64(value, slice.start);
        agg_.serialize(slice.acc, value);
      }
    });
  }

  [[nodiscard]] Status restore(StateReader& in) {
    static_assert(SerializableAggregate<Agg>,
                  "restore(): the aggregate must serialize its accumulators "
                  "(SerializableAggregate in operators/aggregate/aggregate.h)");
    auto bad = [](const char* what) { return Status::corruption(std::string("window state: ") + what); };
    Timestamp watermark = kMinTimestamp;
    Timestamp open_end = kMinTimestamp;
    KAPPA_RETURN_IF_ERROR(keys_.restore(
        in,
        [&](std::string_view meta) {
          uint8_t version;
          if (!encoding::get_u8(meta, version) || version != kFormatVersion || !encoding::get_i64(meta, watermark) ||
              !encoding::get_i64(meta, open_end) || !meta.empty()) {
            return bad("the meta entry does not decode (another format version?)");
          }
          return Status::ok();
        },
        [this, bad](const K&, std::string_view value) -> Result<KeyState> {
          KeyState state;
          int64_t count;
          if (!encoding::get_i64(value, state.fired_through) || !encoding::get_count(value, count) || count == 0) {
            return bad("a key's entry does not decode");
          }
          // No reserve(count): a garbled count runs out of bytes instead of allocating.
          for (int64_t i = 0; i < count; ++i) {
            Slice slice{0, agg_.init()};
            if (!encoding::get_i64(value, slice.start) || !agg_.deserialize(value, slice.acc)) {
              return bad("a key's slice does not decode");
            }
            if (assigner_.slice_start(slice.start) != slice.start ||
                (!state.slices.empty() && state.slices.back().start >= slice.start)) {
              return bad("a key's slices are not sorted slice starts");
            }
            state.slices.push_back(std::move(slice));
          }
          if (!value.empty()) return bad("a key's entry has bytes after its slices");
          return state;
        }));
    watermark_ = watermark;
    open_end_ = open_end;
    return Status::ok();
  }

  // Keys with state, for tests and metrics.
  std::size_t key_count() const { return keys_.size(); }

 private:
  static constexpr uint8_t kFormatVersion = 1;

  struct Slice {
    Timestamp start;
    Acc acc;
  };
  struct KeyState {
    // Sorted by start. Tumbling windows keep one or two slices a key: inline,
    // so a key's state costs no allocation in the common case.
    absl::InlinedVector<Slice, 2> slices;
    Timestamp fired_through = kMinTimestamp;  // windows ending at or before this have fired
  };
  using Table = KeyTable<K, KeyState>;
  // A slice and the first and last window ends that contain it: computed once
  // per slice rather than per event (they take divisions).
  struct SliceInfo {
    Timestamp start = kMaxTimestamp;
    Timestamp first_end = 0;
    Timestamp last_end = 0;
  };

  SliceInfo slice_of(Timestamp t) const {
    const Timestamp start = assigner_.slice_start(t);
    return {start, assigner_.first_window_end(start), assigner_.last_window_end(start)};
  }

  // Whether a window is past its allowed lateness (at the end of the input,
  // when the watermark is +infinity, every window is).
  bool expired(Timestamp window_end) const {
    if (window_end > watermark_) return false;
    return watermark_ == kMaxTimestamp || watermark_ - window_end >= options_.allowed_lateness.count();
  }

  void report_late(const Element<T>& e) {
    if (context_ != nullptr) context_->report_late();
    if (on_late_) on_late_(e.meta);
  }

  Acc& slice_acc(KeyState& state, Timestamp start) {
    auto& slices = state.slices;
    // Events mostly land in the newest slice: look from the back.
    auto it = slices.end();
    while (it != slices.begin() && std::prev(it)->start > start) --it;
    if (it != slices.begin() && std::prev(it)->start == start) return std::prev(it)->acc;
    return slices.insert(it, Slice{start, agg_.init()})->acc;
  }

  template <class Emit>
  void emit_window(const K& key, const KeyState& state, Timestamp end, bool is_final, Emit& emit) {
    const Timestamp start = end - assigner_.size();
    auto first = std::lower_bound(state.slices.begin(), state.slices.end(), start,
                                  [](const Slice& s, Timestamp t) { return s.start < t; });
    if (first == state.slices.end() || first->start >= end) return;  // no event in this window
    key_bytes_.clear();
    append_key_bytes(key, key_bytes_);
    Element<output_type> result;
    result.meta.key = key_bytes_;
    result.meta.timestamp = end - 1;
    result.value.key = key;
    result.value.start = start;
    result.value.end = end;
    result.value.is_final = is_final;
    if (std::next(first) == state.slices.end() || std::next(first)->start >= end) {
      result.value.value = agg_.result(first->acc);  // one slice: no merge needed
    } else {
      Acc merged = agg_.init();
      for (auto it = first; it != state.slices.end() && it->start < end; ++it) agg_.merge(merged, it->acc);
      result.value.value = agg_.result(merged);
    }
    emit(std::move(result));
  }

  // Fires the key's windows that the watermark has passed, drops expired
  // slices, and sets its next timer (or forgets the key).
  template <class Emit>
  void service(typename Table::Entry& entry, Emit& emit) {
    KeyState& state = entry.second.state;
    // Every window end with data between the first not yet fired and the
    // watermark, in order, once: the slices' window ranges are sorted, so a
    // cursor that only moves forward visits each end once.
    Timestamp cursor = assigner_.window_end_after(state.fired_through);
    for (const Slice& s : state.slices) {
      cursor = std::max(cursor, assigner_.first_window_end(s.start));
      for (; cursor <= assigner_.last_window_end(s.start) && cursor <= watermark_; cursor += assigner_.slide()) {
        emit_window(entry.first, state, cursor, /*is_final=*/true, emit);
      }
    }
    state.fired_through = std::max(state.fired_through, watermark_);
    auto& slices = state.slices;
    slices.erase(slices.begin(), std::find_if(slices.begin(), slices.end(), [&](const Slice& s) {
                   return !expired(assigner_.last_window_end(s.start));
                 }));
    if (slices.empty()) {
      keys_.forget(entry.first);
      return;
    }
    // Next: the first window with data not yet fired, or else when the
    // oldest slice's last window leaves its lateness.
    Timestamp next = kMaxTimestamp;
    for (const Slice& s : slices) {
      const Timestamp end = std::max(open_end_, assigner_.first_window_end(s.start));
      if (end <= assigner_.last_window_end(s.start)) {
        next = end;
        break;
      }
    }
    const Timestamp expiry = assigner_.last_window_end(slices.front().start) + options_.allowed_lateness.count();
    keys_.schedule(entry, std::min(next, expiry));
  }

  KeyFn key_of_;
  SliceAssigner assigner_;
  Agg agg_;
  WindowOptions options_;
  LateHandler on_late_;
  StageContext* context_ = nullptr;

  Timestamp watermark_ = kMinTimestamp;
  Timestamp open_end_ = kMinTimestamp;  // the first window end after the watermark
  SliceInfo slice_;                     // the slice of the latest event
  Table keys_;
  std::string key_bytes_;  // the current result's key, as record-key bytes
};

}  // namespace kappa
