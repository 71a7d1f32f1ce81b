// What the in-process window benchmarks (window_throughput, checkpoint_bench)
// feed their jobs: a 64-bit key and an amount, with keys spread over the key
// space by splitmix64's finalizer.
#pragma once

#include <cstdint>

#include "operators/aggregate/hash.h"

namespace kappa::bench {

struct KeyedEvent {
  uint64_t key;
  double amount;
};

// Spreads consecutive indexes over the key space (and mixes digests):
// splitmix64's finalizer, which the aggregates already have.
inline uint64_t mix(uint64_t x) { return agg::hash_u64(x); }

}  // namespace kappa::bench
