#include "jobs/fraud_scoring/fraud_pipeline.h"

#include <algorithm>
#include <cmath>

namespace kappa::fraud {
namespace {

// A card's first transaction (no previous one) counts as a long quiet spell.
constexpr double kNoPreviousSeconds = 30.0 * 24 * 3600;

double log1p_nonnegative(double x) { return std::log1p(std::max(0.0, x)); }

}  // namespace

Status FraudModelOptions::validate() const {
  if (out_of_orderness.count() < 0) return Status::invalid_argument("the out-of-orderness must not be negative");
  KAPPA_RETURN_IF_ERROR(alarm.validate());
  anomaly::HalfSpaceTreesOptions trees_options{model_feature_ranges(), trees, height, window_size, seed};
  return trees_options.validate();
}

double model_feature_value(const CardFeatures& f, std::size_t i) {
  switch (i) {
    case 0: return static_cast<double>(f.count_1m);
    case 1: return static_cast<double>(f.count_1h);
    case 2: return f.sum_1m;
    case 3: return f.amount_zscore;
    case 4: return static_cast<double>(f.distinct_merchants_24h);
    case 5: return f.seconds_since_previous;
    case 6: return f.speed_kmh;
    case 7: return static_cast<double>(f.count_24h);
  }
  return 0;
}

void model_features(const FeaturedTransaction& t, std::span<double> out) {
  const CardFeatures& f = t.features;
  out[0] = log1p_nonnegative(static_cast<double>(f.count_1m));
  out[1] = log1p_nonnegative(static_cast<double>(f.count_1h));
  out[2] = log1p_nonnegative(f.sum_1m);
  out[3] = std::clamp(f.amount_zscore, -5.0, 20.0);
  out[4] = log1p_nonnegative(static_cast<double>(f.distinct_merchants_24h));
  out[5] = log1p_nonnegative(f.seconds_since_previous < 0 ? kNoPreviousSeconds : f.seconds_since_previous);
  out[6] = log1p_nonnegative(f.speed_kmh);
  out[7] = log1p_nonnegative(static_cast<double>(f.count_24h));
}

std::vector<anomaly::FeatureRange> model_feature_ranges() {
  return {
      {0, std::log1p(30.0)},                // count_1m
      {0, std::log1p(300.0)},               // count_1h
      {0, std::log1p(20'000.0)},            // sum_1m
      {-5, 20},                             // amount_zscore
      {0, std::log1p(100.0)},               // distinct_merchants_24h
      {0, std::log1p(kNoPreviousSeconds)},  // seconds_since_previous
      {0, std::log1p(20'000.0)},            // speed_kmh
      {0, std::log1p(3'000.0)},             // count_24h
  };
}

jobs::TransactionFeatures to_transaction_features(const FeaturedTransaction& t) {
  jobs::TransactionFeatures out;
  *out.mutable_transaction() = t.transaction;
  to_proto(t.features, out.mutable_features());
  return out;
}

jobs::FraudScore to_fraud_score(const Scored<FeaturedTransaction>& scored) {
  const jobs::Transaction& t = scored.value.transaction;
  jobs::FraudScore out;
  out.set_transaction_id(t.transaction_id());
  out.set_card_id(t.card_id());
  out.set_score(scored.score);
  out.set_alarm(scored.alarm);
  for (const anomaly::Contribution& c : scored.reasons) {
    jobs::ScoreReason* reason = out.add_reasons();
    reason->set_feature(std::string(kModelFeatureNames[c.feature]));
    reason->set_weight(c.weight);
    reason->set_value(model_feature_value(scored.value.features, c.feature));
  }
  to_proto(scored.value.features, out.mutable_features());
  out.set_event_time(t.event_time());
  out.set_amount(t.amount());
  return out;
}

}  // namespace kappa::fraud
