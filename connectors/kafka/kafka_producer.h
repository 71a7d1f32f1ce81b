// KafkaProducer: the librdkafka producer behind a job's KafkaSinks, either
// one per sink (at-least-once) or one shared by all of them, transactional
// (--exactly-once), so that every output of the job is in one transaction.
//
// It serves delivery reports on a thread of its own (so a task only ever
// blocks on a full queue) and remembers the first delivery failure, which
// fails the next write() or flush() of every sink on it: the job stops
// instead of dropping output.
//
// Threads: send(), flush() and delivery_error() from any thread (tasks
// write concurrently); the transaction calls from one thread (the job
// runner's coordinator), while no send() is in flight.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "connectors/kafka/kafka_client.h"
#include "runtime/source.h"

namespace kappa {

struct KafkaProducerOptions {
  KafkaClientOptions client;
  // Set for exactly-once output: the producer's transactional.id, the same
  // for every incarnation of the process (so that a restart fences the one
  // before and aborts its open transaction). Empty: not transactional.
  std::string transactional_id;
  // transaction.timeout.ms: how long a transaction may stay open before the
  // broker aborts it; longer than a checkpoint interval. Default 60 s.
  std::chrono::milliseconds transaction_timeout{60'000};
  // How long one transaction call (init, offsets, commit, abort) may take,
  // retries included. Default 60 s.
  std::chrono::milliseconds call_timeout{60'000};
};

class KafkaProducer {
 public:
  // Creates the producer and starts serving delivery reports. With a
  // transactional id it also initialises transactions, which waits for the
  // previous incarnation's transaction to be aborted or completed.
  static Result<std::shared_ptr<KafkaProducer>> open(KafkaProducerOptions options);
  // Flushes (30 s at most) and stops.
  ~KafkaProducer();
  KafkaProducer(const KafkaProducer&) = delete;
  KafkaProducer& operator=(const KafkaProducer&) = delete;

  rd_kafka_t* handle() const { return producer_.get(); }
  bool transactional() const { return !options_.transactional_id.empty(); }

  // Hands one record (copied) to the producer for `topic`, waiting while its
  // queue is full. Fails with kDataLoss if it cannot, or if a delivery
  // failed earlier. An empty key is written as none (null).
  Status send(rd_kafka_topic_t* topic, std::string_view key, std::string_view value, int64_t timestamp);
  // The same for a record written as it came (a dead letter): a key or value
  // whose data() is null is written as null, an empty one as empty. Takes
  // `headers` (null: none) over in any case.
  Status send_exact(rd_kafka_topic_t* topic, std::string_view key, std::string_view value, int64_t timestamp,
                    rd_kafka_headers_t* headers);
  // Returns once every record sent so far is acknowledged; kUnavailable on
  // timeout, kDataLoss if one failed.
  Status flush(std::chrono::milliseconds timeout);
  // The first delivery failure, or OK.
  Status delivery_error();

  // Transactions (REQUIRES: transactional()). Errors are one sentence; after
  // a failed commit the transaction is aborted (or will be, by the next
  // incarnation) and the producer may not be usable again.
  Status begin_transaction();
  // Sends `positions` as the offsets of the consumer group `group` describes
  // (rd_kafka_consumer_group_metadata of the job's consumer), then commits.
  Status commit_transaction(const std::vector<PartitionPosition>& positions,
                            const rd_kafka_consumer_group_metadata_t* group);
  // Aborts the open transaction, if there is one.
  Status abort_transaction();

 private:
  explicit KafkaProducer(KafkaProducerOptions options) : options_(std::move(options)) {}
  static void on_delivery(rd_kafka_t* rk, const rd_kafka_message_t* message, void* opaque);
  Status init_transactions();

  KafkaProducerOptions options_;
  KafkaHandle producer_;
  std::thread poller_;
  std::atomic<bool> stopping_{false};
  bool in_transaction_ = false;  // coordinator thread only

  std::atomic<bool> failed_{false};
  std::mutex error_mu_;
  Status error_;  // the first delivery failure
};

}  // namespace kappa
