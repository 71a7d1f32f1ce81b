#include "connectors/endpoints.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "connectors/file/jsonl_file_sink.h"
#include "connectors/file/jsonl_file_source.h"
#include "connectors/kafka/kafka_sink.h"
#include "connectors/kafka/kafka_source.h"

namespace kappa {
namespace {

std::string file_path(const std::string& endpoint) {
  return endpoint.substr(std::string(JobOptions::kFilePrefix).size());
}

// `producer`: the job's shared transactional producer, or null for a
// producer per Kafka sink.
Result<std::unique_ptr<Sink>> open_sink(const std::string& endpoint, const KafkaClientOptions& client, bool append,
                                        const std::shared_ptr<KafkaProducer>& producer) {
  if (JobOptions::is_file(endpoint)) {
    return JsonLinesFileSink::open(file_path(endpoint),
                                   append ? JsonLinesFileSink::Mode::kAppend : JsonLinesFileSink::Mode::kCreate);
  }
  if (producer) return KafkaSink::open(producer, KafkaSinkOptions{client, endpoint});
  return KafkaSink::open(KafkaSinkOptions{client, endpoint});
}

// A transaction stays open for a checkpoint interval; the broker must not
// abort it first (its limit, transaction.max.timeout.ms, is 15 min).
std::chrono::milliseconds transaction_timeout(std::chrono::milliseconds checkpoint_interval) {
  return std::clamp<std::chrono::milliseconds>(3 * checkpoint_interval, std::chrono::minutes(1),
                                               std::chrono::minutes(15));
}

// Every topic the job reads or writes, to create on the embedded broker.
std::vector<std::string> job_topics(const JobOptions& options, const std::vector<std::string>& input_topics) {
  std::vector<std::string> topics = options.input_is_file() ? std::vector<std::string>{} : input_topics;
  if (!options.output_is_file()) topics.push_back(options.output);
  if (!options.late_output.empty() && !options.late_output_is_file()) topics.push_back(options.late_output);
  for (const SideOutputOption& side : options.side_outputs) {
    if (!side.endpoint.empty() && !JobOptions::is_file(side.endpoint)) topics.push_back(side.endpoint);
  }
  if (!options.dlq_topic.empty()) topics.push_back(options.dlq_topic);
  return topics;
}

// The results', late records', side outputs' and dead letters' sinks.
Status open_sinks(const JobOptions& options, const KafkaClientOptions& client, bool append,
                  const std::shared_ptr<KafkaProducer>& producer, Endpoints& endpoints) {
  KAPPA_ASSIGN_OR_RETURN(endpoints.sink, open_sink(options.output, client, append, producer));
  if (!options.late_output.empty()) {
    KAPPA_ASSIGN_OR_RETURN(endpoints.late_sink, open_sink(options.late_output, client, append, producer));
  }
  for (const SideOutputOption& side : options.side_outputs) {
    std::unique_ptr<Sink>& sink = endpoints.side_sinks.emplace_back();
    if (!side.endpoint.empty()) {
      KAPPA_ASSIGN_OR_RETURN(sink, open_sink(side.endpoint, client, append, producer));
    }
  }
  if (!options.dlq_topic.empty()) {
    // Always a topic (finish_job_options): dead letters carry headers.
    KAPPA_ASSIGN_OR_RETURN(endpoints.dead_letter_sink, open_sink(options.dlq_topic, client, append, producer));
  }
  return Status::ok();
}

}  // namespace

std::string transactional_id(const JobOptions& options) { return options.job_id + "-0"; }

Result<Endpoints> open_endpoints(const JobOptions& options, Resume resume) {
  Endpoints endpoints;
  KafkaClientOptions client{options.brokers, options.kafka_properties};
  const std::vector<std::string> input_topics = split_list(options.input);
  if (options.brokers == "embedded") {
    KAPPA_ASSIGN_OR_RETURN(endpoints.embedded_broker, EmbeddedBroker::start());
    const std::vector<std::string> topics = job_topics(options, input_topics);
    for (const std::string& topic : topics) {
      KAPPA_RETURN_IF_ERROR(endpoints.embedded_broker->create_topic(topic, kEmbeddedTopicPartitions));
    }
    client.brokers = endpoints.embedded_broker->bootstrap();
    spdlog::info("embedded broker at {} with topics {} ({} partitions each)", client.brokers, fmt::join(topics, ","),
                 kEmbeddedTopicPartitions);
  }

  std::shared_ptr<KafkaProducer> producer;
  if (options.exactly_once) {
    KafkaProducerOptions producer_options;
    producer_options.client = client;
    producer_options.transactional_id = transactional_id(options);
    producer_options.transaction_timeout = transaction_timeout(options.checkpoint_interval);
    KAPPA_ASSIGN_OR_RETURN(producer, KafkaProducer::open(std::move(producer_options)));
    spdlog::info("exactly-once output: transactional producer '{}' ready", transactional_id(options));
  }
  KAPPA_RETURN_IF_ERROR(open_sinks(options, client, resume.append_to_files, producer, endpoints));

  if (options.input_is_file()) {
    endpoints.source = std::make_unique<JsonLinesFileSource>(file_path(options.input), resume.offset);
  } else {
    if (input_topics.empty()) return Status::invalid_argument("--input names no topic");
    auto source = std::make_unique<KafkaSource>(KafkaSourceOptions{.client = client,
                                                                   .topics = input_topics,
                                                                   .group_id = options.job_id,
                                                                   .from = options.from,
                                                                   .from_time_ms = options.from_time_ms,
                                                                   .from_offsets = options.from_offsets,
                                                                   .until = options.until,
                                                                   .until_time_ms = options.until_time_ms,
                                                                   .resume_offset = resume.offset});
    if (producer) endpoints.transaction = std::make_unique<KafkaTransaction>(producer, *source);
    endpoints.source = std::move(source);
  }
  return endpoints;
}

JobSinks job_sinks(const Endpoints& endpoints) {
  std::vector<Sink*> side;
  for (const auto& sink : endpoints.side_sinks) side.push_back(sink.get());
  return JobSinks(endpoints.sink.get(), endpoints.late_sink.get(), std::move(side), endpoints.dead_letter_sink.get());
}

}  // namespace kappa
