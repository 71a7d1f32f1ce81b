// Scores against labels: how well a fraud scorer ranks and alarms on
// labelled transactions (the generator's), and latency percentiles. Used by
// `kappa fraud-report`, the detection-quality test and bench/fraud_latency.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kappa::fraud {

// One scored transaction, joined with its label.
struct LabelledScore {
  double score = 0;
  bool alarm = false;
  bool fraud = false;
  // Transactions of one fraud incident share an id; read only for fraud.
  std::string incident;
};

struct DetectionQuality {
  std::size_t transactions = 0;
  std::size_t fraud = 0;
  double base_rate = 0;          // fraud / transactions: the average precision of a random ranking
  double average_precision = 0;  // of the ranking by score (ties ranked together)
  std::size_t alarms = 0;
  double alarm_precision = 0;    // alarms on fraud / alarms
  double alarm_recall = 0;       // fraud transactions that alarmed / fraud
  std::size_t incidents = 0;
  double incident_recall = 0;    // incidents with at least one alarm / incidents
};

// Average precision (the area under the precision-recall curve, as a sum of
// precision at each recall step). Transactions with equal scores form one
// step, so the figure does not depend on their order. 0 without fraud.
double average_precision(std::vector<LabelledScore> scores);

DetectionQuality evaluate(const std::vector<LabelledScore>& scores);

struct LatencySummary {
  std::size_t count = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double p999_ms = 0;
  double max_ms = 0;
};

// Nearest-rank percentiles of `latencies_ms` (sorted in place).
LatencySummary summarize_latency(std::vector<double>& latencies_ms);

}  // namespace kappa::fraud
