// KafkaSink: writes results to one topic through a KafkaProducer
// (idempotent; transactional with --exactly-once).
//
// Results keep their key (so the default murmur2 partitioner puts a key in
// the same partition as Java clients would) and their event timestamp;
// entries with headers (dead letters) are written with them, a null key or
// value as null. A delivery failure is remembered and fails the next write()
// or flush(): the job stops instead of dropping output.
#pragma once

#include <memory>
#include <string>

#include "connectors/kafka/kafka_client.h"
#include "connectors/kafka/kafka_producer.h"
#include "runtime/sink.h"

namespace kappa {

struct KafkaSinkOptions {
  KafkaClientOptions client;
  std::string topic;
};

class KafkaSink final : public Sink {
 public:
  // Connects a producer of its own (idempotent, not transactional) and
  // checks that the topic exists.
  static Result<std::unique_ptr<KafkaSink>> open(KafkaSinkOptions options);
  // Writes through `producer`, which other sinks may share (with
  // --exactly-once every output of a job is in the producer's one
  // transaction). Checks that the topic exists.
  static Result<std::unique_ptr<KafkaSink>> open(std::shared_ptr<KafkaProducer> producer, KafkaSinkOptions options);

  Status write(const OutputBatch& batch) override;
  // Flushes the producer: every sink sharing it is flushed too.
  Status flush(std::chrono::milliseconds timeout) override;

 private:
  KafkaSink(std::shared_ptr<KafkaProducer> producer, KafkaSinkOptions options)
      : options_(std::move(options)), producer_(std::move(producer)) {}
  // Writes entry i of a batch that is not plain(), headers and nulls kept.
  Status write_exact(const OutputBatch& batch, std::size_t i);

  KafkaSinkOptions options_;
  // Declared before topic_: the topic handle goes before its producer.
  std::shared_ptr<KafkaProducer> producer_;
  std::unique_ptr<rd_kafka_topic_t, RdKafkaDeleter> topic_;
};

}  // namespace kappa
