// TopicReader: reads every partition of some topics from their beginning
// (or their end) without joining a consumer group, for tools that watch a
// job's output: `kappa fraud-report` and bench/fraud_latency. No group means
// no rebalance wait and no committed offsets left behind.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/kafka/kafka_client.h"
#include "runtime/status.h"

namespace kappa::fraud {

struct TopicMessage {
  std::string_view topic;
  std::string_view key;
  std::string_view value;
  int64_t timestamp_ms = 0;  // the record's Kafka timestamp
};

class TopicReader {
 public:
  enum class Start { kBeginning, kEnd };

  // Checks that the brokers answer and the topics exist, then assigns every
  // partition of them.
  static Result<std::unique_ptr<TopicReader>> open(const KafkaClientOptions& client,
                                                   const std::vector<std::string>& topics, Start start);
  ~TopicReader();

  // Hands every message that arrives within `timeout` to `on_message` (the
  // views last for the call); returns the number handed over.
  Result<std::size_t> poll(std::chrono::milliseconds timeout, const std::function<void(const TopicMessage&)>& on_message);

 private:
  TopicReader() = default;
  KafkaHandle consumer_;
};

}  // namespace kappa::fraud
