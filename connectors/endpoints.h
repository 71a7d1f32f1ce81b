// Opens a job's input and output from its standard flags: a topic (Kafka,
// or the in-process embedded broker for `--brokers embedded`) or file:PATH.
#pragma once

#include <memory>
#include <vector>

#include "connectors/kafka/embedded_broker.h"
#include "connectors/kafka/kafka_transaction.h"
#include "runtime/job_options.h"
#include "runtime/sink.h"
#include "runtime/source.h"

namespace kappa {

struct Endpoints {
  std::unique_ptr<EmbeddedBroker> embedded_broker;  // set for --brokers embedded; outlives the clients
  std::unique_ptr<Sink> sink;
  std::unique_ptr<Sink> late_sink;  // set for --late-output
  std::vector<std::unique_ptr<Sink>> side_sinks;  // one per JobOptions::side_outputs; null when not given
  std::unique_ptr<Sink> dead_letter_sink;         // set for --on-error dlq: --dlq-topic
  std::unique_ptr<Source> source;
  // Set for --exactly-once: the transaction every Kafka sink writes in,
  // with the source's consumer group. Declared after the source it uses.
  std::unique_ptr<KafkaTransaction> transaction;
};

// The transactional.id of a job's producer with --exactly-once: the same
// for every incarnation of the job's one process, so that a restart fences
// the one before. Scale-out would need one per process (and state that
// follows partitions), which --exactly-once does not support.
std::string transactional_id(const JobOptions& options);

// Partitions of each topic the embedded broker creates for a job.
inline constexpr int kEmbeddedTopicPartitions = 8;

// How a job with a checkpoint resumes (see state/): where each partition
// resumes when the checkpoint has it (this wins over --from and the group's
// position), and whether file outputs are appended to (the job restarts
// from a checkpoint) rather than started afresh.
struct Resume {
  ResumeOffset offset;
  bool append_to_files = false;
};

// Connects and checks everything the flags name (brokers reachable, topics
// present, files readable or writable) so that a mistake fails here, with
// one message, before any record is read. With --exactly-once, every Kafka
// sink shares one transactional producer, whose start fences the job's
// previous incarnation and aborts its open transaction.
Result<Endpoints> open_endpoints(const JobOptions& options, Resume resume = {});

// The sinks of `endpoints` as the runtime takes them.
JobSinks job_sinks(const Endpoints& endpoints);

}  // namespace kappa
