// Kafka topic tools for the integration tests and the benchmarks: create a
// topic through the admin API, produce records with back-pressure, and read
// partition offsets. Every function blocks the calling thread on `rk` (any
// client handle; a producer for the produce functions) and may be called from
// any thread that may use `rk`. A failure comes back as a Status that names
// the topic and gives librdkafka's reason.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/kafka/kafka_client.h"

namespace kappa::testing {

// Creates `topic` (replication factor 1, with the topic configs `configs`,
// such as max.message.bytes) and waits until every partition has a leader
// that answers offset requests, so that producers and consumers see the
// whole topic at once. `timeout` bounds the request and, separately, the
// wait. An existing topic is an error: callers always use fresh names.
Status create_topic(rd_kafka_t* rk, const std::string& topic, int partitions, std::chrono::milliseconds timeout,
                    const std::map<std::string, std::string>& configs = {});

// Hands one record (key and value copied) to `producer` for `partition` of
// `topic` (RD_KAFKA_PARTITION_UA: the producer's partitioner picks), with
// `timestamp` (0: now). A key or value whose data() is null is written as
// null, an empty one as empty. While the producer's queue is full it serves
// delivery reports and tries again, so a loop of calls runs at the broker's
// pace. Delivery reports are served after each record; failed deliveries
// reach the producer's delivery report callback, not the returned Status.
Status produce_record(rd_kafka_t* producer, rd_kafka_topic_t* topic, int32_t partition, std::string_view key,
                      std::string_view value, int64_t timestamp = 0);

// Waits up to `timeout` until every record handed to `producer` has been
// acknowledged or has failed; an error if some are still outstanding.
Status flush_producer(rd_kafka_t* producer, std::chrono::milliseconds timeout);

struct PartitionOffsets {
  int64_t low = 0;   // first offset still stored
  int64_t high = 0;  // offset of the next record to be written
};

// Low and high watermarks of partitions 0..partitions-1, one request each.
Result<std::vector<PartitionOffsets>> query_watermarks(rd_kafka_t* rk, const std::string& topic, int partitions,
                                                       std::chrono::milliseconds timeout);

// The end offsets (high watermarks) of partitions 0..partitions-1, in one
// ListOffsets request per broker.
Result<std::vector<int64_t>> end_offsets(rd_kafka_t* rk, const std::string& topic, int partitions,
                                         std::chrono::milliseconds timeout);

// The sum of the partitions' end offsets (high watermarks): on a topic that
// started empty, how many records have been written to it. One ListOffsets
// request per broker, so it can be polled often.
Result<int64_t> sum_end_offsets(rd_kafka_t* rk, const std::string& topic, int partitions,
                                std::chrono::milliseconds timeout);

}  // namespace kappa::testing
