#include "connectors/kafka/embedded_broker.h"

#include <librdkafka/rdkafka_mock.h>

namespace kappa {

Result<std::unique_ptr<EmbeddedBroker>> EmbeddedBroker::start() {
  std::unique_ptr<EmbeddedBroker> broker(new EmbeddedBroker());
  // The mock cluster needs a client handle to live in; this one never
  // connects anywhere.
  KafkaConf conf(rd_kafka_conf_new());
  rd_kafka_conf_set_log_cb(conf.get(), [](const rd_kafka_t*, int, const char*, const char*) {});
  KAPPA_ASSIGN_OR_RETURN(broker->handle_, make_kafka_client(KafkaRole::kProducer, std::move(conf)));
  broker->cluster_ = rd_kafka_mock_cluster_new(broker->handle_.get(), 1);
  if (broker->cluster_ == nullptr) return Status::internal("cannot start librdkafka's mock cluster");
  broker->bootstrap_ = rd_kafka_mock_cluster_bootstraps(broker->cluster_);
  return broker;
}

EmbeddedBroker::~EmbeddedBroker() {
  if (cluster_ != nullptr) rd_kafka_mock_cluster_destroy(cluster_);
}

Status EmbeddedBroker::create_topic(const std::string& topic, int partitions) {
  const rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, 1);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
    return Status::internal("cannot create topic '" + topic + "' on the embedded broker: " + kafka_error_text(err));
  }
  return Status::ok();
}

}  // namespace kappa
