// `kappa fraud-report`: watches a fraud-scoring job from the outside. It
// reads the job's scores topic and the generator's labels topic, prints each
// alert as it arrives (with the features behind it and the label, when the
// label is known), and at the end reports detection quality against the
// labels (average precision beside the base rate, alarm precision and
// recall), the rate of scores and the end-to-end latency from each
// transaction's creation (its event time, which `kappa gen transactions`
// sets to the intended send time) to its score's arrival here.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "runtime/job_options.h"

namespace CLI {
class App;
}

namespace kappa::fraud {

struct FraudReportOptions {
  std::string brokers;
  std::vector<std::string> kafka_properties;
  std::string scores_topic = "scores";
  std::string labels_topic = "transactions-labels";
  // Encoding of the scores: protobuf (default) or json.
  WireFormat format = WireFormat::kProtobuf;
  // How long to watch before reporting. Default: until SIGTERM or SIGINT.
  std::chrono::milliseconds duration{0};
  // After `duration`, keep reading until nothing arrived for this long, so
  // the scores of the last transactions are counted.
  std::chrono::milliseconds drain{3'000};
  // Print at most this many alerts (the report counts them all).
  int max_alerts = 40;
};

// Adds the `fraud-report` subcommand to `app`; returns it, to test whether it
// was parsed.
CLI::App* add_fraud_report_command(CLI::App& app, FraudReportOptions& options);

// Returns the exit code: 0 after the report, 1 when the topics cannot be read.
int run_fraud_report(const FraudReportOptions& options);

}  // namespace kappa::fraud
