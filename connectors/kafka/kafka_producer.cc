#include "connectors/kafka/kafka_producer.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace kappa {
namespace {

using Clock = std::chrono::steady_clock;

// What a transactional call's error says to do, in one place.
struct TransactionError {
  std::string text;
  bool retriable = false;
  bool requires_abort = false;
};

// Takes (and destroys) `error`; nullopt for success.
std::optional<TransactionError> take_error(rd_kafka_error_t* error) {
  if (error == nullptr) return std::nullopt;
  TransactionError out;
  const rd_kafka_resp_err_t code = rd_kafka_error_code(error);
  out.text = std::string(rd_kafka_error_string(error)) + " (" + rd_kafka_err2name(code) + ")";
  if (code == RD_KAFKA_RESP_ERR__FENCED || code == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
      code == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH) {
    out.text += ": a newer process with the same transactional.id took over (one process per --job-id)";
  }
  out.retriable = rd_kafka_error_is_retriable(error) != 0;
  out.requires_abort = rd_kafka_error_txn_requires_abort(error) != 0;
  rd_kafka_error_destroy(error);
  return out;
}

// Before calling again after a retriable error, which may have come at once.
constexpr std::chrono::milliseconds kRetryPause{100};

// Milliseconds left until `deadline`, at least 1.
int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::max<int64_t>(left, 1));
}

}  // namespace

Result<std::shared_ptr<KafkaProducer>> KafkaProducer::open(KafkaProducerOptions options) {
  std::shared_ptr<KafkaProducer> producer(new KafkaProducer(std::move(options)));
  std::map<std::string, std::string> defaults{
      {"enable.idempotence", "true"},
      // The Java clients' partitioner, so a key lands where Kafka Streams and
      // Java producers would put it.
      {"partitioner", "murmur2_random"},
      {"linger.ms", "5"},
      {"client.id", "kappa-producer"},
  };
  if (producer->transactional()) {
    defaults["transactional.id"] = producer->options_.transactional_id;
    defaults["transaction.timeout.ms"] = std::to_string(producer->options_.transaction_timeout.count());
  }
  KAPPA_ASSIGN_OR_RETURN(KafkaConf conf, make_kafka_conf(KafkaRole::kProducer, producer->options_.client, defaults));
  rd_kafka_conf_set_opaque(conf.get(), producer.get());
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &KafkaProducer::on_delivery);
  KAPPA_ASSIGN_OR_RETURN(producer->producer_, make_kafka_client(KafkaRole::kProducer, std::move(conf)));
  producer->poller_ = std::thread([p = producer.get()] {
    while (!p->stopping_.load(std::memory_order_relaxed)) rd_kafka_poll(p->producer_.get(), 100);
  });
  if (producer->transactional()) KAPPA_RETURN_IF_ERROR(producer->init_transactions());
  return producer;
}

KafkaProducer::~KafkaProducer() {
  if (producer_) {
    Status flushed = flush(std::chrono::seconds(30));
    if (!flushed.is_ok()) spdlog::error("closing the producer: {}", flushed.message());
  }
  stopping_ = true;
  if (poller_.joinable()) poller_.join();
}

void KafkaProducer::on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
  auto* producer = static_cast<KafkaProducer*>(opaque);
  std::lock_guard lock(producer->error_mu_);
  if (producer->failed_.load(std::memory_order_relaxed)) return;
  producer->error_ =
      Status::data_loss("a result could not be written to topic '" + std::string(rd_kafka_topic_name(message->rkt)) +
                        "': " + kafka_error_text(message->err));
  producer->failed_.store(true, std::memory_order_release);
}

Status KafkaProducer::delivery_error() {
  if (!failed_.load(std::memory_order_acquire)) return Status::ok();
  std::lock_guard lock(error_mu_);
  return error_;
}

Status KafkaProducer::send(rd_kafka_topic_t* topic, std::string_view key, std::string_view value, int64_t timestamp) {
  return send_exact(topic, key.empty() ? std::string_view{} : key, value, timestamp, nullptr);
}

