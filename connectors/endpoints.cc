#include "connectors/endpoints.h"

#include <spdlog/spdlog.h>

#include "connectors/file/jsonl_file_sink.h"
#include "connectors/file/jsonl_file_source.h"
#include "connectors/kafka/kafka_sink.h"
#include "connectors/kafka/kafka_source.h"

namespace kappa {
namespace {

std::string file_path(const std::string& endpoint) { return endpoint.substr(std::string(JobOptions::kFilePrefix).size()); }

}  // namespace

Result<Endpoints> open_endpoints(const JobOptions& options) {
  Endpoints endpoints;
  KafkaClientOptions client{options.brokers, options.kafka_properties};
  const std::vector<std::string> input_topics = split_list(options.input);
  if (options.brokers == "embedded") {
    KAPPA_ASSIGN_OR_RETURN(endpoints.embedded_broker, EmbeddedBroker::start());
    std::vector<std::string> topics = options.input_is_file() ? std::vector<std::string>{} : input_topics;
    if (!options.output_is_file()) topics.push_back(options.output);
    for (const std::string& topic : topics) {
      KAPPA_RETURN_IF_ERROR(endpoints.embedded_broker->create_topic(topic, kEmbeddedTopicPartitions));
    }
    client.brokers = endpoints.embedded_broker->bootstrap();
    spdlog::info("embedded broker at {} with topics {} ({} partitions each)", client.brokers, fmt::join(topics, ","),
                 kEmbeddedTopicPartitions);
  }

  if (options.output_is_file()) {
    KAPPA_ASSIGN_OR_RETURN(endpoints.sink, JsonLinesFileSink::open(file_path(options.output)));
  } else {
    KAPPA_ASSIGN_OR_RETURN(endpoints.sink, KafkaSink::open(KafkaSinkOptions{client, options.output}));
  }

  if (options.input_is_file()) {
    endpoints.source = std::make_unique<JsonLinesFileSource>(file_path(options.input));
  } else {
    if (input_topics.empty()) return Status::invalid_argument("--input names no topic");
    endpoints.source = std::make_unique<KafkaSource>(KafkaSourceOptions{client, input_topics, options.job_id, options.from});
  }
  return endpoints;
}

}  // namespace kappa
