// The Detector concept: what every anomaly detector offers the scorer
// operator (DESIGN.md §4), and the Contribution that explains a score.
//
// A detector is a model of "normal" that turns an observation, a feature
// vector of dimensions() doubles, into a score in [0, 1] (0 = normal, higher =
// more anomalous) and then learns from it:
//
//   double s = d.score(x);            // in [0, 1]; d is unchanged
//   d.contributions(x, k, out);       // which features made x stand out
//   d.learn(x);                       // fold x into the model
//   score_and_learn(d, x)             // the two above, in that order
//
// Contracts every detector keeps:
//  - Score first, then learn: an observation's score never uses the
//    observation itself. score() and contributions() are const.
//  - REQUIRES: x.size() == dimensions() (an always-on check: the operator
//    builds the features, so a wrong size is a bug). A non-finite feature
//    value is data, not a bug: such an observation scores 0, has no
//    contributions and is not learnt.
//  - Determinism: the same options (seed included) and the same sequence of
//    observations give the same scores, bit for bit, on any host. Detectors
//    use their own PRNG (random.h), never std:: distributions.
//  - Thread use: one detector belongs to one task and is called from that
//    task's thread only; there is no internal locking.
//  - Checkpoints: d.serialize(out) appends the model state (not the options,
//    which come from the job's configuration) to `out`; d.deserialize(in)
//    reads exactly those bytes from the front of `in`, advances `in` past
//    them and replaces the state. On truncated or malformed bytes it returns
//    false, leaves the detector unchanged and `in` unspecified, and never
//    throws. A detector restored from a checkpoint gives the same scores as
//    one that never stopped. Little-endian, host-independent (the primitives
//    of operators/aggregate/encoding.h).
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kappa::anomaly {

// One feature's share of an anomaly: `weight` in (0, 1]; the weights of all of
// an observation's features sum to 1 (a top-k list may sum to less).
struct Contribution {
  std::size_t feature = 0;  // index into the feature vector
  double weight = 0;

  bool operator==(const Contribution&) const = default;
};

template <class D>
concept Detector = std::movable<D> &&
    requires(D& d, const D& cd, std::span<const double> x, std::size_t k, std::vector<Contribution>& contributions,
             std::string& out, std::string_view& in) {
  { cd.dimensions() } -> std::same_as<std::size_t>;
  { cd.score(x) } -> std::same_as<double>;
  { d.learn(x) } -> std::same_as<void>;
  // Clears `contributions`, then fills it with at most k entries, largest weight first.
  { cd.contributions(x, k, contributions) } -> std::same_as<void>;
  { cd.serialize(out) } -> std::same_as<void>;
  { d.deserialize(in) } -> std::same_as<bool>;
};

// Scores x, then learns it; returns the score.
template <Detector D>
double score_and_learn(D& detector, std::span<const double> x) {
  const double score = detector.score(x);
  detector.learn(x);
  return score;
}

// Turns raw non-negative per-feature weights into at most k contributions:
// zero weights dropped, the rest divided by their sum, sorted by weight
// (descending) then feature index. Empty when every weight is zero.
inline void top_contributions(std::span<const double> raw, std::size_t k, std::vector<Contribution>& out) {
  out.clear();
  double total = 0;
  for (double w : raw) total += w > 0 ? w : 0;
  if (!(total > 0)) return;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] > 0) out.push_back({i, raw[i] / total});
  }
  std::sort(out.begin(), out.end(), [](const Contribution& a, const Contribution& b) {
    return a.weight != b.weight ? a.weight > b.weight : a.feature < b.feature;
  });
  if (out.size() > k) out.resize(k);
}

}  // namespace kappa::anomaly
