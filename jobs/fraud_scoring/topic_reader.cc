#include "jobs/fraud_scoring/topic_reader.h"

namespace kappa::fraud {

Result<std::unique_ptr<TopicReader>> TopicReader::open(const KafkaClientOptions& client,
                                                       const std::vector<std::string>& topics, Start start) {
  // group.id is required by librdkafka even for assign(); nothing is committed.
  KAPPA_ASSIGN_OR_RETURN(KafkaConf conf, make_kafka_conf(KafkaRole::kConsumer, client,
                                                         {{"group.id", "kappa-topic-reader"},
                                                          {"enable.auto.commit", "false"},
                                                          {"enable.auto.offset.store", "false"},
                                                          {"fetch.wait.max.ms", "5"},
                                                          {"fetch.error.backoff.ms", "10"}}));
  std::unique_ptr<TopicReader> reader(new TopicReader());
  KAPPA_ASSIGN_OR_RETURN(reader->consumer_, make_kafka_client(KafkaRole::kConsumer, std::move(conf)));
  KAPPA_ASSIGN_OR_RETURN(auto partitions, describe_topics(reader->consumer_.get(), topics, client.brokers,
                                                          client.connect_timeout));
  KafkaPartitionList assignment(rd_kafka_topic_partition_list_new(0));
  for (const auto& [topic, count] : partitions) {
    for (int p = 0; p < count; ++p) {
      rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), p)->offset =
          start == Start::kBeginning ? RD_KAFKA_OFFSET_BEGINNING : RD_KAFKA_OFFSET_END;
    }
  }
  if (rd_kafka_resp_err_t err = rd_kafka_assign(reader->consumer_.get(), assignment.get())) {
    return Status::unavailable("cannot read the topics: " + kafka_error_text(err));
  }
  return reader;
}

TopicReader::~TopicReader() {
  if (consumer_ != nullptr) rd_kafka_consumer_close(consumer_.get());
}

Result<std::size_t> TopicReader::poll(std::chrono::milliseconds timeout,
                                      const std::function<void(const TopicMessage&)>& on_message) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::size_t handed = 0;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return handed;
    rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer_.get(), static_cast<int>(left.count()));
    if (message == nullptr) continue;
    std::unique_ptr<rd_kafka_message_t, decltype(&rd_kafka_message_destroy)> owned(message, &rd_kafka_message_destroy);
    if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) continue;
    if (message->err) {
      // Transient errors are retried by librdkafka; say what happened and go on.
      if (message->err == RD_KAFKA_RESP_ERR__TRANSPORT || message->err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) continue;
      return Status::unavailable("reading " + std::string(rd_kafka_topic_name(message->rkt)) + ": " +
                                 rd_kafka_message_errstr(message));
    }
    TopicMessage m;
    m.topic = rd_kafka_topic_name(message->rkt);
    if (message->key != nullptr) m.key = {static_cast<const char*>(message->key), message->key_len};
    if (message->payload != nullptr) m.value = {static_cast<const char*>(message->payload), message->len};
    m.timestamp_ms = rd_kafka_message_timestamp(message, nullptr);
    on_message(m);
    ++handed;
  }
}

}  // namespace kappa::fraud
