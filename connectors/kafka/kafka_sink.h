// KafkaSink: writes results to one topic through an idempotent producer.
//
// Results keep their key (so the default murmur2 partitioner puts a key in
// the same partition as Java clients would) and their event timestamp. A
// delivery failure is remembered and fails the next write() or flush(): the
// job stops instead of dropping output.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <thread>

#include "connectors/kafka/kafka_client.h"
#include "runtime/sink.h"

namespace kappa {

struct KafkaSinkOptions {
  KafkaClientOptions client;
  std::string topic;
};

class KafkaSink final : public Sink {
 public:
  // Connects, checks that the topic exists, and starts serving delivery reports.
  static Result<std::unique_ptr<KafkaSink>> open(KafkaSinkOptions options);
  ~KafkaSink() override;

  Status write(const OutputBatch& batch) override;
  Status flush(std::chrono::milliseconds timeout) override;

 private:
  explicit KafkaSink(KafkaSinkOptions options) : options_(std::move(options)) {}
  static void on_delivery(rd_kafka_t* rk, const rd_kafka_message_t* message, void* opaque);
  Status delivery_error();

  KafkaSinkOptions options_;
  KafkaHandle producer_;
  std::unique_ptr<rd_kafka_topic_t, RdKafkaDeleter> topic_;
  std::thread poller_;
  std::atomic<bool> stopping_{false};

  std::atomic<bool> failed_{false};
  std::mutex error_mu_;
  Status error_;  // the first delivery failure
};

}  // namespace kappa
