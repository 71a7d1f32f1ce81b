// TestCluster: a Kafka broker for integration tests, either the embedded
// broker (in this test process) or the real Apache Kafka that the ctest
// fixture started (its address in $KAPPA_TEST_KAFKA_BOOTSTRAP_FILE), plus
// the producing and reading that tests need around a job.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "connectors/kafka/embedded_broker.h"
#include "connectors/kafka/kafka_client.h"

namespace kappa::testing {

enum class ClusterKind { kEmbedded, kReal };

// What a reader of a topic sees of transactional writes.
enum class Isolation {
  kReadCommitted,    // committed transactions only (librdkafka's default)
  kReadUncommitted,  // every record written, aborted transactions included
};

struct ConsumedRecord {
  std::string key;
  std::string value;
  int32_t partition = 0;
  int64_t offset = 0;
  // Kafka's null key or value, as opposed to an empty one (key/value are "").
  bool null_key = false;
  bool null_value = false;
  int64_t timestamp = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // in order
};

// A record for TestCluster::produce_records.
struct ProducedRecord {
  std::optional<std::string> key;    // nullopt: a null key
  std::optional<std::string> value;  // nullopt: a null value
  int32_t partition = -1;            // -1 (RD_KAFKA_PARTITION_UA): the partitioner picks
  int64_t timestamp = 0;             // 0: now
};

class TestCluster {
 public:
  static Result<std::unique_ptr<TestCluster>> create(ClusterKind kind);
  ~TestCluster();

  const std::string& bootstrap() const { return bootstrap_; }
  ClusterKind kind() const { return kind_; }
  // Creates `topic`; on a real cluster through the admin API with the topic
  // configs `configs` (max.message.bytes, say), returning once every
  // partition has a leader (kafka_topics.h). The embedded broker takes no
  // configs and needs none: it has no record size limit and no time-based
  // retention.
  Status create_topic(const std::string& topic, int partitions, const std::map<std::string, std::string>& configs = {});
  // Produces (key, value) records with an idempotent producer and waits for
  // every acknowledgement.
  Status produce(const std::string& topic, const std::vector<std::pair<std::string, std::string>>& records);
  // The same, into one partition of the topic.
  Status produce_to(const std::string& topic, int32_t partition,
                    const std::vector<std::pair<std::string, std::string>>& records);
  // The same for records with null keys or values, partitions or timestamps
  // of their own. The producer takes records of up to 10 MB.
  Status produce_records(const std::string& topic, const std::vector<ProducedRecord>& records);
  // Total records in the topic (sum of high watermarks).
  Result<int64_t> count(const std::string& topic);
  // Waits until the topic holds at least `records`; false on timeout.
  bool wait_for_count(const std::string& topic, int64_t records, std::chrono::milliseconds timeout);
  // Every record in the topic now, in partition order, as a consumer with
  // `isolation` sees them. With kReadCommitted, waits until no transaction
  // is open on the topic (up to 120 s in all).
  Result<std::vector<ConsumedRecord>> read_all(const std::string& topic,
                                               Isolation isolation = Isolation::kReadCommitted);

 private:
  TestCluster() = default;
  // Partitions of `topic`, as the brokers describe it.
  Result<int> partition_count(const std::string& topic);

  ClusterKind kind_ = ClusterKind::kEmbedded;
  std::unique_ptr<EmbeddedBroker> embedded_;
  std::string bootstrap_;
  KafkaHandle producer_;
};

// A topic name no earlier test run used.
std::string unique_topic(const std::string& prefix);

}  // namespace kappa::testing
