// ScorerOperator: the keyed anomaly scorer (DESIGN.md §4). For every event it
// builds the feature vector, scores it with a detector (detector.h), then lets
// the detector learn it, and passes the score through the key's AlarmFilter
// (alarm.h) in event time. It emits Scored<T>: the value, the score, the alarm
// flag and, if asked for, the features that contributed most.
//
// Built by key_by(f).score(...) (scorer.h), which says where detectors live:
//  - anomaly::per_key(make): one detector per key, made by make() when the key
//    is first seen (a card's usual amounts); make() is also called once when
//    the operator is built, to learn the number of features;
//  - anomaly::per_task(detector): one detector for the task, shared by every
//    key (what normal transactions look like); alarms stay per key.
//
// Features: features_of(const T&, std::span<double> out) sets out[i] for
// every feature, out.size() == the detector's dimensions(). The buffer is the
// operator's own, reused for every event, and every slot is NaN before the
// call: a feature left unset is missing, and an observation with a missing
// (non-finite) feature scores 0 and is not learnt (detector.h).
//
// TTL (optional, event time, as KeyedAggregateOperator): a key's state (its
// detector if per key, and its alarm filter) is forgotten once the watermark,
// or the key's own next event, reaches its latest event time plus the TTL; the
// key then starts from a fresh detector. Without event_time() earlier in the
// pipeline there is no watermark, so only the key's own events expire it.
//
// Checkpoints (runtime/state.h, layout in operators/keyed/key_table.h): one
// entry per key, its latest event time, its detector (per_key only) and its
// alarm filter; the meta entry holds the per-task detector (per_task only).
// A restore into an operator built with the same configuration continues
// exactly as one that never stopped, byte for byte in its outputs. The
// options (alarm, top, TTL, detector options) are configuration and are not
// in the state.
//
// Thread use: one instance per task (a Pipeline copies it into each task),
// called from that task's thread only.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "operators/anomaly/alarm.h"
#include "operators/anomaly/detector.h"
#include "operators/keyed/key.h"
#include "operators/keyed/key_table.h"
#include "runtime/encoding.h"
#include "runtime/record.h"
#include "runtime/state.h"
#include "runtime/status.h"

namespace kappa {

// What the scorer emits for each input element; the element's meta is the
// input's, with the key bytes set to the key (key.h).
template <class T>
struct Scored {
  T value;
  double score = 0;  // in [0, 1], 0 = normal
  bool alarm = false;
  // At most top(k) contributions, largest weight first; empty when k is 0 or
  // nothing stood out.
  std::vector<anomaly::Contribution> reasons;
};

namespace anomaly {

// One detector per key, each made by make().
template <class Make>
struct PerKeyDetectors {
  using detector_type = std::decay_t<std::invoke_result_t<const Make&>>;
  Make make;
};

// One detector for the task, shared by all its keys.
template <class D>
struct PerTaskDetector {
  using detector_type = D;
  D detector;
};

template <class S>
inline constexpr bool is_per_key_v = false;
template <class Make>
inline constexpr bool is_per_key_v<PerKeyDetectors<Make>> = true;
template <class S>
inline constexpr bool is_per_task_v = false;
template <class D>
inline constexpr bool is_per_task_v<PerTaskDetector<D>> = true;

// What score(features_of, detectors) accepts as `detectors`.
template <class S>
concept DetectorScope = is_per_key_v<S> || is_per_task_v<S>;

}  // namespace anomaly

struct ScorerOptions {
  anomaly::AlarmOptions alarm;  // default: threshold 0.9, quiet period 1 min
  std::size_t top = 0;          // reasons per output; default 0 (none computed)
  int64_t ttl_ms = 0;           // default 0: key state never expires
};

template <class T, class KeyFn, class FeatureFn, anomaly::DetectorScope Detectors>
class ScorerOperator {
 public:
  using K = stored_key_t<std::invoke_result_t<const KeyFn&, const T&>>;
  using D = typename Detectors::detector_type;
  using input_type = T;
  using output_type = Scored<T>;
  static constexpr bool kPerKey = anomaly::is_per_key_v<Detectors>;

  static_assert(StateKey<K>,
                "score(): the key must be a string, a string_view or an integer, so that it can be checkpointed");

  // REQUIRES: options.alarm.validate().is_ok() and options.ttl_ms >= 0 (checked).
  ScorerOperator(KeyFn key_of, FeatureFn features_of, Detectors detectors, const ScorerOptions& options)
      : key_of_(std::move(key_of)),
        features_of_(std::move(features_of)),
        detectors_(std::move(detectors)),
        options_(options),
        features_(prototype_dimensions()) {
    KAPPA_CHECK(options.alarm.validate().is_ok(), options.alarm.validate().message());
    KAPPA_CHECK(options.ttl_ms >= 0, "score(): the TTL must not be negative");
  }

  template <class Emit>
  void process(Element<T>&& e, Emit& emit) {
    const Timestamp t = e.meta.timestamp;
    Entry& entry = entry_for(key_of_(std::as_const(e.value)), t);
    KeyState& state = entry.second.state;

    std::fill(features_.begin(), features_.end(), std::numeric_limits<double>::quiet_NaN());
    features_of_(std::as_const(e.value), std::span<double>(features_));
    const std::span<const double> x(features_);
    D& detector = detector_of(state);
    // Score and explain with the model as it was before this event (detector.h).
    const double score = detector.score(x);
    std::vector<anomaly::Contribution> reasons;
    if (options_.top > 0) detector.contributions(x, options_.top, reasons);
    detector.learn(x);
    const bool alarm = state.alarm.observe(score, t);

    state.last_time = std::max(state.last_time, t);
    if (options_.ttl_ms > 0) keys_.schedule(entry, expiry_of(state.last_time));

    key_bytes_.clear();
    append_key_bytes(entry.first, key_bytes_);
    Element<output_type> result{{std::move(e.value), score, alarm, std::move(reasons)}, e.meta};
    result.meta.key = key_bytes_;
    emit(std::move(result));
  }

