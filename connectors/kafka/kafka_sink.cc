#include "connectors/kafka/kafka_sink.h"

namespace kappa {

Result<std::unique_ptr<KafkaSink>> KafkaSink::open(KafkaSinkOptions options) {
  KafkaProducerOptions producer_options;
  producer_options.client = options.client;
  KAPPA_ASSIGN_OR_RETURN(std::shared_ptr<KafkaProducer> producer, KafkaProducer::open(std::move(producer_options)));
  return open(std::move(producer), std::move(options));
}

Result<std::unique_ptr<KafkaSink>> KafkaSink::open(std::shared_ptr<KafkaProducer> producer, KafkaSinkOptions options) {
  std::unique_ptr<KafkaSink> sink(new KafkaSink(std::move(producer), std::move(options)));
  rd_kafka_t* rk = sink->producer_->handle();
  KAPPA_RETURN_IF_ERROR(
      describe_topics(rk, {sink->options_.topic}, sink->options_.client.brokers, sink->options_.client.connect_timeout)
          .status());
  sink->topic_.reset(rd_kafka_topic_new(rk, sink->options_.topic.c_str(), nullptr));
  return sink;
}

Status KafkaSink::write(const OutputBatch& batch) {
  if (batch.plain()) {
    for (std::size_t i = 0; i < batch.size(); ++i) {
      KAPPA_RETURN_IF_ERROR(producer_->send(topic_.get(), batch.key(i), batch.value(i), batch.timestamp(i)));
    }
  } else {
    for (std::size_t i = 0; i < batch.size(); ++i) KAPPA_RETURN_IF_ERROR(write_exact(batch, i));
  }
  return producer_->delivery_error();
}

Status KafkaSink::write_exact(const OutputBatch& batch, std::size_t i) {
  rd_kafka_headers_t* headers = nullptr;
  batch.for_each_header(i, [&](const Header& h) {
    if (headers == nullptr) headers = rd_kafka_headers_new(8);
    rd_kafka_header_add(headers, h.key.data(), static_cast<ssize_t>(h.key.size()), h.value.data(),
                        static_cast<ssize_t>(h.value.size()));
  });
  return producer_->send_exact(topic_.get(), batch.nullable_key(i), batch.nullable_value(i), batch.timestamp(i),
                               headers);
}

Status KafkaSink::flush(std::chrono::milliseconds timeout) { return producer_->flush(timeout); }

}  // namespace kappa
