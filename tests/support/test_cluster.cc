#include "tests/support/test_cluster.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <map>
#include <thread>

#include "tests/support/kafka_topics.h"

namespace kappa::testing {
namespace {

// The largest record produce_records() sends (librdkafka's default is 1 MB).
constexpr int kMaxRecordBytes = 10 * 1024 * 1024;

}  // namespace

std::string unique_topic(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + "-" + std::to_string(getpid()) + "-" + std::to_string(counter++) + "-" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000);
}

Result<std::unique_ptr<TestCluster>> TestCluster::create(ClusterKind kind) {
  std::unique_ptr<TestCluster> cluster(new TestCluster());
  cluster->kind_ = kind;
  if (kind == ClusterKind::kEmbedded) {
    KAPPA_ASSIGN_OR_RETURN(cluster->embedded_, EmbeddedBroker::start());
    cluster->bootstrap_ = cluster->embedded_->bootstrap();
  } else {
    const char* file = std::getenv("KAPPA_TEST_KAFKA_BOOTSTRAP_FILE");
    if (file == nullptr) {
      return Status::invalid_argument(
          "KAPPA_TEST_KAFKA_BOOTSTRAP_FILE is not set: run real-Kafka tests through ctest, whose fixture starts "
          "the broker");
    }
    std::ifstream in(file);
    std::getline(in, cluster->bootstrap_);
    if (cluster->bootstrap_.empty()) return Status::unavailable(std::string("no bootstrap address in ") + file);
  }
  KAPPA_ASSIGN_OR_RETURN(KafkaConf conf,
                         make_kafka_conf(KafkaRole::kProducer, {cluster->bootstrap_, {}},
                                         {{"enable.idempotence", "true"},
                                          {"partitioner", "murmur2_random"},
                                          {"message.max.bytes", std::to_string(kMaxRecordBytes)}}));
  KAPPA_ASSIGN_OR_RETURN(cluster->producer_, make_kafka_client(KafkaRole::kProducer, std::move(conf)));
  return cluster;
}

TestCluster::~TestCluster() { producer_.reset(); }

Status TestCluster::create_topic(const std::string& topic, int partitions,
                                 const std::map<std::string, std::string>& configs) {
  if (embedded_) return embedded_->create_topic(topic, partitions);
  return kappa::testing::create_topic(producer_.get(), topic, partitions, std::chrono::seconds(30), configs);
}

Status TestCluster::produce(const std::string& topic, const std::vector<std::pair<std::string, std::string>>& records) {
  return produce_to(topic, RD_KAFKA_PARTITION_UA, records);
}

Status TestCluster::produce_to(const std::string& topic, int32_t partition,
                               const std::vector<std::pair<std::string, std::string>>& records) {
  std::vector<ProducedRecord> produced;
  produced.reserve(records.size());
  for (const auto& [key, value] : records) produced.push_back({key, value, partition, 0});
  return produce_records(topic, produced);
}

Status TestCluster::produce_records(const std::string& topic, const std::vector<ProducedRecord>& records) {
  std::unique_ptr<rd_kafka_topic_t, RdKafkaDeleter> handle(rd_kafka_topic_new(producer_.get(), topic.c_str(), nullptr));
  if (handle == nullptr) {
    return Status::invalid_argument("topic '" + topic + "': " + kafka_error_text(rd_kafka_last_error()));
  }
  const auto nullable = [](const std::optional<std::string>& s) {
    return s ? std::string_view(*s) : std::string_view{};
  };
  for (const ProducedRecord& r : records) {
    KAPPA_RETURN_IF_ERROR(
        produce_record(producer_.get(), handle.get(), r.partition, nullable(r.key), nullable(r.value), r.timestamp));
  }
  return flush_producer(producer_.get(), std::chrono::seconds(60));
}

Result<int> TestCluster::partition_count(const std::string& topic) {
  KAPPA_ASSIGN_OR_RETURN(auto partitions,
                         describe_topics(producer_.get(), {topic}, bootstrap_, std::chrono::seconds(5)));
  return partitions.at(topic);
}

Result<int64_t> TestCluster::count(const std::string& topic) {
  KAPPA_ASSIGN_OR_RETURN(int partitions, partition_count(topic));
  return sum_end_offsets(producer_.get(), topic, partitions, std::chrono::seconds(5));
}

bool TestCluster::wait_for_count(const std::string& topic, int64_t records, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    Result<int64_t> n = count(topic);
    if (n.is_ok() && *n >= records) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

Result<std::vector<ConsumedRecord>> TestCluster::read_all(const std::string& topic, Isolation isolation) {
  KAPPA_ASSIGN_OR_RETURN(int partitions, partition_count(topic));
  // The ends come from the same ListOffsets request as count(), so a test
  // that waited for a count expects that many records back.
  KAPPA_ASSIGN_OR_RETURN(std::vector<int64_t> ends,
                         end_offsets(producer_.get(), topic, partitions, std::chrono::seconds(5)));
  // A partition is read to its end when a record at its last offset arrives
  // or the consumer reports the end there: with transactions the last
  // offset holds a commit or abort marker, which no consumer receives.
  KAPPA_ASSIGN_OR_RETURN(
      KafkaConf conf,
      make_kafka_conf(
          KafkaRole::kConsumer, {bootstrap_, {}},
          {{"group.id", unique_topic("reader")},
           {"enable.auto.commit", "false"},
           {"enable.partition.eof", "true"},
           {"isolation.level", isolation == Isolation::kReadCommitted ? "read_committed" : "read_uncommitted"}}));
  KAPPA_ASSIGN_OR_RETURN(KafkaHandle consumer, make_kafka_client(KafkaRole::kConsumer, std::move(conf)));
  KafkaPartitionList assignment(rd_kafka_topic_partition_list_new(static_cast<int>(ends.size())));
  std::map<int32_t, int64_t> remaining;
  for (std::size_t p = 0; p < ends.size(); ++p) {
    if (ends[p] == 0) continue;
    rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), static_cast<int32_t>(p))->offset =
        RD_KAFKA_OFFSET_BEGINNING;
    remaining[static_cast<int32_t>(p)] = ends[p];
  }
  std::vector<ConsumedRecord> records;
  if (remaining.empty()) return records;
  rd_kafka_assign(consumer.get(), assignment.get());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!remaining.empty()) {
    if (std::chrono::steady_clock::now() > deadline) return Status::unavailable("read_all timed out");
    rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer.get(), 100);
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      ConsumedRecord& r = records.emplace_back();
      if (m->key != nullptr) r.key.assign(static_cast<const char*>(m->key), m->key_len);
      if (m->payload != nullptr) r.value.assign(static_cast<const char*>(m->payload), m->len);
      r.partition = m->partition;
      r.offset = m->offset;
      r.null_key = m->key == nullptr;
      r.null_value = m->payload == nullptr;
      r.timestamp = rd_kafka_message_timestamp(m, nullptr);
      rd_kafka_headers_t* headers = nullptr;
      if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* name = nullptr;
        const void* value = nullptr;
        std::size_t size = 0;
        for (std::size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
             ++i) {
          r.headers.emplace_back(name, value == nullptr ? "" : std::string(static_cast<const char*>(value), size));
        }
      }
      auto it = remaining.find(m->partition);
      if (it != remaining.end() && m->offset + 1 >= it->second) remaining.erase(it);
    } else if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      // m->offset: the next offset to read (for read_committed, the end of
      // what is committed, short of the end while a transaction is open).
      auto it = remaining.find(m->partition);
      if (it != remaining.end() && m->offset >= it->second) remaining.erase(it);
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(consumer.get());
  return records;
}

}  // namespace kappa::testing
