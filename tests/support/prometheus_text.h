// A parser of the Prometheus text exposition format (0.0.4) for tests that
// scrape /metrics: it reads every sample into name + labels -> value, and
// refuses what a Prometheus server would choke on or what our registry never
// writes.
//
// Stricter than Prometheus where that catches our own mistakes: every sample
// belongs to a family announced by both # HELP and # TYPE before its first
// sample; a family's samples are contiguous; no series appears twice; a
// counter is never negative; a histogram series has its buckets in
// increasing `le` order ending with +Inf, cumulative counts that never
// decrease, a +Inf count equal to its _count, and a _sum.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/status.h"

namespace kappa::testing {

using PrometheusLabels = std::map<std::string, std::string>;

struct PrometheusSample {
  std::string name;         // as written: kappa_latency_seconds_bucket
  PrometheusLabels labels;  // unescaped values
  double value = 0;
};

struct PrometheusFamily {
  std::string type;  // counter, gauge, histogram, summary or untyped
  std::string help;  // unescaped
};

struct PrometheusText {
  std::map<std::string, PrometheusFamily> families;
  std::vector<PrometheusSample> samples;  // in the order written

  // The value of the sample with this name and exactly these labels.
  std::optional<double> value(std::string_view name, const PrometheusLabels& labels = {}) const;
  // The sum over every sample with this name, whatever its labels (0 if none).
  double sum(std::string_view name) const;
  // The samples with this name.
  std::vector<PrometheusSample> series(std::string_view name) const;
};

// Parses and validates `text`; the error names the line and what is wrong.
Result<PrometheusText> parse_prometheus_text(std::string_view text);

}  // namespace kappa::testing
