#include "tests/support/test_cluster.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <map>
#include <thread>

namespace kappa::testing {

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
                                         {{"enable.idempotence", "true"}, {"partitioner", "murmur2_random"}}));
  KAPPA_ASSIGN_OR_RETURN(cluster->producer_, make_kafka_client(KafkaRole::kProducer, std::move(conf)));
  return cluster;
}

TestCluster::~TestCluster() { producer_.reset(); }

Status TestCluster::create_topic(const std::string& topic, int partitions) {
  if (embedded_) return embedded_->create_topic(topic, partitions);
  char errstr[256];
  rd_kafka_NewTopic_t* new_topic = rd_kafka_NewTopic_new(topic.c_str(), partitions, 1, errstr, sizeof errstr);
  if (new_topic == nullptr) return Status::invalid_argument(errstr);
  KafkaQueue queue(rd_kafka_queue_new(producer_.get()));
  rd_kafka_CreateTopics(producer_.get(), &new_topic, 1, nullptr, queue.get());
  rd_kafka_NewTopic_destroy(new_topic);
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue.get(), 30000);
  if (event == nullptr) return Status::unavailable("CreateTopics timed out");
  Status status;
  if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    status = Status::unavailable(rd_kafka_event_error_string(event));
  } else {
    std::size_t n = 0;
    const rd_kafka_topic_result_t** results =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &n);
    if (n == 1 && rd_kafka_topic_result_error(results[0]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      status = Status::unavailable(rd_kafka_topic_result_error_string(results[0]));
    }
  }
  rd_kafka_event_destroy(event);
  KAPPA_RETURN_IF_ERROR(status);
  // Wait until every partition has a leader, so jobs and producers see it.
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto described = describe_topics(producer_.get(), {topic}, bootstrap_, std::chrono::seconds(5));
    if (described.is_ok() && described->at(topic) == partitions) {
      auto marks = high_watermarks(topic);
      if (marks.is_ok()) return Status::ok();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Status::unavailable("topic " + topic + " did not become ready");
}

Status TestCluster::produce(const std::string& topic, const std::vector<std::pair<std::string, std::string>>& records) {
  for (const auto& [key, value] : records) {
    while (true) {
      rd_kafka_resp_err_t err = rd_kafka_producev(
          producer_.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_KEY(key.data(), key.size()), RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
          RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) return Status::unavailable("produce: " + kafka_error_text(err));
      rd_kafka_poll(producer_.get(), 10);
    }
    rd_kafka_poll(producer_.get(), 0);
  }
  if (rd_kafka_flush(producer_.get(), 60000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::unavailable("produce: not all records acknowledged within 60 s");
  }
  return Status::ok();
}

Result<std::vector<int64_t>> TestCluster::high_watermarks(const std::string& topic) {
  KAPPA_ASSIGN_OR_RETURN(auto partitions, describe_topics(producer_.get(), {topic}, bootstrap_, std::chrono::seconds(5)));
  std::vector<int64_t> marks;
  for (int p = 0; p < partitions.at(topic); ++p) {
    int64_t low = 0;
    int64_t high = 0;
    rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(producer_.get(), topic.c_str(), p, &low, &high, 5000);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return Status::unavailable("watermarks: " + kafka_error_text(err));
    marks.push_back(high);
  }
  return marks;
}

Result<int64_t> TestCluster::count(const std::string& topic) {
  KAPPA_ASSIGN_OR_RETURN(std::vector<int64_t> marks, high_watermarks(topic));
  int64_t total = 0;
  for (int64_t m : marks) total += m;
  return total;
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

Result<std::vector<ConsumedRecord>> TestCluster::read_all(const std::string& topic) {
  KAPPA_ASSIGN_OR_RETURN(std::vector<int64_t> ends, high_watermarks(topic));
  KAPPA_ASSIGN_OR_RETURN(KafkaConf conf, make_kafka_conf(KafkaRole::kConsumer, {bootstrap_, {}},
                                                         {{"group.id", unique_topic("reader")},
                                                          {"enable.auto.commit", "false"}}));
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
      records.push_back({std::string(static_cast<const char*>(m->key), m->key_len),
                         std::string(static_cast<const char*>(m->payload), m->len), m->partition, m->offset});
      auto it = remaining.find(m->partition);
      if (it != remaining.end() && m->offset + 1 >= it->second) remaining.erase(it);
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(consumer.get());
  return records;
}

}  // namespace kappa::testing