  template <class Emit>
  void on_watermark(Timestamp watermark, Emit&) {
    if (options_.ttl_ms == 0) return;
    keys_.run_timers(watermark, [&](Entry& entry) {
      // A later event moved the expiry: the timer is set again for it.
      const Timestamp expiry = expiry_of(entry.second.state.last_time);
      if (watermark >= expiry) {
        keys_.forget(entry.first);
      } else {
        keys_.schedule(entry, expiry);
      }
    });
  }

  // Under --state-memory: see KeyTable::shed_memory.
  void shed_memory() { keys_.shed_memory(); }

  void checkpoint(StateWriter& out) {
    std::string meta;
    encoding::put_u8(meta, kFormatVersion);
    if constexpr (!kPerKey) detectors_.detector.serialize(meta);
    keys_.checkpoint(out, meta, [](const K&, const KeyState& state, std::string& value) {
      encoding::put_i64(value, state.last_time);
      if constexpr (kPerKey) state.detector.serialize(value);
      state.alarm.serialize(value);
    });
  }

  // On malformed entries, or a detector that rejects its bytes (a per-task
  // detector of another shape, say), returns Corruption and leaves the
  // operator as it was.
  [[nodiscard]] Status restore(StateReader& in) {
    auto bad = [](const char* what) { return Status::corruption(std::string("anomaly scorer state: ") + what); };
    std::optional<D> task_detector;  // per_task: a copy of the configured detector, then the restored state
    KAPPA_RETURN_IF_ERROR(keys_.restore(
        in,
        [&](std::string_view meta) {
          uint8_t version;
          if (!encoding::get_u8(meta, version) || version != kFormatVersion) {
            return bad("unknown meta entry (another format version?)");
          }
          if constexpr (!kPerKey) {
            task_detector.emplace(detectors_.detector);
            if (!task_detector->deserialize(meta)) return bad("the per-task detector's bytes are malformed");
          }
          return meta.empty() ? Status::ok() : bad("unexpected bytes after the meta entry");
        },
        [this, bad](const K&, std::string_view value) -> Result<KeyState> {
          Timestamp last_time;
          if (!encoding::get_i64(value, last_time)) return bad("a key's entry is truncated");
          KeyState state = fresh_state(last_time);
          if constexpr (kPerKey) {
            if (!state.detector.deserialize(value)) return bad("a key's detector bytes are malformed");
          }
          if (!state.alarm.deserialize(value)) return bad("a key's alarm filter bytes are malformed");
          if (!value.empty()) return bad("unexpected bytes after a key's state");
          return state;
        }));
    if constexpr (!kPerKey) {
      if (task_detector) detectors_.detector = std::move(*task_detector);
    }
    return Status::ok();
  }

  std::size_t key_count() const { return keys_.size(); }
  std::size_t dimensions() const { return features_.size(); }

 private:
  static constexpr uint8_t kFormatVersion = 1;

  struct NoDetector {};
  struct KeyState {
    [[no_unique_address]] std::conditional_t<kPerKey, D, NoDetector> detector;
    anomaly::AlarmFilter alarm;
    Timestamp last_time;  // the latest event time seen for the key
  };
  using Table = KeyTable<K, KeyState>;
  using Entry = typename Table::Entry;

  std::size_t prototype_dimensions() const {
    if constexpr (kPerKey) {
      return detectors_.make().dimensions();
    } else {
      return detectors_.detector.dimensions();
    }
  }

  KeyState fresh_state(Timestamp t) const {
    if constexpr (kPerKey) {
      return KeyState{detectors_.make(), anomaly::AlarmFilter(options_.alarm), t};
    } else {
      return KeyState{{}, anomaly::AlarmFilter(options_.alarm), t};
    }
  }

  D& detector_of(KeyState& state) {
    if constexpr (kPerKey) {
      return state.detector;
    } else {
      return detectors_.detector;
    }
  }

  // The key's entry, made fresh if it is new or its own event shows that it
  // expired before any watermark did (its pending timer then fires early and
  // is set again, as after any later event).
  template <class KeyArg>
  Entry& entry_for(const KeyArg& key, Timestamp t) {
    Entry& entry = keys_.find_or_add(key, [&] { return fresh_state(t); });
    if (options_.ttl_ms > 0 && t >= expiry_of(entry.second.state.last_time)) entry.second.state = fresh_state(t);
    return entry;
  }

  // When a key last seen at `last_time` expires; saturates instead of overflowing.
  Timestamp expiry_of(Timestamp last_time) const {
    return last_time > kMaxTimestamp - options_.ttl_ms ? kMaxTimestamp : last_time + options_.ttl_ms;
  }

  KeyFn key_of_;
  FeatureFn features_of_;
  Detectors detectors_;  // per_key: the factory; per_task: the task's detector
  ScorerOptions options_;
  std::vector<double> features_;  // reused for every event
  Table keys_;
  std::string key_bytes_;
};

}  // namespace kappa
