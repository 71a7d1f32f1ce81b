#include "jobs/fraud_scoring/evaluation.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace kappa::fraud {

double average_precision(std::vector<LabelledScore> scores) {
  std::sort(scores.begin(), scores.end(), [](const LabelledScore& a, const LabelledScore& b) { return a.score > b.score; });
  const auto total_fraud = std::count_if(scores.begin(), scores.end(), [](const LabelledScore& s) { return s.fraud; });
  if (total_fraud == 0) return 0;
  double ap = 0;
  std::size_t seen = 0;
  std::size_t fraud_seen = 0;
  for (std::size_t i = 0; i < scores.size();) {
    // One step per distinct score: precision after the whole tie group,
    // weighted by the recall the group adds.
    std::size_t j = i;
    std::size_t group_fraud = 0;
    for (; j < scores.size() && scores[j].score == scores[i].score; ++j) group_fraud += scores[j].fraud ? 1 : 0;
    seen += j - i;
    fraud_seen += group_fraud;
    ap += static_cast<double>(group_fraud) / static_cast<double>(total_fraud) *
          (static_cast<double>(fraud_seen) / static_cast<double>(seen));
    i = j;
  }
  return ap;
}

DetectionQuality evaluate(const std::vector<LabelledScore>& scores) {
  DetectionQuality q;
  q.transactions = scores.size();
  std::size_t alarms_on_fraud = 0;
  std::set<std::string> incidents, detected;
  for (const LabelledScore& s : scores) {
    q.fraud += s.fraud ? 1 : 0;
    q.alarms += s.alarm ? 1 : 0;
    alarms_on_fraud += s.alarm && s.fraud ? 1 : 0;
    if (s.fraud) {
      incidents.insert(s.incident);
      if (s.alarm) detected.insert(s.incident);
    }
  }
  auto ratio = [](std::size_t a, std::size_t b) { return b == 0 ? 0.0 : static_cast<double>(a) / static_cast<double>(b); };
  q.base_rate = ratio(q.fraud, q.transactions);
  q.average_precision = average_precision(scores);
  q.alarm_precision = ratio(alarms_on_fraud, q.alarms);
  q.alarm_recall = ratio(alarms_on_fraud, q.fraud);
  q.incidents = incidents.size();
  q.incident_recall = ratio(detected.size(), incidents.size());
  return q;
}

LatencySummary summarize_latency(std::vector<double>& latencies_ms) {
  LatencySummary s;
  s.count = latencies_ms.size();
  if (latencies_ms.empty()) return s;
  std::sort(latencies_ms.begin(), latencies_ms.end());
  auto rank = [&](double q) {
    const auto n = static_cast<double>(latencies_ms.size());
    const auto index = static_cast<std::size_t>(std::max(0.0, std::ceil(q * n) - 1));
    return latencies_ms[std::min(index, latencies_ms.size() - 1)];
  };
  s.p50_ms = rank(0.50);
  s.p99_ms = rank(0.99);
  s.p999_ms = rank(0.999);
  s.max_ms = latencies_ms.back();
  return s;
}

}  // namespace kappa::fraud
