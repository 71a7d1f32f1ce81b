#include "operators/anomaly/ewma_zscore.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "operators/aggregate/encoding.h"

namespace kappa::anomaly {

namespace enc = agg::encoding;

Status EwmaZScoreOptions::validate() const {
  // Written as !(a > b) so that NaN options are rejected too.
  if (!(half_life > 0) || std::isinf(half_life))
    return Status::invalid_argument("zscore: half_life must be > 0 and finite");
  if (warmup < 2) return Status::invalid_argument("zscore: warmup must be >= 2");
  if (!(z_scale > 0) || std::isinf(z_scale)) return Status::invalid_argument("zscore: z_scale must be > 0 and finite");
  if (!(clamp_sigmas > 0)) return Status::invalid_argument("zscore: clamp_sigmas must be > 0");
  if (!(min_stddev >= 0) || std::isinf(min_stddev)) {
    return Status::invalid_argument("zscore: min_stddev must be >= 0 and finite");
  }
  return Status::ok();
}

EwmaZScore::EwmaZScore(const EwmaZScoreOptions& options)
    : options_(options), alpha_(1 - std::exp2(-1 / options.half_life)) {
  KAPPA_CHECK(options.validate().is_ok(), options.validate().message());
}

double EwmaZScore::stddev() const { return std::max(std::sqrt(var_), options_.min_stddev); }

double EwmaZScore::z(double x) const {
  if (count_ == 0) return 0;
  const double deviation = std::abs(x - mean_);
  const double sd = stddev();
  if (sd == 0) return deviation == 0 ? 0 : std::numeric_limits<double>::infinity();
  return deviation / sd;
}

double EwmaZScore::score(double x) const {
  if (!std::isfinite(x) || count_ < options_.warmup) return 0;
  const double z_over_scale = z(x) / options_.z_scale;
  // -expm1(-t) = 1 - exp(-t), accurate for small t; t = inf gives exactly 1.
  return -std::expm1(-0.5 * z_over_scale * z_over_scale);
}

void EwmaZScore::learn(double x) {
  if (!std::isfinite(x)) return;
  if (count_ == 0) {
    count_ = 1;
    mean_ = x;
    var_ = 0;
    return;
  }
  const double sd = stddev();
  if (count_ >= options_.warmup && sd > 0 && std::isfinite(options_.clamp_sigmas)) {
    const double reach = options_.clamp_sigmas * sd;
    x = std::clamp(x, mean_ - reach, mean_ + reach);
  }
  // West (1979) / Finch (2009): the incremental exponentially weighted variance.
  const double d = x - mean_;
  const double increment = alpha_ * d;
  mean_ += increment;
  var_ = (1 - alpha_) * (var_ + d * increment);
  ++count_;
}

double EwmaZScore::score(std::span<const double> x) const {
  KAPPA_CHECK(x.size() == 1, "EwmaZScore scores one feature");
  return score(x[0]);
}

void EwmaZScore::learn(std::span<const double> x) {
  KAPPA_CHECK(x.size() == 1, "EwmaZScore learns one feature");
  learn(x[0]);
}

void EwmaZScore::contributions(std::span<const double> x, std::size_t k, std::vector<Contribution>& out) const {
  out.clear();
  if (k > 0 && score(x) > 0) out.push_back({0, 1.0});
}

void EwmaZScore::serialize(std::string& out) const {
  enc::put_count(out, count_);
  enc::put_double(out, mean_);
  enc::put_double(out, var_);
}

bool EwmaZScore::deserialize(std::string_view& in) {
  int64_t count;
  double mean, var;
  if (!enc::get_count(in, count) || !enc::get_double(in, mean) || !enc::get_double(in, var)) return false;
  // Only finite values are ever learnt, so anything else is corruption.
  if (!std::isfinite(mean) || !std::isfinite(var) || var < 0) return false;
  if (count == 0 && (mean != 0 || var != 0)) return false;
  count_ = count;
  mean_ = mean;
  var_ = var;
  return true;
}

}  // namespace kappa::anomaly
