#include "connectors/kafka/kafka_transaction.h"

namespace kappa {

KafkaTransaction::KafkaTransaction(std::shared_ptr<KafkaProducer> producer, const KafkaSource& source)
    : producer_(std::move(producer)), source_(source) {
  KAPPA_CHECK(producer_->transactional(), "KafkaTransaction needs a producer with a transactional.id");
}

Status KafkaTransaction::begin() { return producer_->begin_transaction(); }

Status KafkaTransaction::commit(const std::vector<PartitionPosition>& positions) {
  KafkaGroupMetadata group = source_.group_metadata();
  if (!positions.empty() && group == nullptr) {
    return Status::internal("no consumer group to commit the input offsets to: the source has not started");
  }
  return producer_->commit_transaction(positions, group.get());
}

Status KafkaTransaction::abort() { return producer_->abort_transaction(); }

Result<std::map<PartitionId, int64_t>> KafkaTransaction::committed_offsets(
    const std::vector<PartitionId>& partitions) const {
  const KafkaSourceOptions& options = source_.options();
  std::map<PartitionId, int64_t> committed;
  if (partitions.empty()) return committed;
  const std::map<std::string, std::string> defaults{
      {"group.id", options.group_id},
      {"enable.auto.commit", "false"},
      // Offsets of open transactions are not offsets yet: the broker makes
      // this wait until they are settled.
      {"isolation.level", "read_committed"},
      {"client.id", "kappa-" + options.group_id + "-recovery"},
  };
  KAPPA_ASSIGN_OR_RETURN(KafkaConf conf, make_kafka_conf(KafkaRole::kConsumer, options.client, defaults));
  KAPPA_ASSIGN_OR_RETURN(KafkaHandle consumer, make_kafka_client(KafkaRole::kConsumer, std::move(conf)));
  KafkaPartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (const PartitionId& p : partitions) rd_kafka_topic_partition_list_add(list.get(), p.topic.c_str(), p.partition);
  const rd_kafka_resp_err_t err =
      rd_kafka_committed(consumer.get(), list.get(), static_cast<int>(options.client.connect_timeout.count()) * 3);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::unavailable("cannot read the committed offsets of group '" + options.group_id + "' from " +
                               options.client.brokers + ": " + kafka_error_text(err));
  }
  for (int i = 0; i < list->cnt; ++i) {
    const rd_kafka_topic_partition_t& tp = list->elems[i];
    if (tp.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Status::unavailable("cannot read the committed offset of " + std::string(tp.topic) + "/" +
                                 std::to_string(tp.partition) + " for group '" + options.group_id +
                                 "': " + kafka_error_text(tp.err));
    }
    if (tp.offset >= 0) committed[{tp.topic, tp.partition}] = tp.offset;
  }
  rd_kafka_consumer_close(consumer.get());
  return committed;
}

}  // namespace kappa
