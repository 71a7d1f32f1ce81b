// JobMetrics: the metrics every job serves on /metrics (DESIGN.md §7).
//
// Task threads report end-to-end latency straight into a histogram; the
// runner reports each checkpoint; everything else (totals, and per
// partition the consumer lag, watermark and event-time lag) is copied from
// the runner and the source by update(), which the coordinator thread calls
// about once a second, so a scrape only renders.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "runtime/job_runner.h"
#include "runtime/metrics.h"

namespace kappa {

class JobMetrics {
 public:
  // Registers every metric in `registry`, which must outlive this.
  explicit JobMetrics(MetricsRegistry& registry);

  // For TaskRunnerOptions::end_to_end_latency.
  Histogram& end_to_end_latency() { return end_to_end_latency_; }

  // A checkpoint committed: its duration and size, and the state it holds.
  void on_checkpoint(const CheckpointStats& stats);

  // Copies the runner's totals and, per running task, its position against
  // the partition's end offset (`end_offsets`, as Source::end_offsets gives
  // them) and its watermark against `now_ms` (wall clock, epoch ms).
  // Partitions no longer running drop out.
  void update(const JobTotals& totals, const std::vector<TaskSnapshot>& tasks,
              const std::map<PartitionId, int64_t>& end_offsets, int64_t now_ms);

 private:
  Counter& records_in_;
  Counter& records_out_;
  Counter& records_late_;
  Counter& records_skipped_;
  Counter& records_dead_lettered_;
  MetricFamily<Gauge>& consumer_lag_;
  MetricFamily<Gauge>& watermark_;
  MetricFamily<Gauge>& event_time_lag_;
  Histogram& end_to_end_latency_;
  Histogram& checkpoint_duration_;
  Gauge& checkpoint_size_;
  Gauge& state_entries_;
  std::set<PartitionId> reported_;  // partitions with per-partition series
};

}  // namespace kappa