Status KafkaProducer::send_exact(rd_kafka_topic_t* topic, std::string_view key, std::string_view value,
                                 int64_t timestamp, rd_kafka_headers_t* headers) {
  // librdkafka owns the headers once a record is accepted; until then, we do.
  std::unique_ptr<rd_kafka_headers_t, void (*)(rd_kafka_headers_t*)> owned(headers, rd_kafka_headers_destroy);
  while (true) {
    const rd_kafka_resp_err_t err =
        rd_kafka_producev(producer_.get(), RD_KAFKA_V_RKT(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                          RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                          RD_KAFKA_V_KEY(key.data(), key.size()), RD_KAFKA_V_TIMESTAMP(timestamp),
                          RD_KAFKA_V_HEADERS(owned.get()), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      owned.release();
      return Status::ok();
    }
    if (err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
      return Status::data_loss("cannot write a record of " + std::to_string(key.size() + value.size()) +
                               " bytes to topic '" + std::string(rd_kafka_topic_name(topic)) +
                               "': it is over the producer's message.max.bytes (raise it with -X "
                               "producer.message.max.bytes=N, and the topic's max.message.bytes to match)");
    }
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      return Status::data_loss("cannot write to topic '" + std::string(rd_kafka_topic_name(topic)) +
                               "': " + kafka_error_text(err));
    }
    // Backpressure: wait for deliveries to make room, unless one failed.
    KAPPA_RETURN_IF_ERROR(delivery_error());
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

Status KafkaProducer::flush(std::chrono::milliseconds timeout) {
  const rd_kafka_resp_err_t err = rd_kafka_flush(producer_.get(), static_cast<int>(timeout.count()));
  KAPPA_RETURN_IF_ERROR(delivery_error());
  if (err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
    return Status::unavailable(std::to_string(rd_kafka_outq_len(producer_.get())) +
                               " result(s) not acknowledged within " + std::to_string(timeout.count() / 1000) + " s");
  }
  return Status::ok();
}

Status KafkaProducer::init_transactions() {
  const Clock::time_point deadline = Clock::now() + options_.call_timeout;
  while (true) {
    std::optional<TransactionError> error =
        take_error(rd_kafka_init_transactions(producer_.get(), remaining_ms(deadline)));
    if (!error) return Status::ok();
    if (error->retriable && Clock::now() + kRetryPause < deadline) {
      std::this_thread::sleep_for(kRetryPause);
      continue;
    }
    return Status::unavailable("cannot start transactions as '" + options_.transactional_id + "' on " +
                               options_.client.brokers + ": " + error->text);
  }
}

Status KafkaProducer::begin_transaction() {
  KAPPA_CHECK(transactional(), "begin_transaction on a producer without a transactional.id");
  if (std::optional<TransactionError> error = take_error(rd_kafka_begin_transaction(producer_.get()))) {
    return Status::unavailable("cannot begin a transaction: " + error->text);
  }
  in_transaction_ = true;
  return Status::ok();
}

Status KafkaProducer::commit_transaction(const std::vector<PartitionPosition>& positions,
                                         const rd_kafka_consumer_group_metadata_t* group) {
  KAPPA_CHECK(transactional(), "commit_transaction on a producer without a transactional.id");
  const Clock::time_point deadline = Clock::now() + options_.call_timeout;
  // An abortable error leaves the transaction to abort; the caller stops.
  auto give_up = [&](const std::string& step, const TransactionError& error) {
    std::string message = step + ": " + error.text;
    if (error.requires_abort) {
      Status aborted = abort_transaction();
      message += aborted.is_ok() ? "; the transaction was aborted" : "; aborting it failed too: " + aborted.message();
    }
    return Status::unavailable(message);
  };
  if (!positions.empty()) {
    KafkaPartitionList offsets(rd_kafka_topic_partition_list_new(static_cast<int>(positions.size())));
    for (const PartitionPosition& p : positions) {
      rd_kafka_topic_partition_list_add(offsets.get(), p.partition.topic.c_str(), p.partition.partition)->offset =
          p.next_offset;
    }
    while (true) {
      std::optional<TransactionError> error = take_error(
          rd_kafka_send_offsets_to_transaction(producer_.get(), offsets.get(), group, remaining_ms(deadline)));
      if (!error) break;
      if (error->retriable && !error->requires_abort && Clock::now() + kRetryPause < deadline) {
        std::this_thread::sleep_for(kRetryPause);
        continue;
      }
      return give_up("cannot add the input offsets to the transaction", *error);
    }
  }
  while (true) {
    std::optional<TransactionError> error =
        take_error(rd_kafka_commit_transaction(producer_.get(), remaining_ms(deadline)));
    if (!error) {
      in_transaction_ = false;
      return Status::ok();
    }
    if (error->retriable && !error->requires_abort && Clock::now() + kRetryPause < deadline) {
      std::this_thread::sleep_for(kRetryPause);
      continue;
    }
    return give_up("cannot commit the transaction", *error);
  }
}

Status KafkaProducer::abort_transaction() {
  KAPPA_CHECK(transactional(), "abort_transaction on a producer without a transactional.id");
  if (!in_transaction_) return Status::ok();
  const Clock::time_point deadline = Clock::now() + options_.call_timeout;
  while (true) {
    std::optional<TransactionError> error =
        take_error(rd_kafka_abort_transaction(producer_.get(), remaining_ms(deadline)));
    if (!error) {
      in_transaction_ = false;
      return Status::ok();
    }
    if (error->retriable && Clock::now() + kRetryPause < deadline) {
      std::this_thread::sleep_for(kRetryPause);
      continue;
    }
    return Status::unavailable("cannot abort the transaction: " + error->text);
  }
}

}  // namespace kappa
