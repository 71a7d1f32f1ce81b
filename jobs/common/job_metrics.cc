#include "jobs/common/job_metrics.h"

#include <algorithm>
#include <string>

namespace kappa {
namespace {

std::vector<std::string> labels_of(const PartitionId& partition) {
  return {partition.topic, std::to_string(partition.partition)};
}

}  // namespace

JobMetrics::JobMetrics(MetricsRegistry& registry)
    : records_in_(registry.counter("kappa_records_in_total", "Records read from the input.")),
      records_out_(registry.counter("kappa_records_out_total", "Results written to the output.")),
      records_late_(
          registry.counter("kappa_records_late_total",
                           "Records that came too late for their windows (sent to --late-output, if given).")),
      records_skipped_(registry.counter("kappa_records_skipped_total", "Bad records skipped under --on-error skip.")),
      records_dead_lettered_(registry.counter("kappa_records_dead_lettered_total",
                                              "Bad records written to the dead-letter topic under --on-error dlq.")),
      consumer_lag_(registry.gauge_family("kappa_consumer_lag_records",
                                          "Records between a partition's end offset and the job's position in it.",
                                          {"topic", "partition"})),
      watermark_(registry.gauge_family("kappa_watermark_seconds",
                                       "A task's watermark: the event time its input has reached (Unix time).",
                                       {"topic", "partition"})),
      event_time_lag_(registry.gauge_family("kappa_event_time_lag_seconds",
                                            "How far a task's watermark is behind the wall clock.",
                                            {"topic", "partition"})),
      end_to_end_latency_(registry.histogram(
          "kappa_end_to_end_latency_seconds",
          "Age of a batch's newest input record (by its record timestamp) when the batch's results were handed to "
          "the output; one observation per batch with results.",
          exponential_buckets(0.001, 2, 18))),
      checkpoint_duration_(registry.histogram("kappa_checkpoint_duration_seconds",
                                              "How long a checkpoint's commit to the state store took.",
                                              exponential_buckets(0.001, 2, 16))),
      checkpoint_size_(registry.gauge("kappa_checkpoint_size_bytes", "Size on disk of the last checkpoint.")),
      state_entries_(
          registry.gauge("kappa_state_entries", "Keyed state entries in the last checkpoint (RocksDB's estimate).")) {}

void JobMetrics::on_checkpoint(const CheckpointStats& stats) {
  checkpoint_duration_.observe(static_cast<double>(stats.duration.count()) / 1e6);
  checkpoint_size_.set(static_cast<double>(stats.size_bytes));
  state_entries_.set(static_cast<double>(stats.state_entries));
}

void JobMetrics::update(const JobTotals& totals, const std::vector<TaskSnapshot>& tasks,
                        const std::map<PartitionId, int64_t>& end_offsets, int64_t now_ms) {
  records_in_.set(totals.records_in);
  records_out_.set(totals.records_out);
  records_late_.set(totals.records_late);
  records_skipped_.set(totals.records_skipped);
  records_dead_lettered_.set(totals.records_dead_lettered);
  std::set<PartitionId> running;
  for (const TaskSnapshot& task : tasks) {
    running.insert(task.partition);
    const std::vector<std::string> labels = labels_of(task.partition);
    auto end = end_offsets.find(task.partition);
    if (end != end_offsets.end() && task.next_offset >= 0) {
      consumer_lag_.with(labels).set(static_cast<double>(std::max<int64_t>(end->second - task.next_offset, 0)));
    }
    if (task.watermark != kMinTimestamp && task.watermark != kMaxTimestamp) {
      watermark_.with(labels).set(static_cast<double>(task.watermark) / 1000.0);
      event_time_lag_.with(labels).set(static_cast<double>(now_ms - task.watermark) / 1000.0);
    }
  }
  // Revoked partitions leave (series are dropped one by one rather than
  // rebuilt, so a scrape never sees a family half-filled).
  for (const PartitionId& gone : reported_) {
    if (running.count(gone) > 0) continue;
    for (MetricFamily<Gauge>* family : {&consumer_lag_, &watermark_, &event_time_lag_}) family->remove(labels_of(gone));
  }
  reported_ = std::move(running);
}

}  // namespace kappa
