// The input of the Kafka benchmarks: a topic filled through an idempotent
// producer, with keyed records of a known size or with JSON card events.
// Blocks the calling thread; not timed by the benchmarks.
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

// What produce_card_events() writes: `records` JSON card events
// (tests/support/card_events.h: event times rising ~9.5 ms an event, under
// 2 s of disorder) from seed `seed` over `cards` cards, keyed by the card
// and partitioned by the key's murmur2 hash as a Java producer does, so a
// card's events are all in one partition, in the order generated.
struct CardEventsSpec {
  std::string topic;
  int64_t records = 0;
  int cards = 1000;
  uint64_t seed = 1;
  // When set and true, produce_card_events() gives up early with kAborted.
  const std::atomic<bool>* stop = nullptr;
};

// What produce_card_events() wrote.
struct CardEventsWritten {
  int64_t first_event_ms = 0;  // the smallest event time
  int64_t last_event_ms = 0;   // the largest
  int64_t bytes = 0;           // keys + values
};

// Writes the events with an idempotent producer and waits until every one is
// acknowledged. Returns an error if any delivery failed.
Result<CardEventsWritten> produce_card_events(const KafkaClientOptions& client, const CardEventsSpec& spec);

}  // namespace kappa::bench
