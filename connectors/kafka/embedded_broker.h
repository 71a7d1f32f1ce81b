// EmbeddedBroker: librdkafka's mock cluster on loopback, for demos and tests.
//
// It speaks the Kafka protocol, so any client can use it, but it is a test
// broker: about 5 MiB kept per partition (older records are dropped, so a
// consumer that falls far behind loses data), nothing on disk, no isolation
// levels (aborted transactions are visible), offsets sent inside
// transactions dropped, offset commits refused during a rebalance.
#pragma once

#include <memory>
#include <string>

#include "connectors/kafka/kafka_client.h"

struct rd_kafka_mock_cluster_s;

namespace kappa {

class EmbeddedBroker {
 public:
  // Starts a one-broker cluster on a free loopback port.
  static Result<std::unique_ptr<EmbeddedBroker>> start();
  ~EmbeddedBroker();

  // Creates `topic` with `partitions` partitions (no-op if it exists).
  Status create_topic(const std::string& topic, int partitions);
  // host:port to use as bootstrap.servers.
  const std::string& bootstrap() const { return bootstrap_; }

 private:
  EmbeddedBroker() = default;
  KafkaHandle handle_;  // the client the mock cluster hangs off
  rd_kafka_mock_cluster_s* cluster_ = nullptr;
  std::string bootstrap_;
};

}  // namespace kappa
