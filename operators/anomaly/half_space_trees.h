// HalfSpaceTrees: the streaming, mass-based multivariate detector of Tan, Ting
// & Liu, "Fast Anomaly Detection for Streaming Data" (IJCAI 2011), over a
// fixed-size feature vector. One instance per task (it is not per key: it
// learns what normal feature vectors look like across all keys).
//
// Structure. `trees` complete binary trees of depth `height`, built once from
// the options and the seed, never from data. For each tree and feature i a
// random s in [min_i, max_i] gives the work range s ± 2*max(s - min_i,
// max_i - s), so the trees differ and points near the edges of the given range
// are still split. Every internal node picks a feature uniformly at random and
// splits at the middle of that feature's current work range (the paper's
// construction); x goes left when x[feature] < split. Feature ranges are GIVEN
// UP FRONT (from domain knowledge or a sample of training data); values
// outside them are fine, they land in the outermost leaves.
//
// Learning. Each node holds two masses: `reference` (the counts of the last
// complete window) and `latest` (the window in progress). learn(x) adds 1 to
// `latest` on x's path in every tree; after every `window_size` observations
// `latest` becomes `reference` and starts again from 0.
//
// Score. With m_t the reference mass of the leaf x reaches in tree t, the
// paper's score is sum_t m_t * 2^height (high = normal). Divided by
// window_size it becomes r_t = m_t * 2^height / window_size, the leaf's
// density relative to a uniform spread of the window over the leaves (1 =
// average, 0 = nobody there). The anomaly score is
//   score = (1 / trees) * sum_t exp(-r_t)
// in [0, 1]: 1 when x falls where no recent observation fell in any tree,
// exp(-1) = 0.37 at the average density, -> 0 in dense regions; strictly
// decreasing in every tree's mass. Before the first window completes there is
// no reference and the score is 0.
//
// Contributions. Along x's path in each tree, a split on feature i that sends x
// from a node of reference mass M to a child of mass m "costs"
//   max(0, log2((M + 1) / (m + 1)) - 1)
// bits to feature i: the mass lost beyond the halving a uniform density would
// give. Summed over trees and divided by the total, it says which features'
// splits isolated x. (The per-split log ratios telescope to the leaf's mass,
// which is what the score measures.)
//
// Cost: learn() and score() visit trees * (height + 1) nodes; memory is
// trees * 2^height * 32 bytes (masses and splits). Non-finite feature values: see
// detector.h. Thread use, determinism and checkpoints: see detector.h; the
// checkpoint holds the masses and the window position, plus the shape
// (trees, height, features, window size, seed) so that restoring into a
// differently configured instance is rejected.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "operators/anomaly/detector.h"
#include "runtime/status.h"

namespace kappa::anomaly {

struct FeatureRange {
  double min = 0;
  double max = 1;
};

struct HalfSpaceTreesOptions {
  // One range per feature, min < max, both finite. Required (no default).
  std::vector<FeatureRange> ranges;
  // Number of trees, in [1, 1000]. Default 25 (the paper's).
  int trees = 25;
  // Depth of every tree, in [1, 20]. Default 8 (256 leaves: about one per
  // observation of the default window).
  int height = 8;
  // Observations per window, >= 1. Default 250 (the paper's).
  int64_t window_size = 250;
  // Seed of the random structure. Default 0.
  uint64_t seed = 0;

  // OK, or InvalidArgument naming the first field out of range.
  Status validate() const;
};

class HalfSpaceTrees {
 public:
  // Validates the options, then builds the trees.
  static Result<HalfSpaceTrees> create(HalfSpaceTreesOptions options);

  std::size_t dimensions() const { return options_.ranges.size(); }
  double score(std::span<const double> x) const;
  void learn(std::span<const double> x);
  void contributions(std::span<const double> x, std::size_t k, std::vector<Contribution>& out) const;

  void serialize(std::string& out) const;
  [[nodiscard]] bool deserialize(std::string_view& in);

  // True once a window has completed, i.e. scores can be non-zero.
  bool has_reference() const { return has_reference_; }
  const HalfSpaceTreesOptions& options() const { return options_; }

 private:
  // Internal nodes only carry a split; all nodes carry masses. Node n's
  // children are 2n + 1 and 2n + 2 (heap order), per tree.
  struct Split {
    uint32_t feature;
    double value;
  };
  struct Mass {
    uint32_t reference = 0;
    uint32_t latest = 0;
  };

  explicit HalfSpaceTrees(HalfSpaceTreesOptions options);
  void build_tree(std::size_t tree, uint64_t tree_seed);
  static bool finite(std::span<const double> x);
  // Calls f(node_index_within_tree, depth, split-or-nullptr) for the nodes on
  // x's path in `tree`, root first, leaf last.
  template <class F>
  void walk(std::size_t tree, std::span<const double> x, F&& f) const;

  HalfSpaceTreesOptions options_;
  std::size_t internal_per_tree_;  // 2^height - 1
  std::size_t nodes_per_tree_;     // 2^(height+1) - 1
  std::vector<Split> splits_;      // trees * internal_per_tree_
  std::vector<Mass> masses_;       // trees * nodes_per_tree_
  int64_t in_window_ = 0;          // observations in the latest window
  bool has_reference_ = false;
};

static_assert(Detector<HalfSpaceTrees>);

}  // namespace kappa::anomaly
