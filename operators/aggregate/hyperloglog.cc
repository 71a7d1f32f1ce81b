#include "operators/aggregate/hyperloglog.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <utility>

#include "operators/aggregate/encoding.h"

namespace kappa::agg {
namespace {

constexpr int kSuffixBits = 64 - HyperLogLog::kSparsePrecision;                       // 39
constexpr int kPrefixTail = HyperLogLog::kSparsePrecision - HyperLogLog::kPrecision;  // 13
constexpr uint32_t kRankMask = 63;
constexpr uint32_t kMaxSparseRank = kSuffixBits + 1;  // 40
constexpr std::size_t kFirstHeapCapacity = 16;
static_assert(kFirstHeapCapacity > HyperLogLog::kInlineEntries);

// A sparse entry: the 25-bit prefix, then 6 bits of rank of the 39 bits
// after it. The guard bit just below those 39 caps the rank at 40.
uint32_t sparse_entry(uint64_t hash) {
  const auto prefix = static_cast<uint32_t>(hash >> kSuffixBits);
  const uint64_t guard = uint64_t{1} << (HyperLogLog::kSparsePrecision - 1);
  const auto rank = static_cast<uint32_t>(std::countl_zero((hash << HyperLogLog::kSparsePrecision) | guard)) + 1;
  return (prefix << 6) | rank;
}

uint32_t entry_prefix(uint32_t entry) { return entry >> 6; }

// The dense register and value the entry's hash would have set: the rank of
// the bits after the 12-bit index is found in the 13 prefix bits after the
// index if any is set, else it is 13 plus the stored rank.
void apply_entry(uint8_t* registers, uint32_t entry) {
  const uint32_t prefix = entry_prefix(entry);
  const uint32_t index = prefix >> kPrefixTail;
  const uint32_t tail = prefix & ((1u << kPrefixTail) - 1);
  const uint32_t rank = tail != 0 ? static_cast<uint32_t>(std::countl_zero(tail)) - (32 - kPrefixTail) + 1
                                  : kPrefixTail + (entry & kRankMask);
  registers[index] = std::max(registers[index], static_cast<uint8_t>(rank));
}

// Ertl's sigma and tau series (Algorithm 6 of the paper).
double sigma(double x) {
  if (x == 1.0) return std::numeric_limits<double>::infinity();
  double y = 1.0;
  double z = x;
  double previous;
  do {
    x *= x;
    previous = z;
    z += x * y;
    y += y;
  } while (z != previous);
  return z;
}

double tau(double x) {
  if (x == 0.0 || x == 1.0) return 0.0;
  double y = 1.0;
  double z = 1.0 - x;
  double previous;
  do {
    x = std::sqrt(x);
    previous = z;
    y *= 0.5;
    z -= (1.0 - x) * (1.0 - x) * y;
  } while (z != previous);
  return z / 3.0;
}

}  // namespace

std::span<const uint32_t> HyperLogLog::sparse_entries() const {
  if (is_dense()) return {};
  if (inline_size_ > 0) return {inline_, inline_size_};
  return words_;
}

void HyperLogLog::add_sparse(uint64_t hash) {
  const uint32_t entry = sparse_entry(hash);
  // Find the first entry >= the prefix's smallest entry: an entry of the
  // same prefix (there is at most one) or the insertion point.
  const uint32_t key = entry & ~kRankMask;
  if (words_.empty()) {
    std::size_t pos = 0;
    while (pos < inline_size_ && inline_[pos] < key) ++pos;
    if (pos < inline_size_ && entry_prefix(inline_[pos]) == entry_prefix(entry)) {
      inline_[pos] = std::max(inline_[pos], entry);
      return;
    }
    if (inline_size_ < kInlineEntries) {
      for (std::size_t i = inline_size_; i > pos; --i) inline_[i] = inline_[i - 1];
      inline_[pos] = entry;
      ++inline_size_;
      return;
    }
    // Full: move the entries to the heap and insert there.
    words_.reserve(kFirstHeapCapacity);
    words_.assign(inline_, inline_ + inline_size_);
    words_.insert(words_.begin() + static_cast<std::ptrdiff_t>(pos), entry);
    std::fill(std::begin(inline_), std::end(inline_), 0);
    inline_size_ = 0;
    return;
  }
  // Branch-free binary search: the comparisons of a lookup in a random set
  // are unpredictable.
  const uint32_t* base = words_.data();
  std::size_t len = words_.size();
  while (len > 1) {
    const std::size_t half = len / 2;
    base = base[half - 1] < key ? base + half : base;
    len -= half;
  }
  const std::size_t pos = static_cast<std::size_t>(base - words_.data()) + (*base < key ? 1 : 0);
  if (pos < words_.size() && entry_prefix(words_[pos]) == entry_prefix(entry)) {
    words_[pos] = std::max(words_[pos], entry);
    return;
  }
  if (words_.size() < kMaxSparseEntries) {
    // Double, but never past the limit.
    if (words_.size() == words_.capacity()) words_.reserve(std::min(kMaxSparseEntries, 2 * words_.capacity()));
    words_.insert(words_.begin() + static_cast<std::ptrdiff_t>(pos), entry);
    return;
  }
  to_dense();
  add_hash(hash);
}

void HyperLogLog::assign_sparse(std::vector<uint32_t> entries) {
  std::fill(std::begin(inline_), std::end(inline_), 0);
  inline_size_ = 0;
  if (entries.size() <= kInlineEntries) {
    std::copy(entries.begin(), entries.end(), inline_);
    inline_size_ = static_cast<uint8_t>(entries.size());
    words_ = {};
  } else {
    words_ = std::move(entries);
    if (words_.size() > kMaxSparseEntries) to_dense();
  }
}

void HyperLogLog::to_dense() {
  std::vector<uint32_t> dense(kDenseWords, 0);
  auto* registers = reinterpret_cast<uint8_t*>(dense.data());
  for (uint32_t entry : sparse_entries()) apply_entry(registers, entry);
  // (From assign_sparse, words_ may briefly hold up to 2 * kMaxSparseEntries
  // entries: still fewer than kDenseWords, so sparse_entries() sees them.)
  words_.swap(dense);
  std::fill(std::begin(inline_), std::end(inline_), 0);
  inline_size_ = 0;
}

void HyperLogLog::merge(const HyperLogLog& other) {
  if (other.is_dense()) {
    if (is_dense()) {
      uint8_t* mine = registers();
      const uint8_t* theirs = other.registers();
      for (int i = 0; i < kRegisters; ++i) mine[i] = std::max(mine[i], theirs[i]);
    } else {
      std::vector<uint32_t> dense = other.words_;
      auto* registers = reinterpret_cast<uint8_t*>(dense.data());
      for (uint32_t entry : sparse_entries()) apply_entry(registers, entry);
      words_.swap(dense);
      std::fill(std::begin(inline_), std::end(inline_), 0);
      inline_size_ = 0;
    }
    return;
  }
  const std::span<const uint32_t> theirs = other.sparse_entries();
  if (theirs.empty()) return;
  if (is_dense()) {
    uint8_t* mine = registers();
    for (uint32_t entry : theirs) apply_entry(mine, entry);
    return;
  }
  // Both sparse: a sorted union keeping the larger rank per prefix.
  const std::span<const uint32_t> mine = sparse_entries();
  std::vector<uint32_t> merged;
  merged.reserve(mine.size() + theirs.size());
  auto a = mine.begin();
  auto b = theirs.begin();
  while (a != mine.end() || b != theirs.end()) {
    if (b == theirs.end() || (a != mine.end() && entry_prefix(*a) < entry_prefix(*b))) {
      merged.push_back(*a++);
    } else if (a == mine.end() || entry_prefix(*b) < entry_prefix(*a)) {
      merged.push_back(*b++);
    } else {
      merged.push_back(std::max(*a++, *b++));
    }
  }
  assign_sparse(std::move(merged));
}

double HyperLogLog::estimate() const {
  if (!is_dense()) {
    // Linear counting over the 2^25 sparse buckets.
    const double buckets = static_cast<double>(uint64_t{1} << kSparsePrecision);
    return -buckets * std::log1p(-static_cast<double>(sparse_size()) / buckets);
  }
  std::array<int, kMaxRank + 1> histogram{};
  const uint8_t* regs = registers();
  for (int i = 0; i < kRegisters; ++i) ++histogram[regs[i]];
  const double m = kRegisters;
  const int q = kMaxRank - 1;
  double z = m * tau(1.0 - histogram[q + 1] / m);
  for (int k = q; k >= 1; --k) z = 0.5 * (z + histogram[k]);
  z += m * sigma(histogram[0] / m);
  constexpr double kAlphaInfinity = 0.7213475204444817;  // 1 / (2 ln 2)
  return kAlphaInfinity * m * m / z;
}

void HyperLogLog::serialize(std::string& out) const {
  if (is_dense()) {
    encoding::put_u8(out, 1);
    out.append(reinterpret_cast<const char*>(registers()), kRegisters);
    return;
  }
  const std::span<const uint32_t> entries = sparse_entries();
  encoding::put_u8(out, 0);
  encoding::put_varint(out, entries.size());
  uint32_t previous = 0;
  for (uint32_t entry : entries) {
    encoding::put_varint(out, entry - previous);
    previous = entry;
  }
}

bool HyperLogLog::deserialize(std::string_view& in) {
  *this = HyperLogLog();
  uint8_t tag;
  if (!encoding::get_u8(in, tag)) return false;
  if (tag == 1) {
    if (in.size() < static_cast<std::size_t>(kRegisters)) return false;
    words_.assign(kDenseWords, 0);
    uint8_t* regs = registers();
    for (int i = 0; i < kRegisters; ++i) {
      regs[i] = static_cast<uint8_t>(in[i]);
      if (regs[i] > kMaxRank) return false;
    }
    in.remove_prefix(kRegisters);
    return true;
  }
  if (tag != 0) return false;
  uint64_t count;
  if (!encoding::get_varint(in, count) || count > kMaxSparseEntries) return false;
  std::vector<uint32_t> entries;
  entries.reserve(count);
  uint64_t entry = 0;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t delta;
    if (!encoding::get_varint(in, delta)) return false;
    entry += delta;
    const uint64_t rank = entry & kRankMask;
    if (entry >= (uint64_t{1} << (kSparsePrecision + 6)) || rank == 0 || rank > kMaxSparseRank) return false;
    if (i > 0 && entry_prefix(static_cast<uint32_t>(entry)) <= entry_prefix(entries.back())) return false;
    entries.push_back(static_cast<uint32_t>(entry));
  }
  assign_sparse(std::move(entries));
  return true;
}

}  // namespace kappa::agg
