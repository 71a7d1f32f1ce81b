// The builder behind key_by(f).score(...): the keyed anomaly scorer
// (scorer_operator.h has its semantics).
//
//   pipeline<Txn>()
//       .event_time([](const Txn& t) { return t.event_time(); }, 5s)
//       .then(key_by(card_of)
//                 .score(amount_of, anomaly::per_key([o] { return anomaly::EwmaZScore(o); }))
//                 .alarm({.threshold = 0.9, .quiet_period_ms = 60'000})
//                 .top(3)
//                 .ttl(30 * 24h))
//       .then(key_by(card_of).score(features_of, anomaly::per_task(anomaly::HalfSpaceTrees::create(hst).value())))
//
// features_of(const T&, std::span<double> out) sets out[i] for each of the
// detector's dimensions() features (out.size() is that number). A span, not a
// returned std::array, because a detector's dimensions are a run-time value
// (HalfSpaceTrees' come from its ranges, which a job may take from flags).
//
// The scorer emits Scored<T> (scorer_operator.h); a ttl() given to key_by()
// before score() applies too.
#pragma once

#include <chrono>
#include <cstddef>
#include <span>
#include <type_traits>
#include <utility>

#include "operators/anomaly/alarm.h"
#include "operators/anomaly/detector.h"
#include "operators/anomaly/scorer_operator.h"
#include "runtime/status.h"

namespace kappa {

namespace anomaly {

// One detector per key: make() returns a fresh one, called when a key is
// first seen (or seen again after its TTL). make must be copyable (each task
// copies the pipeline).
template <class Make>
PerKeyDetectors<Make> per_key(Make make) {
  static_assert(std::is_invocable_v<const Make&>,
                "anomaly::per_key(make): make must take no arguments and return a new detector, "
                "e.g. [options] { return anomaly::EwmaZScore(options); }");
  if constexpr (std::is_invocable_v<const Make&>) {
    static_assert(Detector<std::decay_t<std::invoke_result_t<const Make&>>>,
                  "anomaly::per_key(make): make() must return a detector (the Detector concept in "
                  "operators/anomaly/detector.h), e.g. anomaly::EwmaZScore");
  }
  return {std::move(make)};
}

// One detector per task, learning from every key: each task starts from a
// copy of `detector`.
template <class D>
PerTaskDetector<D> per_task(D detector) {
  static_assert(Detector<D>,
                "anomaly::per_task(detector): detector must be a detector (the Detector concept in "
                "operators/anomaly/detector.h), e.g. anomaly::HalfSpaceTrees::create(options).value()");
  return {std::move(detector)};
}

}  // namespace anomaly

template <class KeyFn, class FeatureFn, class Detectors>
class ScoreSpec {
  static_assert(anomaly::DetectorScope<Detectors>,
                "score(features_of, detectors): detectors must be anomaly::per_key(make) or "
                "anomaly::per_task(detector)");

 public:
  ScoreSpec(KeyFn key_of, FeatureFn features_of, Detectors detectors, std::chrono::milliseconds ttl)
      : key_of_(std::move(key_of)), features_of_(std::move(features_of)), detectors_(std::move(detectors)) {
    this->ttl(ttl);
  }

  // When a key's score alarms. Default: threshold 0.9, quiet period 1 min.
  // REQUIRES: options.validate().is_ok() (checked).
  ScoreSpec& alarm(const anomaly::AlarmOptions& options) {
    KAPPA_CHECK(options.validate().is_ok(), options.validate().message());
    options_.alarm = options;
    return *this;
  }

  // Each output's reasons: the k features that contributed most. Default 0:
  // none, and no time spent finding them.
  ScoreSpec& top(std::size_t k) {
    options_.top = k;
    return *this;
  }

  // A key's state expires this long (in event time) after its last event.
  // Default: never. REQUIRES: ttl >= 0 (checked).
  ScoreSpec& ttl(std::chrono::milliseconds ttl) {
    KAPPA_CHECK(ttl.count() >= 0, "score(): the TTL must not be negative");
    options_.ttl_ms = ttl.count();
    return *this;
  }

  // Called by Pipeline::then() with the stream's type.
  template <class T>
  auto make_stage() const {
    static_assert(std::is_invocable_v<const KeyFn&, const T&>,
                  "key_by(f): f must take the stream's current type, const T&, and return the key");
    static_assert(std::is_invocable_v<FeatureFn&, const T&, std::span<double>>,
                  "score(features_of, detectors): features_of must be void(const T&, std::span<double> out), "
                  "where T is the stream's current type, and set out[i] for every feature i < out.size()");
    if constexpr (std::is_invocable_v<const KeyFn&, const T&> &&
                  std::is_invocable_v<FeatureFn&, const T&, std::span<double>>) {
      return ScorerOperator<T, KeyFn, FeatureFn, Detectors>(key_of_, features_of_, detectors_, options_);
    }
  }

 private:
  KeyFn key_of_;
  FeatureFn features_of_;
  Detectors detectors_;
  ScorerOptions options_;
};

}  // namespace kappa
