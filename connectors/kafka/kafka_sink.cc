#include "connectors/kafka/kafka_sink.h"

#include <spdlog/spdlog.h>

namespace kappa {

Result<std::unique_ptr<KafkaSink>> KafkaSink::open(KafkaSinkOptions options) {
  std::unique_ptr<KafkaSink> sink(new KafkaSink(std::move(options)));
  const std::map<std::string, std::string> defaults{
      {"enable.idempotence", "true"},
      // The Java clients' partitioner, so a key lands where Kafka Streams and
      // Java producers would put it.
      {"partitioner", "murmur2_random"},
      {"linger.ms", "5"},
      {"client.id", "kappa-producer"},
  };
  KAPPA_ASSIGN_OR_RETURN(KafkaConf conf, make_kafka_conf(KafkaRole::kProducer, sink->options_.client, defaults));
  rd_kafka_conf_set_opaque(conf.get(), sink.get());
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &KafkaSink::on_delivery);
  KAPPA_ASSIGN_OR_RETURN(sink->producer_, make_kafka_client(KafkaRole::kProducer, std::move(conf)));
  KAPPA_RETURN_IF_ERROR(describe_topics(sink->producer_.get(), {sink->options_.topic}, sink->options_.client.brokers,
                                        sink->options_.client.connect_timeout)
                            .status());
  sink->topic_.reset(rd_kafka_topic_new(sink->producer_.get(), sink->options_.topic.c_str(), nullptr));
  // Delivery reports are served here, not on task threads, so a task only
  // ever blocks on a full producer queue.
  sink->poller_ = std::thread([s = sink.get()] {
    while (!s->stopping_.load(std::memory_order_relaxed)) rd_kafka_poll(s->producer_.get(), 100);
  });
  return sink;
}

KafkaSink::~KafkaSink() {
  if (producer_) {
    Status flushed = flush(std::chrono::seconds(30));
    if (!flushed.is_ok()) spdlog::error("closing the producer: {}", flushed.message());
  }
  stopping_ = true;
  if (poller_.joinable()) poller_.join();
  topic_.reset();
}

void KafkaSink::on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
  auto* sink = static_cast<KafkaSink*>(opaque);
  std::lock_guard lock(sink->error_mu_);
  if (sink->failed_.load(std::memory_order_relaxed)) return;
  sink->error_ = Status::data_loss("a result could not be written to topic '" + sink->options_.topic +
                                   "': " + kafka_error_text(message->err));
  sink->failed_.store(true, std::memory_order_release);
}

Status KafkaSink::delivery_error() {
  if (!failed_.load(std::memory_order_acquire)) return Status::ok();
  std::lock_guard lock(error_mu_);
  return error_;
}

Status KafkaSink::write(const OutputBatch& batch) {
  for (std::size_t i = 0; i < batch.size();) {
    const std::string_view key = batch.key(i);
    const std::string_view value = batch.value(i);
    const rd_kafka_resp_err_t err = rd_kafka_producev(
        producer_.get(), RD_KAFKA_V_RKT(topic_.get()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
        RD_KAFKA_V_KEY(key.empty() ? nullptr : key.data(), key.size()), RD_KAFKA_V_TIMESTAMP(batch.timestamp(i)),
        RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      ++i;
      continue;
    }
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      return Status::data_loss("cannot write to topic '" + options_.topic + "': " + kafka_error_text(err));
    }
    // Backpressure: wait for deliveries to make room, unless one failed.
    KAPPA_RETURN_IF_ERROR(delivery_error());
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return delivery_error();
}

Status KafkaSink::flush(std::chrono::milliseconds timeout) {
  const rd_kafka_resp_err_t err = rd_kafka_flush(producer_.get(), static_cast<int>(timeout.count()));
  KAPPA_RETURN_IF_ERROR(delivery_error());
  if (err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
    return Status::unavailable(std::to_string(rd_kafka_outq_len(producer_.get())) + " result(s) for topic '" +
                               options_.topic + "' not acknowledged within " +
                               std::to_string(timeout.count() / 1000) + " s");
  }
  return Status::ok();
}

}  // namespace kappa
