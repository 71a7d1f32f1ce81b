// HyperLogLog: an approximate distinct-count sketch over 64-bit hashes, with
// precision p = 12 (4096 registers, ~1.6% standard error) and a sparse form
// for small cardinalities, because a job keeps one sketch per key per window
// slice — millions of them, most holding a handful of values.
//
// Sparse form: a sorted list of at most kMaxSparseEntries uint32 entries,
// one per distinct 25-bit hash prefix (HLL++'s sparse precision p' = 25),
// each also holding the rank of the remaining bits. Its estimate is linear
// counting over 2^25 buckets, which is exact up to hash-prefix collisions
// (probability about k^2 / 2^26 for k values: 1e-3 at k = 256). Up to
// kInlineEntries entries live inside the object (no allocation, no pointer
// to chase: most sketches of a key's window slice hold a handful of values);
// more go to a heap vector that grows 16, 32, ..., 256.
// Dense form: 4096 one-byte registers (4 KiB), estimated with Ertl's improved
// raw estimator ("New cardinality estimation algorithms for HyperLogLog
// sketches", 2017), unbiased from 0 to far beyond 2^32 without empirical
// bias tables. A sketch becomes dense when its sparse list would exceed
// kMaxSparseEntries (1 KiB, a quarter of the dense size) and never goes back.
//
// The state is a pure function of the set of hashes added: the same hashes
// in any order, split over any number of sketches that are then merged, give
// an identical sketch (operator==). Not thread-safe; copyable and movable.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kappa::agg {

class HyperLogLog {
 public:
  static constexpr int kPrecision = 12;
  static constexpr int kRegisters = 1 << kPrecision;
  static constexpr int kSparsePrecision = 25;
  static constexpr std::size_t kMaxSparseEntries = 256;
  static constexpr std::size_t kInlineEntries = 5;
  // The largest register value: 64 - p bits after the index, plus one.
  static constexpr int kMaxRank = 64 - kPrecision + 1;

  // An empty sketch; allocates nothing.
  HyperLogLog() = default;

  // Adds one hashed value. Dense: a few instructions, no allocation. Sparse:
  // a search and an insertion into the sorted list, which allocates when the
  // list leaves the object or grows (amortized), or turns dense.
  void add_hash(uint64_t hash) {
    if (is_dense()) {
      uint8_t& reg = registers()[hash >> (64 - kPrecision)];
      const uint8_t rank = dense_rank(hash);
      reg = rank > reg ? rank : reg;
    } else {
      add_sparse(hash);
    }
  }

  // Folds `other` in (register-wise maximum): afterwards *this is the sketch
  // of the union of both sets.
  void merge(const HyperLogLog& other);

  // The estimated number of distinct hashes added (0 for an empty sketch).
  double estimate() const;

  bool is_dense() const { return words_.size() == kDenseWords; }
  // Distinct sparse entries (0 when dense).
  std::size_t sparse_size() const { return is_dense() ? 0 : inline_size_ + words_.size(); }
  // Heap bytes held (capacity), for state-size accounting.
  std::size_t heap_bytes() const { return words_.capacity() * sizeof(uint32_t); }

  // Format: a tag byte. 0 (sparse): a varint entry count, then the entries as
  // varint deltas from the previous one (the first from 0). 1 (dense): the
  // 4096 registers, one byte each.
  void serialize(std::string& out) const;
  // Overwrites *this from the front of `in` and advances it; false on
  // truncated or malformed bytes (see operators/aggregate/aggregate.h).
  [[nodiscard]] bool deserialize(std::string_view& in);

  // Same form and content. The form is a function of the content (inline up
  // to kInlineEntries entries, heap up to kMaxSparseEntries, then dense), so
  // equal sets of hashes give equal sketches.
  friend bool operator==(const HyperLogLog&, const HyperLogLog&) = default;

 private:
  static constexpr std::size_t kDenseWords = kRegisters / sizeof(uint32_t);
  static_assert(kInlineEntries < kMaxSparseEntries && kMaxSparseEntries < kDenseWords,
                "the sizes tell the forms apart");

  // The register value for `hash`: 1 + the leading zeros of the bits after
  // the index, at most kMaxRank.
  static uint8_t dense_rank(uint64_t hash) {
    return static_cast<uint8_t>(std::countl_zero((hash << kPrecision) | (uint64_t{1} << (kPrecision - 1))) + 1);
  }

  void add_sparse(uint64_t hash);
  // The sparse entries, wherever they are (empty when dense).
  std::span<const uint32_t> sparse_entries() const;
  // Makes *this the sketch of these sorted, one-per-prefix entries, in the
  // form their number calls for.
  void assign_sparse(std::vector<uint32_t> entries);
  void to_dense();
  uint8_t* registers() { return reinterpret_cast<uint8_t*>(words_.data()); }
  const uint8_t* registers() const { return reinterpret_cast<const uint8_t*>(words_.data()); }

  // Sparse entries are (prefix << 6 | rank of the bits after the prefix), one
  // per prefix, sorted. Inline form: inline_size_ entries in inline_ (unused
  // slots 0), words_ empty. Heap form: words_ holds the entries, inline_size_
  // is 0. Dense: words_ holds exactly kDenseWords words, the registers as
  // bytes (unsigned char may alias any object).
  std::vector<uint32_t> words_;
  uint32_t inline_[kInlineEntries] = {};
  uint8_t inline_size_ = 0;
};

}  // namespace kappa::agg
