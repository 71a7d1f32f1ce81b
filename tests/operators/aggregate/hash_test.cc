#include "operators/aggregate/hash.h"

#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

namespace kappa::agg {
namespace {

// wyhash's own test vectors (test_vector.cpp of final version 4; the same
// ones Zig's std.hash.Wyhash pins): message i hashed with seed i.
TEST(HashTest, BytesMatchWyhashTestVectors) {
  struct Vector {
    std::string_view input;
    uint64_t expected;
  };
  const Vector vectors[] = {
      {"", 0x0409638ee2bde459ULL},
      {"a", 0xa8412d091b5fe0a9ULL},
      {"abc", 0x32dd92e4b2915153ULL},
      {"message digest", 0x8619124089a3a16bULL},
      {"abcdefghijklmnopqrstuvwxyz", 0x7a43afb61d7f5f40ULL},
      {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 0xff42329b90e50d58ULL},
      {"12345678901234567890123456789012345678901234567890123456789012345678901234567890", 0xc39cab13b115aad3ULL},
  };
  uint64_t seed = 0;
  for (const Vector& v : vectors) {
    EXPECT_EQ(hash_bytes(v.input, seed), v.expected) << v.input;
    ++seed;
  }
}

// hash_u64(x) is the splitmix64 output for state x: its reference sequence
// from state 0 is hash_u64(0), hash_u64(gamma), hash_u64(2 * gamma), ...
TEST(HashTest, IntegersMatchSplitmix64) {
  constexpr uint64_t kGamma = 0x9e3779b97f4a7c15ULL;
  EXPECT_EQ(hash_u64(0), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(hash_u64(kGamma), 0x6e789e6aa1b965f4ULL);
  EXPECT_EQ(hash_u64(2 * kGamma), 0x06c45d188009454fULL);
}

// Flipping one input bit flips each output bit about half the time.
TEST(HashTest, Avalanche) {
  std::mt19937_64 rng(27);
  constexpr int kTrials = 2000;
  for (int len : {3, 8, 17, 64}) {
    int bit_flips[64] = {};
    for (int t = 0; t < kTrials; ++t) {
      std::string s(static_cast<std::size_t>(len), '\0');
      for (char& c : s) c = static_cast<char>(rng());
      std::string flipped = s;
      const auto bit = rng() % (8 * static_cast<uint64_t>(len));
      flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
      const uint64_t diff = hash_bytes(s) ^ hash_bytes(flipped);
      for (int b = 0; b < 64; ++b) bit_flips[b] += (diff >> b) & 1;
    }
    for (int b = 0; b < 64; ++b) {
      EXPECT_NEAR(bit_flips[b], kTrials / 2, kTrials / 10) << "len " << len << " bit " << b;
    }
  }
  int bit_flips[64] = {};
  for (int t = 0; t < kTrials; ++t) {
    const uint64_t x = rng();
    const uint64_t diff = hash_u64(x) ^ hash_u64(x ^ (uint64_t{1} << (rng() % 64)));
    for (int b = 0; b < 64; ++b) bit_flips[b] += (diff >> b) & 1;
  }
  for (int b = 0; b < 64; ++b) EXPECT_NEAR(bit_flips[b], kTrials / 2, kTrials / 10) << "u64 bit " << b;
}

TEST(HashTest, SequentialIntegersSpreadOverTheTopBits) {
  // HyperLogLog takes its register index from the top 12 bits.
  int buckets[4096] = {};
  for (uint64_t i = 0; i < 4096 * 16; ++i) ++buckets[hash_u64(i) >> 52];
  int empty = 0;
  for (int b : buckets) empty += b == 0;
  EXPECT_LE(empty, 10);  // expected 4096 * e^-16, essentially 0
}

}  // namespace
}  // namespace kappa::agg
