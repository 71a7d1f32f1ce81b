#include "bench/input_topic.h"

#include <cinttypes>
#include <cstdio>
#include <map>
#include <memory>

#include "tests/support/kafka_topics.h"

namespace kappa::bench {
namespace {

struct DeliveryCounts {
  int64_t delivered = 0;
  int64_t failed = 0;
  rd_kafka_resp_err_t first_error = RD_KAFKA_RESP_ERR_NO_ERROR;
};

void count_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  auto* counts = static_cast<DeliveryCounts*>(opaque);
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++counts->delivered;
  } else {
    if (counts->failed++ == 0) counts->first_error = message->err;
  }
}

}  // namespace

Status produce_input(const KafkaClientOptions& client, const InputSpec& spec) {
  const std::map<std::string, std::string> defaults{
      {"enable.idempotence", "true"},
      {"linger.ms", "20"},
      {"batch.num.messages", "10000"},
      {"queue.buffering.max.messages", "1000000"},
      {"queue.buffering.max.kbytes", "1048576"},
      {"client.id", "kappa-bench-input"},
  };
  DeliveryCounts counts;
  KAPPA_ASSIGN_OR_RETURN(KafkaConf conf, make_kafka_conf(KafkaRole::kProducer, client, defaults));
  rd_kafka_conf_set_opaque(conf.get(), &counts);
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &count_delivery);
  KAPPA_ASSIGN_OR_RETURN(KafkaHandle producer, make_kafka_client(KafkaRole::kProducer, std::move(conf)));
  std::unique_ptr<rd_kafka_topic_t, RdKafkaDeleter> topic(
      rd_kafka_topic_new(producer.get(), spec.topic.c_str(), nullptr));
  if (topic == nullptr) {
    return Status::invalid_argument("topic '" + spec.topic + "': " + kafka_error_text(rd_kafka_last_error()));
  }

  char key[kInputKeyBytes + 1];
  std::string value(spec.value_bytes, ' ');
  for (int64_t i = 0; i < spec.records; ++i) {
    if (spec.stop != nullptr && i % 65536 == 0 && spec.stop->load(std::memory_order_relaxed)) {
      return Status::aborted("interrupted while producing the input");
    }
    std::snprintf(key, sizeof key, "key-%08" PRId64, i % 100'000'000);
    for (std::size_t j = 0; j < value.size(); ++j) value[j] = static_cast<char>('!' + (i + j * 7) % 90);
    KAPPA_RETURN_IF_ERROR(testing::produce_record(producer.get(), topic.get(),
                                                  static_cast<int32_t>(i % spec.partitions),
                                                  std::string_view(key, kInputKeyBytes), value));
  }
  if (Status flushed = testing::flush_producer(producer.get(), std::chrono::seconds(300)); !flushed.is_ok()) {
    return Status(flushed.code(), "producing to '" + spec.topic + "': " + flushed.message());
  }
  if (counts.failed > 0) {
    return Status::data_loss(std::to_string(counts.failed) + " record(s) for '" + spec.topic +
                             "' failed: " + kafka_error_text(counts.first_error));
  }
  if (counts.delivered != spec.records) {
    return Status::internal("producing to '" + spec.topic + "': " + std::to_string(counts.delivered) + " of " +
                            std::to_string(spec.records) + " records acknowledged");
  }
  return Status::ok();
}

}  // namespace kappa::bench
