// Shared plumbing for Kafka clients: configuration from --brokers and -X,
// librdkafka's logs routed to spdlog, owning handles, and the start-up check
// that turns "no broker" or "no such topic" into one clear error.
#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "runtime/status.h"

namespace kappa {

enum class KafkaRole { kConsumer, kProducer };

struct KafkaClientOptions {
  // bootstrap.servers.
  std::string brokers;
  // -X values: key=value for both clients, consumer.key=value or
  // producer.key=value for one. Applied after the defaults, so they win.
  std::vector<std::string> properties;
  // How long the start-up check waits for the brokers. Default 10 s.
  std::chrono::milliseconds connect_timeout{10'000};
};

struct RdKafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
  void operator()(rd_kafka_topic_partition_list_t* list) const { rd_kafka_topic_partition_list_destroy(list); }
  void operator()(rd_kafka_topic_t* topic) const { rd_kafka_topic_destroy(topic); }
  void operator()(rd_kafka_queue_t* queue) const { rd_kafka_queue_destroy(queue); }
  void operator()(rd_kafka_consumer_group_metadata_t* group) const { rd_kafka_consumer_group_metadata_destroy(group); }
};
using KafkaHandle = std::unique_ptr<rd_kafka_t, RdKafkaDeleter>;
using KafkaConf = std::unique_ptr<rd_kafka_conf_t, RdKafkaDeleter>;
using KafkaPartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, RdKafkaDeleter>;
using KafkaQueue = std::unique_ptr<rd_kafka_queue_t, RdKafkaDeleter>;
using KafkaGroupMetadata = std::unique_ptr<rd_kafka_consumer_group_metadata_t, RdKafkaDeleter>;

// A configuration for `role`: `defaults` first, then the user's properties.
// librdkafka's log lines go to spdlog at debug level; problems that matter
// reach the job as errors, not as log noise.
Result<KafkaConf> make_kafka_conf(KafkaRole role, const KafkaClientOptions& options,
                                  const std::map<std::string, std::string>& defaults);

// Creates the client; a bad property value shows up here.
Result<KafkaHandle> make_kafka_client(KafkaRole role, KafkaConf conf);

// Asks the brokers for the topics' partition counts. Unreachable brokers and
// missing topics come back as one sentence naming the brokers or the topic.
Result<std::map<std::string, int>> describe_topics(rd_kafka_t* rk, const std::vector<std::string>& topics,
                                                   const std::string& brokers, std::chrono::milliseconds timeout);

// Timestamps for list_offsets, as ListOffsets takes them.
inline constexpr int64_t kListLatest = -1;    // the end offset (for read_committed: the last stable offset)
inline constexpr int64_t kListEarliest = -2;  // the first offset still stored

// ListOffsets: replaces the offset field of each element of `query`, which
// holds a timestamp (epoch ms, kListLatest or kListEarliest), with the
// first offset whose record is at or after it, or -1 where there is none.
// One request per broker. A failure for any partition fails the call, with
// the partition and the reason.
Status list_offsets(rd_kafka_t* rk, rd_kafka_topic_partition_list_t* query, std::chrono::milliseconds timeout);

// "Broker: Unknown topic or partition (UNKNOWN_TOPIC_OR_PART)".
std::string kafka_error_text(rd_kafka_resp_err_t err);

// Splits "a,b,,c" into {"a","b","c"}.
std::vector<std::string> split_list(const std::string& text, char separator = ',');

}  // namespace kappa
