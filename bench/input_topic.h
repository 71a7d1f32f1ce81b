// The input of the Kafka benchmarks: a topic filled with keyed records of a
// known size through an idempotent producer. Blocks the calling thread; not
// timed by the benchmarks.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "connectors/kafka/kafka_client.h"

namespace kappa::bench {

// What produce_input() writes: `records` records spread round-robin over
// `partitions` partitions (their counts differ by at most one); keys are
// "key-<8 digits>", all distinct; values are printable bytes that vary with
// the record number, so every record is key_bytes + value_bytes long.
struct InputSpec {
  std::string topic;
  int partitions = 16;
  int64_t records = 0;
  std::size_t value_bytes = 88;  // + a 12-byte key = 100 bytes a record
  // When set and true, produce_input() gives up early with kAborted.
  const std::atomic<bool>* stop = nullptr;
};

inline constexpr std::size_t kInputKeyBytes = 12;

// Writes the records with an idempotent producer and waits until every one
// is acknowledged. Returns an error if any delivery failed.
Status produce_input(const KafkaClientOptions& client, const InputSpec& spec);

}  // namespace kappa::bench
