#include "bench/input_topic.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>

#include "tests/support/card_events.h"
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

// An idempotent producer for one topic that counts its delivery reports.
class CountingProducer {
 public:
  static Result<std::unique_ptr<CountingProducer>> open(const KafkaClientOptions& client, const std::string& topic,
                                                        const std::map<std::string, std::string>& extra_defaults) {
    std::map<std::string, std::string> defaults{
        {"enable.idempotence", "true"},
        {"linger.ms", "20"},
        {"batch.num.messages", "10000"},
        {"queue.buffering.max.messages", "1000000"},
        {"queue.buffering.max.kbytes", "1048576"},
        {"client.id", "kappa-bench-input"},
    };
    for (const auto& [key, value] : extra_defaults) defaults[key] = value;
    std::unique_ptr<CountingProducer> out(new CountingProducer(topic));
    KAPPA_ASSIGN_OR_RETURN(KafkaConf conf, make_kafka_conf(KafkaRole::kProducer, client, defaults));
    rd_kafka_conf_set_opaque(conf.get(), &out->counts_);
    rd_kafka_conf_set_dr_msg_cb(conf.get(), &count_delivery);
    KAPPA_ASSIGN_OR_RETURN(out->producer_, make_kafka_client(KafkaRole::kProducer, std::move(conf)));
    out->topic_.reset(rd_kafka_topic_new(out->producer_.get(), topic.c_str(), nullptr));
    if (out->topic_ == nullptr) {
      return Status::invalid_argument("topic '" + topic + "': " + kafka_error_text(rd_kafka_last_error()));
    }
    return out;
  }

  Status produce(int32_t partition, std::string_view key, std::string_view value) {
    return testing::produce_record(producer_.get(), topic_.get(), partition, key, value);
  }

  // Waits for every delivery report; an error unless all `records` records
  // were acknowledged.
  Status finish(int64_t records) {
    if (Status flushed = testing::flush_producer(producer_.get(), std::chrono::seconds(300)); !flushed.is_ok()) {
      return Status(flushed.code(), "producing to '" + name_ + "': " + flushed.message());
    }
    if (counts_.failed > 0) {
      return Status::data_loss(std::to_string(counts_.failed) + " record(s) for '" + name_ +
                               "' failed: " + kafka_error_text(counts_.first_error));
    }
    if (counts_.delivered != records) {
      return Status::internal("producing to '" + name_ + "': " + std::to_string(counts_.delivered) + " of " +
                              std::to_string(records) + " records acknowledged");
    }
    return Status::ok();
  }

 private:
  explicit CountingProducer(std::string name) : name_(std::move(name)) {}

  std::string name_;
  DeliveryCounts counts_;  // written by delivery reports, served on this thread
  // Declared after counts_ so that it is destroyed first.
  KafkaHandle producer_;
  std::unique_ptr<rd_kafka_topic_t, RdKafkaDeleter> topic_;
};

Status check_stop(const std::atomic<bool>* stop, int64_t i) {
  if (stop != nullptr && i % 65536 == 0 && stop->load(std::memory_order_relaxed)) {
    return Status::aborted("interrupted while producing the input");
  }
  return Status::ok();
}

}  // namespace

Status produce_input(const KafkaClientOptions& client, const InputSpec& spec) {
  KAPPA_ASSIGN_OR_RETURN(std::unique_ptr<CountingProducer> producer, CountingProducer::open(client, spec.topic, {}));
  char key[kInputKeyBytes + 1];
  std::string value(spec.value_bytes, ' ');
  for (int64_t i = 0; i < spec.records; ++i) {
    KAPPA_RETURN_IF_ERROR(check_stop(spec.stop, i));
    std::snprintf(key, sizeof key, "key-%08" PRId64, i % 100'000'000);
    for (std::size_t j = 0; j < value.size(); ++j) value[j] = static_cast<char>('!' + (i + j * 7) % 90);
    KAPPA_RETURN_IF_ERROR(
        producer->produce(static_cast<int32_t>(i % spec.partitions), std::string_view(key, kInputKeyBytes), value));
  }
  return producer->finish(spec.records);
}

Result<CardEventsWritten> produce_card_events(const KafkaClientOptions& client, const CardEventsSpec& spec) {
  // The partitioner Java producers use (and the integration tests' clusters).
  KAPPA_ASSIGN_OR_RETURN(std::unique_ptr<CountingProducer> producer,
                         CountingProducer::open(client, spec.topic, {{"partitioner", "murmur2_random"}}));
  testing::CardEventGenerator events(spec.seed, spec.cards);
  CardEventsWritten written;
  written.first_event_ms = std::numeric_limits<int64_t>::max();
  written.last_event_ms = std::numeric_limits<int64_t>::min();
  std::string card, json;
  for (int64_t i = 0; i < spec.records; ++i) {
    KAPPA_RETURN_IF_ERROR(check_stop(spec.stop, i));
    const int64_t ts = events.next(card, json);
    written.first_event_ms = std::min(written.first_event_ms, ts);
    written.last_event_ms = std::max(written.last_event_ms, ts);
    written.bytes += static_cast<int64_t>(card.size() + json.size());
    KAPPA_RETURN_IF_ERROR(producer->produce(RD_KAFKA_PARTITION_UA, card, json));
  }
  KAPPA_RETURN_IF_ERROR(producer->finish(spec.records));
  return written;
}

}  // namespace kappa::bench
