#include "operators/anomaly/half_space_trees.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "operators/aggregate/encoding.h"
#include "operators/anomaly/random.h"

namespace kappa::anomaly {

namespace enc = agg::encoding;

namespace {

// Checkpoint format tag: bump when the layout changes.
constexpr uint8_t kFormatVersion = 1;

}  // namespace

Status HalfSpaceTreesOptions::validate() const {
  if (ranges.empty()) return Status::invalid_argument("hst: at least one feature range is required");
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    const FeatureRange& r = ranges[i];
    if (!std::isfinite(r.min) || !std::isfinite(r.max) || !(r.min < r.max)) {
      return Status::invalid_argument("hst: feature " + std::to_string(i) + " needs a finite range with min < max");
    }
  }
  if (trees < 1 || trees > 1000) return Status::invalid_argument("hst: trees must be in [1, 1000]");
  if (height < 1 || height > 20) return Status::invalid_argument("hst: height must be in [1, 20]");
  if (window_size < 1 || window_size > UINT32_MAX) {
    return Status::invalid_argument("hst: window_size must be in [1, 2^32 - 1]");
  }
  return Status::ok();
}

Result<HalfSpaceTrees> HalfSpaceTrees::create(HalfSpaceTreesOptions options) {
  KAPPA_RETURN_IF_ERROR(options.validate());
  return HalfSpaceTrees(std::move(options));
}

HalfSpaceTrees::HalfSpaceTrees(HalfSpaceTreesOptions options)
    : options_(std::move(options)),
      internal_per_tree_((std::size_t{1} << options_.height) - 1),
      nodes_per_tree_((std::size_t{1} << (options_.height + 1)) - 1) {
  const auto trees = static_cast<std::size_t>(options_.trees);
  splits_.resize(trees * internal_per_tree_);
  masses_.resize(trees * nodes_per_tree_);
  // One generator per tree, seeded from a master generator, so that tree t's
  // shape does not depend on how many numbers earlier trees drew.
  SplitMix64 seeds(options_.seed);
  for (std::size_t t = 0; t < trees; ++t) build_tree(t, seeds.next());
}

void HalfSpaceTrees::build_tree(std::size_t tree, uint64_t tree_seed) {
  SplitMix64 rng(tree_seed);
  const std::size_t features = dimensions();
  // Work ranges [lo, hi] per feature, perturbed as in the paper.
  std::vector<double> lo(features), hi(features);
  for (std::size_t i = 0; i < features; ++i) {
    const FeatureRange& r = options_.ranges[i];
    const double s = r.min + rng.uniform() * (r.max - r.min);
    const double half = 2 * std::max(s - r.min, r.max - s);
    lo[i] = s - half;
    hi[i] = s + half;
  }
  // Depth-first in heap order; each node narrows one feature's range and
  // restores it on the way back.
  Split* splits = &splits_[tree * internal_per_tree_];
  auto build = [&](auto& self, std::size_t node) -> void {
    if (node >= internal_per_tree_) return;
    const uint32_t q = rng.below(static_cast<uint32_t>(features));
    const double mid = lo[q] + (hi[q] - lo[q]) / 2;
    splits[node] = {q, mid};
    const double saved_hi = hi[q];
    hi[q] = mid;
    self(self, 2 * node + 1);
    hi[q] = saved_hi;
    const double saved_lo = lo[q];
    lo[q] = mid;
    self(self, 2 * node + 2);
    lo[q] = saved_lo;
  };
  build(build, 0);
}

bool HalfSpaceTrees::finite(std::span<const double> x) {
  return std::all_of(x.begin(), x.end(), [](double v) { return std::isfinite(v); });
}

template <class F>
void HalfSpaceTrees::walk(std::size_t tree, std::span<const double> x, F&& f) const {
  const Split* splits = &splits_[tree * internal_per_tree_];
  std::size_t node = 0;
  for (int depth = 0;; ++depth) {
    const Split* split = node < internal_per_tree_ ? &splits[node] : nullptr;
    f(node, depth, split);
    if (split == nullptr) return;
    node = x[split->feature] < split->value ? 2 * node + 1 : 2 * node + 2;
  }
}

