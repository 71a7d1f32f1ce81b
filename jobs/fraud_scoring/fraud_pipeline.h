// The fraud-scoring pipeline, shared by the fraud_scoring job and the tests
// that measure its detection quality, so both run exactly the same code:
//
//   transactions ─► event time ─► per-card features (card_features.h)
//       ─► side output: the transaction with its features (the features topic)
//       ─► anomaly scorer: Half-Space Trees over the model features, one model
//          per task, an alarm filter per card ─► FraudScore
//
// The model sees the card features through monotone transforms (logarithms
// of counts, gaps, speeds and sums; a clamped z-score), because Half-Space
// Trees split each feature's range in equal halves: on a log scale the
// splits between 1 and 10 transactions a minute matter as much as those
// between 10 and 100.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "jobs/fraud_scoring/card_features.h"
#include "jobs/proto/transaction.pb.h"
#include "operators/anomaly/alarm.h"
#include "operators/anomaly/half_space_trees.h"
#include "operators/keyed/key_by.h"
#include "runtime/pipeline.h"

namespace kappa::fraud {

struct FraudModelOptions {
  // How far event time may go back between a partition's transactions.
  std::chrono::milliseconds out_of_orderness{std::chrono::seconds(5)};
  anomaly::AlarmOptions alarm{.threshold = 0.2, .quiet_period_ms = 10 * 60'000};
  int trees = 25;
  int height = 9;
  int64_t window_size = 1000;
  uint64_t seed = 1;
  // Reasons given with each score.
  std::size_t top = 3;

  Status validate() const;
};

// The model's features, by index: which CardFeatures field each one
// transforms (its name is the reason's name in a FraudScore).
inline constexpr std::size_t kModelFeatureCount = 8;
inline constexpr std::array<std::string_view, kModelFeatureCount> kModelFeatureNames = {
    "count_1m", "count_1h", "sum_1m", "amount_zscore", "distinct_merchants_24h", "seconds_since_previous",
    "speed_kmh", "count_24h"};

// Fills out[i] with model feature i of `t`. REQUIRES: out.size() == kModelFeatureCount.
void model_features(const FeaturedTransaction& t, std::span<double> out);
// The untransformed value of model feature i, for reasons.
double model_feature_value(const CardFeatures& features, std::size_t i);
// The ranges Half-Space Trees split (of the transformed features).
std::vector<anomaly::FeatureRange> model_feature_ranges();

jobs::TransactionFeatures to_transaction_features(const FeaturedTransaction& t);
jobs::FraudScore to_fraud_score(const Scored<FeaturedTransaction>& scored);

// Transaction -> FraudScore, writing TransactionFeatures to side output
// `features_output` (when the job runs with it) with `features_codec`.
// REQUIRES: options.validate().is_ok().
template <class FeaturesCodec>
auto fraud_pipeline(const FraudModelOptions& options, std::size_t features_output, FeaturesCodec features_codec) {
  anomaly::HalfSpaceTreesOptions trees{.ranges = model_feature_ranges(),
                                       .trees = options.trees,
                                       .height = options.height,
                                       .window_size = options.window_size,
                                       .seed = options.seed};
  auto card_of = [](const FeaturedTransaction& t) -> const std::string& { return t.transaction.card_id(); };
  return pipeline<jobs::Transaction>()
      .event_time([](const jobs::Transaction& t) { return t.event_time(); }, options.out_of_orderness)
      .then(card_features())
      .side_output(features_output, &to_transaction_features, std::move(features_codec))
      .then(key_by(card_of)
                .score(&model_features, anomaly::per_task(anomaly::HalfSpaceTrees::create(trees).value()))
                .alarm(options.alarm)
                .top(options.top))
      .map(&to_fraud_score);
}

}  // namespace kappa::fraud
