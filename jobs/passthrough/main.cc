// passthrough: copies every record's value and key unchanged. It measures
// what the runtime itself costs (bench/kafka_throughput) and is a template
// for jobs over raw bytes: string_view values are the records' own bytes, so
// nothing is copied between the consumer and the producer.
#include <string_view>

#include "jobs/common/job.h"

int main(int argc, char** argv) {
  kappa::Job job("passthrough", "Copies every record from the input to the output unchanged.");
  return job.run(argc, argv, kappa::pipeline<std::string_view>().map([](std::string_view value) { return value; }));
}