double HalfSpaceTrees::score(std::span<const double> x) const {
  KAPPA_CHECK(x.size() == dimensions(), "HalfSpaceTrees: wrong number of features");
  if (!has_reference_ || !finite(x)) return 0;
  const double leaves_per_observation = std::ldexp(1.0, options_.height) / static_cast<double>(options_.window_size);
  double sum = 0;
  for (std::size_t t = 0; t < static_cast<std::size_t>(options_.trees); ++t) {
    const Mass* masses = &masses_[t * nodes_per_tree_];
    uint32_t leaf_mass = 0;
    walk(t, x, [&](std::size_t node, int, const Split* split) {
      if (split == nullptr) leaf_mass = masses[node].reference;
    });
    sum += std::exp(-static_cast<double>(leaf_mass) * leaves_per_observation);
  }
  return std::clamp(sum / options_.trees, 0.0, 1.0);
}

void HalfSpaceTrees::learn(std::span<const double> x) {
  KAPPA_CHECK(x.size() == dimensions(), "HalfSpaceTrees: wrong number of features");
  if (!finite(x)) return;
  for (std::size_t t = 0; t < static_cast<std::size_t>(options_.trees); ++t) {
    Mass* masses = &masses_[t * nodes_per_tree_];
    walk(t, x, [&](std::size_t node, int, const Split*) { ++masses[node].latest; });
  }
  if (++in_window_ < options_.window_size) return;
  for (Mass& m : masses_) m = {m.latest, 0};
  in_window_ = 0;
  has_reference_ = true;
}

void HalfSpaceTrees::contributions(std::span<const double> x, std::size_t k, std::vector<Contribution>& out) const {
  KAPPA_CHECK(x.size() == dimensions(), "HalfSpaceTrees: wrong number of features");
  out.clear();
  if (k == 0 || !has_reference_ || !finite(x)) return;
  std::vector<double> bits(dimensions(), 0.0);
  for (std::size_t t = 0; t < static_cast<std::size_t>(options_.trees); ++t) {
    const Mass* masses = &masses_[t * nodes_per_tree_];
    const Split* parent = nullptr;
    double parent_log = 0;
    walk(t, x, [&](std::size_t node, int, const Split* split) {
      const double log_mass = std::log2(static_cast<double>(masses[node].reference) + 1);
      if (parent != nullptr) bits[parent->feature] += std::max(0.0, parent_log - log_mass - 1);
      parent = split;
      parent_log = log_mass;
    });
  }
  top_contributions(bits, k, out);
}

// Layout: version u8; trees, height, features, window size as varints; seed
// u64; has_reference bool; in_window varint; then per node, in tree and heap
// order, reference and latest masses as varints.
void HalfSpaceTrees::serialize(std::string& out) const {
  enc::put_u8(out, kFormatVersion);
  enc::put_count(out, options_.trees);
  enc::put_count(out, options_.height);
  enc::put_count(out, static_cast<int64_t>(dimensions()));
  enc::put_count(out, options_.window_size);
  enc::put_u64(out, options_.seed);
  enc::put_bool(out, has_reference_);
  enc::put_count(out, in_window_);
  for (const Mass& m : masses_) {
    enc::put_varint(out, m.reference);
    enc::put_varint(out, m.latest);
  }
}

bool HalfSpaceTrees::deserialize(std::string_view& in) {
  uint8_t version;
  int64_t trees, height, features, window_size, in_window;
  uint64_t seed;
  bool has_reference;
  if (!enc::get_u8(in, version) || version != kFormatVersion) return false;
  if (!enc::get_count(in, trees) || !enc::get_count(in, height) || !enc::get_count(in, features) ||
      !enc::get_count(in, window_size) || !enc::get_u64(in, seed) || !enc::get_bool(in, has_reference) ||
      !enc::get_count(in, in_window)) {
    return false;
  }
  // A checkpoint of a differently shaped or seeded model does not fit.
  if (trees != options_.trees || height != options_.height || features != static_cast<int64_t>(dimensions()) ||
      window_size != options_.window_size || seed != options_.seed || in_window >= window_size) {
    return false;
  }
  std::vector<Mass> masses(masses_.size());
  const auto limit = static_cast<uint64_t>(window_size);
  for (Mass& m : masses) {
    uint64_t reference, latest;
    if (!enc::get_varint(in, reference) || !enc::get_varint(in, latest)) return false;
    if (reference > limit || latest > limit) return false;
    m = {static_cast<uint32_t>(reference), static_cast<uint32_t>(latest)};
  }
  masses_ = std::move(masses);
  has_reference_ = has_reference;
  in_window_ = in_window;
  return true;
}

}  // namespace kappa::anomaly
