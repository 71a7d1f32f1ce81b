// What keyed operators emit: the key, the window (or the triggering event)
// and the aggregate's result.
#pragma once

#include "operators/keyed/key.h"
#include "runtime/record.h"

namespace kappa {

// One result of a tumbling or hopping window: [start, end).
template <class K, class R>
struct WindowResult {
  K key;
  Timestamp start = 0;
  Timestamp end = 0;
  R value;
  // True once the watermark has passed the window's end (every result in
  // `final` emit mode; the last of a series in `updates` mode, and late
  // updates after it).
  bool is_final = true;
};

// One result of a rolling window: the event that triggered it and the
// aggregate over that key's events in (t - delay - size, t - delay].
template <class K, class T, class R>
struct RollingResult {
  K key;
  T event;
  Timestamp event_time = 0;
  R value;
};

}  // namespace kappa
