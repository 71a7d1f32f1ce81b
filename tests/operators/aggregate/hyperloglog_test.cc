#include "operators/aggregate/hyperloglog.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "operators/aggregate/encoding.h"
#include "operators/aggregate/hash.h"

namespace kappa::agg {
namespace {

// A hash whose 25-bit prefix is `prefix` and whose remaining bits are `rest`.
uint64_t with_prefix(uint64_t prefix, uint64_t rest) { return (prefix << 39) | (rest & ((uint64_t{1} << 39) - 1)); }

// The dense registers, read from the serialized form (tag 1 + 4096 bytes).
std::vector<uint8_t> registers_of(const HyperLogLog& sketch) {
  std::string bytes;
  sketch.serialize(bytes);
  EXPECT_EQ(bytes.size(), 1u + HyperLogLog::kRegisters);
  EXPECT_EQ(bytes[0], 1);
  return std::vector<uint8_t>(bytes.begin() + 1, bytes.end());
}

// The textbook definition, one bit at a time: register = top 12 bits, value
// = 1 + leading zeros of the other 52 bits (53 when all are zero).
void reference_add(std::vector<uint8_t>& registers, uint64_t hash) {
  const std::size_t index = hash >> 52;
  int rank = 1;
  for (int bit = 51; bit >= 0 && ((hash >> bit) & 1) == 0; --bit) ++rank;
  registers[index] = std::max<uint8_t>(registers[index], static_cast<uint8_t>(rank));
}

TEST(HyperLogLogTest, EmptySketch) {
  HyperLogLog sketch;
  EXPECT_EQ(sketch.estimate(), 0.0);
  EXPECT_FALSE(sketch.is_dense());
  EXPECT_EQ(sketch.heap_bytes(), 0u);
  std::string bytes;
  sketch.serialize(bytes);
  EXPECT_EQ(bytes, std::string("\0\0", 2));
}

TEST(HyperLogLogTest, SmallSketchesAllocateNothing) {
  HyperLogLog sketch;
  for (uint64_t i = 0; i < HyperLogLog::kInlineEntries; ++i) {
    sketch.add_hash(hash_u64(i));
    sketch.add_hash(hash_u64(i));
  }
  EXPECT_EQ(sketch.sparse_size(), HyperLogLog::kInlineEntries);
  EXPECT_EQ(sketch.heap_bytes(), 0u);
  EXPECT_EQ(std::llround(sketch.estimate()), static_cast<long long>(HyperLogLog::kInlineEntries));
  HyperLogLog copy = sketch;
  copy.merge(sketch);
  EXPECT_TRUE(copy == sketch);
  EXPECT_EQ(copy.heap_bytes(), 0u);

  sketch.add_hash(hash_u64(1000));
  EXPECT_EQ(sketch.sparse_size(), HyperLogLog::kInlineEntries + 1);
  EXPECT_GT(sketch.heap_bytes(), 0u);
  EXPECT_FALSE(copy == sketch);
  copy.merge(sketch);
  EXPECT_TRUE(copy == sketch);

  // Restoring a small sketch puts it back inline.
  HyperLogLog small;
  small.add_hash(hash_u64(1));
  std::string bytes;
  small.serialize(bytes);
  std::string_view in = bytes;
  HyperLogLog restored;
  for (int i = 0; i < 300; ++i) restored.add_hash(hash_u64(i + 5000));  // dense, overwritten
  ASSERT_TRUE(restored.deserialize(in));
  EXPECT_TRUE(restored == small);
  EXPECT_EQ(restored.heap_bytes(), 0u);
}

TEST(HyperLogLogTest, TurnsDensePastTheSparseLimit) {
  HyperLogLog sketch;
  for (uint64_t i = 0; i < HyperLogLog::kMaxSparseEntries; ++i) {
    sketch.add_hash(with_prefix(i * 1000, i));
    sketch.add_hash(with_prefix(i * 1000, i + 1));  // same prefix: no new entry
  }
  EXPECT_FALSE(sketch.is_dense());
  EXPECT_EQ(sketch.sparse_size(), HyperLogLog::kMaxSparseEntries);
  EXPECT_LE(sketch.heap_bytes(), HyperLogLog::kRegisters / 4u);
  EXPECT_EQ(std::llround(sketch.estimate()), 256);
  sketch.add_hash(with_prefix(12345678, 0));
  EXPECT_TRUE(sketch.is_dense());
  EXPECT_EQ(sketch.heap_bytes(), static_cast<std::size_t>(HyperLogLog::kRegisters));
}

// Ranks derived from sparse entries must equal the ranks computed from the
// full hash, including the edge cases: tail bits of the prefix all zero, rest
// all zero (maximum rank), all ones.
TEST(HyperLogLogTest, SparseToDenseKeepsExactRegisters) {
  std::vector<uint64_t> edge = {0,
                                ~uint64_t{0},
                                uint64_t{1},
                                uint64_t{1} << 39,
                                uint64_t{1} << 38,
                                uint64_t{1} << 51,
                                uint64_t{1} << 52,
                                (uint64_t{5} << 52) | 1,
                                (uint64_t{5} << 52) | (uint64_t{1} << 20),
                                (uint64_t{4095} << 52),
                                (uint64_t{4095} << 52) | (uint64_t{1} << 45)};
  std::mt19937_64 rng(25);
  for (int i = 0; i < 200; ++i) {
    // Random hashes with many leading zeros after the index.
    const int zeros = static_cast<int>(rng() % 52);
    edge.push_back((rng() & (uint64_t{4095} << 52)) | ((rng() | 1) >> (12 + zeros)));
  }
  for (int order = 0; order < 3; ++order) {
    std::shuffle(edge.begin(), edge.end(), rng);
    HyperLogLog sketch;
    std::vector<uint8_t> expected(HyperLogLog::kRegisters, 0);
    for (uint64_t h : edge) {
      sketch.add_hash(h);
      reference_add(expected, h);
    }
    ASSERT_FALSE(sketch.is_dense());
    for (int i = 0; i < 300; ++i) {  // fill past the limit, then keep adding dense
      const uint64_t h = rng();
      sketch.add_hash(h);
      reference_add(expected, h);
    }
    ASSERT_TRUE(sketch.is_dense());
    EXPECT_EQ(registers_of(sketch), expected);
  }
}

TEST(HyperLogLogTest, SameSetSameSketchWhateverTheOrderOrSplit) {
  std::mt19937_64 rng(26);
  for (int n : {3, 5, 6, 7, 10, 256, 257, 1000, 20000}) {
    std::vector<uint64_t> hashes;
    for (int i = 0; i < n; ++i) hashes.push_back(hash_u64(rng() % static_cast<uint64_t>(n)));
    HyperLogLog forward;
    for (uint64_t h : hashes) forward.add_hash(h);
    std::shuffle(hashes.begin(), hashes.end(), rng);
    HyperLogLog shuffled;
    for (uint64_t h : hashes) shuffled.add_hash(h);
    EXPECT_TRUE(forward == shuffled) << n;

    // sparse+sparse, sparse+dense, dense+sparse and dense+dense merges.
    for (std::size_t cut :
         {std::size_t{0}, hashes.size() / 10, hashes.size() / 2, hashes.size() - hashes.size() / 10, hashes.size()}) {
      HyperLogLog a;
      HyperLogLog b;
      for (std::size_t i = 0; i < hashes.size(); ++i) (i < cut ? a : b).add_hash(hashes[i]);
      HyperLogLog ab = a;
      ab.merge(b);
      HyperLogLog ba = b;
      ba.merge(a);
      EXPECT_TRUE(ab == forward) << n << " cut " << cut;
      EXPECT_TRUE(ba == forward) << n << " cut " << cut;
    }
  }
}

TEST(HyperLogLogTest, MergeWithItselfChangesNothing) {
  for (int n : {5, 5000}) {
    HyperLogLog sketch;
    for (int i = 0; i < n; ++i) sketch.add_hash(hash_u64(i));
    const HyperLogLog before = sketch;
    sketch.merge(sketch);
    EXPECT_TRUE(sketch == before);
  }
}

TEST(HyperLogLogTest, RoundTripsBothForms) {
  for (int n : {0, 1, 100, 256, 257, 100000}) {
    HyperLogLog sketch;
    for (int i = 0; i < n; ++i) sketch.add_hash(hash_u64(i));
    std::string bytes;
    sketch.serialize(bytes);
    if (n <= 256) {
      EXPECT_LE(bytes.size(), 8 + 4u * n) << n;  // sparse: about 4 bytes per entry, not 4 KiB
    }
    std::string_view in = bytes;
    HyperLogLog restored;
    restored.add_hash(42);  // overwritten
    ASSERT_TRUE(restored.deserialize(in)) << n;
    EXPECT_TRUE(in.empty());
    EXPECT_TRUE(restored == sketch) << n;
    EXPECT_EQ(restored.estimate(), sketch.estimate());
  }
}

bool accepts(std::string bytes) {
  std::string_view in = bytes;
  HyperLogLog sketch;
  return sketch.deserialize(in);
}

TEST(HyperLogLogTest, RejectsMalformedBytes) {
  EXPECT_FALSE(accepts(""));
  EXPECT_FALSE(accepts(std::string("\x02", 1)));  // unknown tag

  std::string dense("\x01", 1);
  dense.append(HyperLogLog::kRegisters, '\x05');
  EXPECT_TRUE(accepts(dense));
  dense[100] = static_cast<char>(HyperLogLog::kMaxRank + 1);
  EXPECT_FALSE(accepts(dense));
  EXPECT_FALSE(accepts(dense.substr(0, 4000)));

  auto sparse = [](std::vector<uint64_t> entries, uint64_t count) {
    std::string out("\x00", 1);
    encoding::put_varint(out, count);
    uint64_t previous = 0;
    for (uint64_t e : entries) {
      encoding::put_varint(out, e - previous);
      previous = e;
    }
    return out;
  };
  EXPECT_TRUE(accepts(sparse({(1 << 6) | 1, (2 << 6) | 40}, 2)));
  EXPECT_FALSE(accepts(sparse({(1 << 6) | 1, (2 << 6) | 40}, 3)));  // truncated
  EXPECT_FALSE(accepts(sparse({(1 << 6) | 0}, 1)));                 // rank 0
  EXPECT_FALSE(accepts(sparse({(1 << 6) | 41}, 1)));                // rank above 40
  EXPECT_FALSE(accepts(sparse({(1 << 6) | 1, (1 << 6) | 2}, 2)));   // prefix repeated
  EXPECT_FALSE(accepts(sparse({uint64_t{1} << 31 | 1}, 1)));        // prefix too wide
  std::vector<uint64_t> too_many;
  for (uint64_t i = 1; i <= 257; ++i) too_many.push_back((i << 6) | 1);
  EXPECT_FALSE(accepts(sparse(too_many, 257)));
}

}  // namespace
}  // namespace kappa::agg
