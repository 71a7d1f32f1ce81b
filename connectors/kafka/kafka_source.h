// KafkaSource: the job's consumer-group member (one per process).
//
// Each assigned partition gets its own librdkafka queue, detached from the
// consumer's main queue, so partitions are read and processed in parallel by
// their tasks; the main queue then carries only group events, which poll()
// serves on the coordinator thread. Offsets are never committed
// automatically: only commit(), after the job flushed the outputs, or (with
// --exactly-once) a KafkaTransaction, with group_metadata().
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "connectors/kafka/kafka_client.h"
#include "runtime/job_options.h"
#include "runtime/source.h"

namespace kappa {

struct KafkaSourceOptions {
  KafkaClientOptions client;
  std::vector<std::string> topics;
  // Consumer group id.
  std::string group_id;
  // kCommitted: the group's position, earliest where there is none.
  // The others (JobOptions::from): applied the first time this process is
  // assigned a partition; later reassignments continue from the group's
  // position.
  StartPosition from = StartPosition::kCommitted;
  int64_t from_time_ms = 0;
  std::map<PartitionId, int64_t> from_offsets;
  // A bounded replay (JobOptions::until): start() pins every partition's end,
  // each partition's reader ends there (ReadStatus::kEndOfRange), and the
  // source is bounded.
  EndPosition until = EndPosition::kNever;
  int64_t until_time_ms = 0;
  // Where the job's checkpoint says a partition resumes, if it has a
  // checkpoint for it: this wins over `from` and the group's position,
  // every time the partition is assigned, since the task's state is restored
  // from that same checkpoint. Optional.
  ResumeOffset resume_offset;
};

class KafkaSource final : public Source {
 public:
  explicit KafkaSource(KafkaSourceOptions options);
  ~KafkaSource() override;

  Status start(SourceListener& listener) override;
  Status poll(std::chrono::milliseconds timeout) override;
  Status commit(const std::vector<PartitionPosition>& positions) override;
  bool bounded() const override { return options_.until != EndPosition::kNever; }
  Status close() override;

  const KafkaSourceOptions& options() const { return options_; }
  // For a bounded replay, each assigned partition's first offset and the
  // end pinned at start(). Coordinator thread.
  std::map<PartitionId, OffsetRange> ranges() const override { return ranges_; }
  // From the high watermarks the fetches bring back. Coordinator thread.
  std::map<PartitionId, int64_t> end_offsets() const override;
  // The consumer's group metadata (group, generation, member), for offsets
  // sent in a producer's transaction; null before start(). Taken anew at
  // each commit: a rebalance changes the generation. Coordinator thread.
  KafkaGroupMetadata group_metadata() const;

 private:
  static void rebalance_callback(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
                                 void* opaque);
  void on_rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions);
  void assign(rd_kafka_topic_partition_list_t* partitions);
  // Sets the start offset of each element of `partitions` (the rebalance's
  // list): the checkpoint's, --from's for a partition seen the first time,
  // or the group's; for a bounded replay, always as a number.
  Status set_start_offsets(rd_kafka_topic_partition_list_t* partitions);
  // Pins the end offset of every partition of the input topics (--until).
  Status pin_ends(const std::map<std::string, int>& partition_counts);
  void revoke(rd_kafka_topic_partition_list_t* partitions);

  KafkaSourceOptions options_;
  KafkaHandle consumer_;
  SourceListener* listener_ = nullptr;
  std::set<PartitionId> assigned_;
  std::set<PartitionId> seen_;  // partitions this process was ever assigned
  std::map<PartitionId, int64_t> ends_;  // pinned by start() for a bounded replay
  std::map<PartitionId, OffsetRange> ranges_;  // of the assigned partitions, for a bounded replay
  Status rebalance_error_;
  bool closed_ = false;
};

}  // namespace kappa
