// 64-bit hashes for sketches (HyperLogLog): fast, well mixed (every input bit
// affects every output bit), stable across hosts and releases because sketch
// registers derived from them are checkpointed. Not for security: an
// adversary who can choose keys can make them collide.
//
//   hash_bytes  wyhash (Wang Yi's, final version 4), little-endian reads.
//   hash_u64    the splitmix64 finalizer (Stafford's "Mix13") after adding the
//               golden-ratio increment, so 0 does not hash to 0. A bijection.
#pragma once

#include <cstdint>
#include <string_view>

namespace kappa::agg {

uint64_t hash_bytes(std::string_view bytes, uint64_t seed = 0);

inline uint64_t hash_u64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace kappa::agg
