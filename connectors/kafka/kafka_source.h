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
  // kEarliest / kLatest: applied the first time this process is assigned a
  // partition; later reassignments continue from the group's position.
  StartPosition from = StartPosition::kCommitted;
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
  bool bounded() const override { return false; }
  Status close() override;

  const KafkaSourceOptions& options() const { return options_; }
  // The consumer's group metadata (group, generation, member), for offsets
  // sent in a producer's transaction; null before start(). Taken anew at
  // each commit: a rebalance changes the generation. Coordinator thread.
  KafkaGroupMetadata group_metadata() const;

 private:
  static void rebalance_callback(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
                                 void* opaque);
  void on_rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions);
  void assign(rd_kafka_topic_partition_list_t* partitions);
  void revoke(rd_kafka_topic_partition_list_t* partitions);

  KafkaSourceOptions options_;
  KafkaHandle consumer_;
  SourceListener* listener_ = nullptr;
  std::set<PartitionId> assigned_;
  std::set<PartitionId> seen_;  // partitions this process was ever assigned
  Status rebalance_error_;
  bool closed_ = false;
};

}  // namespace kappa
