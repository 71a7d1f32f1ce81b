#include "operators/aggregate/hash.h"

#include <bit>
#include <cstddef>
#include <cstring>

namespace kappa::agg {
namespace {

// wyhash's default secret.
constexpr uint64_t kSecret[4] = {0xa0761d6478bd642fULL, 0xe7037ed1a0b428dbULL, 0x8ebc6af09c88c6e3ULL,
                                 0x589965cc75374cc3ULL};

// 64x64 -> 128 multiply, folded: the core mixing step.
inline void mum(uint64_t& a, uint64_t& b) {
  const unsigned __int128 r = static_cast<unsigned __int128>(a) * b;
  a = static_cast<uint64_t>(r);
  b = static_cast<uint64_t>(r >> 64);
}

inline uint64_t mix(uint64_t a, uint64_t b) {
  mum(a, b);
  return a ^ b;
}

// Little-endian loads, so the hash (and the checkpointed sketches built from
// it) is the same on every host.
inline uint64_t read8(const unsigned char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  return v;
}

inline uint64_t read4(const unsigned char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap32(v);
  return v;
}

// 1 to 3 bytes: first, middle and last byte.
inline uint64_t read3(const unsigned char* p, std::size_t k) {
  return (static_cast<uint64_t>(p[0]) << 16) | (static_cast<uint64_t>(p[k >> 1]) << 8) | p[k - 1];
}

}  // namespace

uint64_t hash_bytes(std::string_view bytes, uint64_t seed) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t len = bytes.size();
  seed ^= mix(seed ^ kSecret[0], kSecret[1]);
  uint64_t a;
  uint64_t b;
  if (len <= 16) {
    if (len >= 4) {
      // Two overlapping pairs of 4-byte reads cover 4..16 bytes.
      const std::size_t shift = (len >> 3) << 2;
      a = (read4(p) << 32) | read4(p + shift);
      b = (read4(p + len - 4) << 32) | read4(p + len - 4 - shift);
    } else if (len > 0) {
      a = read3(p, len);
      b = 0;
    } else {
      a = b = 0;
    }
  } else {
    std::size_t i = len;
    if (i > 48) {
      uint64_t see1 = seed;
      uint64_t see2 = seed;
      do {
        seed = mix(read8(p) ^ kSecret[1], read8(p + 8) ^ seed);
        see1 = mix(read8(p + 16) ^ kSecret[2], read8(p + 24) ^ see1);
        see2 = mix(read8(p + 32) ^ kSecret[3], read8(p + 40) ^ see2);
        p += 48;
        i -= 48;
      } while (i > 48);
      seed ^= see1 ^ see2;
    }
    while (i > 16) {
      seed = mix(read8(p) ^ kSecret[1], read8(p + 8) ^ seed);
      i -= 16;
      p += 16;
    }
    // The last 16 bytes, overlapping what was already mixed.
    a = read8(p + i - 16);
    b = read8(p + i - 8);
  }
  a ^= kSecret[1];
  b ^= seed;
  mum(a, b);
  return mix(a ^ kSecret[0] ^ len, b ^ kSecret[1]);
}

}  // namespace kappa::agg
