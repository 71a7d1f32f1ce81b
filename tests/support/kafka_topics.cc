#include "tests/support/kafka_topics.h"

#include <map>
#include <memory>
#include <thread>

namespace kappa::testing {
namespace {

using Clock = std::chrono::steady_clock;

int timeout_ms(std::chrono::milliseconds timeout) { return static_cast<int>(timeout.count()); }

// True once the topic has `partitions` partitions, each with a leader.
bool has_leaders(rd_kafka_t* rk, const std::string& topic, int partitions) {
  std::unique_ptr<rd_kafka_topic_t, RdKafkaDeleter> handle(rd_kafka_topic_new(rk, topic.c_str(), nullptr));
  const rd_kafka_metadata_t* metadata = nullptr;
  if (rd_kafka_metadata(rk, 0, handle.get(), &metadata, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR) return false;
  bool ready = metadata->topic_cnt == 1 && metadata->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
               metadata->topics[0].partition_cnt == partitions;
  for (int i = 0; ready && i < metadata->topics[0].partition_cnt; ++i) {
    const rd_kafka_metadata_partition_t& p = metadata->topics[0].partitions[i];
    ready = p.err == RD_KAFKA_RESP_ERR_NO_ERROR && p.leader >= 0;
  }
  rd_kafka_metadata_destroy(metadata);
  return ready;
}

// Sends CreateTopics and waits for its result.
Status request_topic(rd_kafka_t* rk, const std::string& topic, int partitions, std::chrono::milliseconds timeout,
                     const std::map<std::string, std::string>& configs) {
  char errstr[512];
  rd_kafka_NewTopic_t* new_topic = rd_kafka_NewTopic_new(topic.c_str(), partitions, 1, errstr, sizeof errstr);
  if (new_topic == nullptr) return Status::invalid_argument("topic '" + topic + "': " + errstr);
  for (const auto& [name, value] : configs) {
    if (rd_kafka_NewTopic_set_config(new_topic, name.c_str(), value.c_str()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_NewTopic_destroy(new_topic);
      return Status::invalid_argument("topic '" + topic + "': cannot set " + name + "=" + value);
    }
  }
  KafkaQueue results(rd_kafka_queue_new(rk));
  rd_kafka_CreateTopics(rk, &new_topic, 1, nullptr, results.get());
  rd_kafka_NewTopic_destroy(new_topic);
  rd_kafka_event_t* event = rd_kafka_queue_poll(results.get(), timeout_ms(timeout));
  if (event == nullptr) return Status::unavailable("creating topic '" + topic + "' timed out");
  std::unique_ptr<rd_kafka_event_t, void (*)(rd_kafka_event_t*)> owned(event, rd_kafka_event_destroy);
  if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::unavailable("creating topic '" + topic + "': " + rd_kafka_event_error_string(event));
  }
  std::size_t count = 0;
  const rd_kafka_topic_result_t** topics =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &count);
  for (std::size_t i = 0; i < count; ++i) {
    if (rd_kafka_topic_result_error(topics[i]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Status::unavailable("creating topic '" + topic +
                                 "': " + kafka_error_text(rd_kafka_topic_result_error(topics[i])));
    }
  }
  return Status::ok();
}

}  // namespace

Status create_topic(rd_kafka_t* rk, const std::string& topic, int partitions, std::chrono::milliseconds timeout,
                    const std::map<std::string, std::string>& configs) {
  KAPPA_RETURN_IF_ERROR(request_topic(rk, topic, partitions, timeout, configs));
  // Kafka creates the partitions asynchronously, and a new leader may refuse
  // requests for a moment after the metadata names it: wait for both.
  const auto deadline = Clock::now() + timeout;
  while (!has_leaders(rk, topic, partitions) ||
         !query_watermarks(rk, topic, partitions, std::chrono::milliseconds(5000)).is_ok()) {
    if (Clock::now() >= deadline) {
      return Status::unavailable("topic '" + topic + "' has partitions without a ready leader");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Status::ok();
}

Status produce_record(rd_kafka_t* producer, rd_kafka_topic_t* topic, int32_t partition, std::string_view key,
                      std::string_view value, int64_t timestamp) {
  for (;;) {
    const rd_kafka_resp_err_t err =
        rd_kafka_producev(producer, RD_KAFKA_V_RKT(topic), RD_KAFKA_V_PARTITION(partition),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key.data(), key.size()),
                          RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                          RD_KAFKA_V_TIMESTAMP(timestamp), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      return Status::unavailable("producing to '" + std::string(rd_kafka_topic_name(topic)) +
                                 "': " + kafka_error_text(err));
    }
    rd_kafka_poll(producer, 10);
  }
  rd_kafka_poll(producer, 0);
  return Status::ok();
}

Status flush_producer(rd_kafka_t* producer, std::chrono::milliseconds timeout) {
  if (rd_kafka_flush(producer, timeout_ms(timeout)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::unavailable("not every record acknowledged within " + std::to_string(timeout.count() / 1000) + " s");
  }
  return Status::ok();
}

Result<std::vector<PartitionOffsets>> query_watermarks(rd_kafka_t* rk, const std::string& topic, int partitions,
                                                       std::chrono::milliseconds timeout) {
  std::vector<PartitionOffsets> offsets(partitions);
  for (int p = 0; p < partitions; ++p) {
    const rd_kafka_resp_err_t err =
        rd_kafka_query_watermark_offsets(rk, topic.c_str(), p, &offsets[p].low, &offsets[p].high, timeout_ms(timeout));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Status::unavailable("watermarks of " + topic + "/" + std::to_string(p) + ": " + kafka_error_text(err));
    }
  }
  return offsets;
}

Result<std::vector<int64_t>> end_offsets(rd_kafka_t* rk, const std::string& topic, int partitions,
                                         std::chrono::milliseconds timeout) {
  KafkaPartitionList list(rd_kafka_topic_partition_list_new(partitions));
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p)->offset = kListLatest;
  }
  KAPPA_RETURN_IF_ERROR(list_offsets(rk, list.get(), timeout));
  std::vector<int64_t> ends(partitions);
  for (int i = 0; i < list->cnt; ++i) {
    const rd_kafka_topic_partition_t& tp = list->elems[i];
    if (tp.offset < 0 || tp.partition < 0 || tp.partition >= partitions) {
      return Status::unavailable("no end offset for " + topic + "/" + std::to_string(tp.partition));
    }
    ends[tp.partition] = tp.offset;
  }
  return ends;
}

Result<int64_t> sum_end_offsets(rd_kafka_t* rk, const std::string& topic, int partitions,
                                std::chrono::milliseconds timeout) {
  KAPPA_ASSIGN_OR_RETURN(std::vector<int64_t> ends, end_offsets(rk, topic, partitions, timeout));
  int64_t sum = 0;
  for (int64_t end : ends) sum += end;
  return sum;
}

}  // namespace kappa::testing
