#include "connectors/kafka/kafka_client.h"

#include <spdlog/spdlog.h>

#include <sstream>

namespace kappa {
namespace {

void log_to_spdlog(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
  // Connection failures and the like are reported to the job through error
  // callbacks and start-up checks; here they are detail for --log-level debug.
  (void)level;
  spdlog::debug("librdkafka {} {}: {}", rd_kafka_name(rk), facility, message);
}

// `as_typed` is the property as the user wrote it (with any consumer. or
// producer. prefix), or empty for the job's own defaults.
Status set_property(rd_kafka_conf_t* conf, const std::string& key, const std::string& value,
                    const std::string& as_typed = "") {
  char errstr[512];
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
    if (!as_typed.empty()) return Status::invalid_argument("-X " + as_typed + ": " + errstr);
    return Status::internal("librdkafka rejected " + key + "=" + value + ": " + errstr);
  }
  return Status::ok();
}

}  // namespace

std::string kafka_error_text(rd_kafka_resp_err_t err) {
  return std::string(rd_kafka_err2str(err)) + " (" + rd_kafka_err2name(err) + ")";
}

std::vector<std::string> split_list(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  std::string part;
  while (std::getline(stream, part, separator)) {
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
}

Result<KafkaConf> make_kafka_conf(KafkaRole role, const KafkaClientOptions& options,
                                  const std::map<std::string, std::string>& defaults) {
  KafkaConf conf(rd_kafka_conf_new());
  rd_kafka_conf_set_log_cb(conf.get(), log_to_spdlog);
  KAPPA_RETURN_IF_ERROR(set_property(conf.get(), "bootstrap.servers", options.brokers));
  for (const auto& [key, value] : defaults) KAPPA_RETURN_IF_ERROR(set_property(conf.get(), key, value));
  const std::string own_prefix = role == KafkaRole::kConsumer ? "consumer." : "producer.";
  const std::string other_prefix = role == KafkaRole::kConsumer ? "producer." : "consumer.";
  for (const std::string& property : options.properties) {
    const auto eq = property.find('=');
    std::string key = property.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : property.substr(eq + 1);
    if (key.rfind(other_prefix, 0) == 0) continue;
    if (key.rfind(own_prefix, 0) == 0) key = key.substr(own_prefix.size());
    KAPPA_RETURN_IF_ERROR(set_property(conf.get(), key, value, property));
  }
  return conf;
}

Result<KafkaHandle> make_kafka_client(KafkaRole role, KafkaConf conf) {
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(role == KafkaRole::kConsumer ? RD_KAFKA_CONSUMER : RD_KAFKA_PRODUCER, conf.get(),
                                errstr, sizeof errstr);
  if (rk == nullptr) return Status::invalid_argument(std::string("cannot create the Kafka client: ") + errstr);
  conf.release();  // rd_kafka_new took ownership
  return KafkaHandle(rk);
}

Result<std::map<std::string, int>> describe_topics(rd_kafka_t* rk, const std::vector<std::string>& topics,
                                                   const std::string& brokers, std::chrono::milliseconds timeout) {
  // Ask for every topic rather than for these by name: a request naming a
  // topic makes brokers with auto-creation (and the embedded broker, always)
  // create it, and a misspelt --input would then quietly become a new topic.
  const rd_kafka_metadata_t* metadata = nullptr;
  const rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, nullptr, &metadata, static_cast<int>(timeout.count()));
  if (err == RD_KAFKA_RESP_ERR__TRANSPORT || err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
    return Status::unavailable("cannot reach Kafka at " + brokers + " within " +
                               std::to_string(timeout.count() / 1000) +
                               " s; check --brokers and that the brokers are running");
  }
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::unavailable("cannot read metadata from Kafka at " + brokers + ": " + kafka_error_text(err));
  }
  std::unique_ptr<const rd_kafka_metadata_t, void (*)(const rd_kafka_metadata_t*)> owned(metadata,
                                                                                          rd_kafka_metadata_destroy);
  std::map<std::string, int> partitions;
  for (const std::string& name : topics) {
    const rd_kafka_metadata_topic_t* found = nullptr;
    for (int i = 0; i < metadata->topic_cnt; ++i) {
      if (name == metadata->topics[i].topic) found = &metadata->topics[i];
    }
    if (found == nullptr || found->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || found->partition_cnt == 0) {
      return Status::not_found("topic '" + name + "' does not exist on " + brokers +
                               "; create it first or check the topic name");
    }
    if (found->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Status::unavailable("topic '" + name + "': " + kafka_error_text(found->err));
    }
    partitions[name] = found->partition_cnt;
  }
  return partitions;
}

Status list_offsets(rd_kafka_t* rk, rd_kafka_topic_partition_list_t* query, std::chrono::milliseconds timeout) {
  const rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(rk, query, static_cast<int>(timeout.count()));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return Status::unavailable("listing offsets failed: " + kafka_error_text(err));
  for (int i = 0; i < query->cnt; ++i) {
    const rd_kafka_topic_partition_t& tp = query->elems[i];
    if (tp.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Status::unavailable("listing the offsets of " + std::string(tp.topic) + "/" +
                                 std::to_string(tp.partition) + " failed: " + kafka_error_text(tp.err));
    }
  }
  return Status::ok();
}

}  // namespace kappa
