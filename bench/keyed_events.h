// What the in-process window benchmarks (window_throughput, checkpoint_bench)
// feed their jobs: a 64-bit key and an amount, with keys spread over the key
// space by splitmix64's finalizer.
#pragma once

#include <cstdint>

namespace kappa::bench {

struct KeyedEvent {
  uint64_t key;
  double amount;
};

// splitmix64's finalizer: a bijection on 64-bit integers that spreads
// consecutive indexes over the key space (and mixes digests).
inline uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace kappa::bench
