// key_by(f): the start of every keyed operator, used with Pipeline::then():
//
//   pipeline<Txn>()
//       .event_time([](const Txn& t) { return t.event_time(); }, 5s)
//       .then(key_by([](const Txn& t) { return t.card_id(); })
//                 .window(tumbling(1min))
//                 .allowed_lateness(10s)
//                 .aggregate(agg::aggregates(agg::count(), agg::sum(amount))))
//
//   .then(key_by(card).rolling(1h).aggregate(agg::count()))      // one result per event
//   .then(key_by(card).ttl(24h).aggregate(agg::sum(amount)))     // running aggregate
//   .then(key_by(card).score(features, anomaly::per_key(make)))  // anomaly scores
//
// key_by assumes the input is partitioned by that key (the normal case: a
// topic keyed by card id), since each task keeps the state of the keys in
// its own partitions. Windows and TTLs need event time: put event_time()
// earlier in the pipeline.
#pragma once

#include <chrono>
#include <utility>

#include "operators/aggregate/aggregate.h"
#include "operators/anomaly/scorer.h"
#include "operators/keyed/keyed_aggregate_operator.h"
#include "operators/window/window_spec.h"

namespace kappa {

template <class KeyFn>
class KeySpec {
 public:
  explicit KeySpec(KeyFn key_of) : key_of_(std::move(key_of)) {}

  // Tumbling or hopping windows (tumbling(...), hopping(...)).
  WindowSpec<KeyFn> window(SliceAssigner assigner) const { return WindowSpec<KeyFn>(key_of_, assigner); }

  // One result per event over the key's events in (t - delay - size, t - delay].
  RollingSpec<KeyFn> rolling(std::chrono::milliseconds size, std::chrono::milliseconds delay = {}) const {
    return RollingSpec<KeyFn>(key_of_, size, delay);
  }

  // For aggregate() and score(): a key's state expires this long (in event
  // time) after its last event. Default: never.
  KeySpec& ttl(std::chrono::milliseconds ttl) {
    ttl_ = ttl;
    return *this;
  }

  // A running aggregate per key, emitted after every event.
  template <class Agg>
  auto aggregate(Agg agg) const {
    return keyed_stage<KeyFn, Agg>([spec = *this, agg = std::move(agg)](auto type) {
      using T = typename decltype(type)::type;
      return KeyedAggregateOperator<T, KeyFn, Agg>(spec.key_of_, agg, spec.ttl_);
    });
  }

  // An anomaly score per event: features_of(const T&, std::span<double>)
  // fills the features, detectors is anomaly::per_key(make) or
  // anomaly::per_task(detector); then .alarm(...), .top(k), .ttl(d). See
  // operators/anomaly/scorer.h.
  template <class FeatureFn, class Detectors>
  ScoreSpec<KeyFn, FeatureFn, Detectors> score(FeatureFn features_of, Detectors detectors) const {
    return ScoreSpec<KeyFn, FeatureFn, Detectors>(key_of_, std::move(features_of), std::move(detectors), ttl_);
  }

 private:
  KeyFn key_of_;
  std::chrono::milliseconds ttl_{0};
};

// key_by(f): f(const T&) returns the key (a string, string_view or integer).
template <class KeyFn>
KeySpec<KeyFn> key_by(KeyFn key_of) {
  return KeySpec<KeyFn>(std::move(key_of));
}

}  // namespace kappa
