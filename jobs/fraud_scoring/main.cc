// fraud_scoring: scores every card transaction for fraud (README.md in this
// folder). Reads Transaction records keyed by card id, writes one FraudScore
// per transaction to --output and, with --features-output, the transaction
// with its features (TransactionFeatures) for training data.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "jobs/common/job.h"
#include "jobs/fraud_scoring/fraud_pipeline.h"
#include "runtime/duration.h"

namespace kappa::fraud {
namespace {

constexpr const char* kDescription =
    "fraud_scoring: scores card transactions for fraud.\n"
    "Input: Transaction records (jobs/proto/transaction.proto), keyed by card id so that a card's transactions "
    "share a partition. Per card it computes counts and sums over 1 minute, 1 hour and 24 hours, the 30-day mean "
    "and standard deviation, the amount's z-score, distinct merchants in 24 hours, the time since the card's "
    "previous transaction and the distance and speed from it; Half-Space Trees turn them into a score in [0, 1], "
    "and an alarm fires when a score reaches --threshold outside the card's quiet period.\n"
    "Output: one FraudScore per transaction (score, alarm, the features behind it, the top reasons).\n"
    "Example: fraud_scoring --brokers localhost:9092 --input transactions --output scores "
    "--features-output features";

void add_duration_flag(CLI::App& app, const std::string& name, int64_t& target_ms, const std::string& help) {
  app.add_option_function<std::string>(
      name,
      [name, &target_ms](const std::string& text) {
        Result<std::chrono::milliseconds> duration = parse_duration(text);
        if (!duration.is_ok()) throw CLI::ValidationError(name, duration.status().message());
        target_ms = duration->count();
      },
      help);
}

void add_model_flags(CLI::App& app, FraudModelOptions& o, int64_t& out_of_orderness_ms) {
  app.add_option("--threshold", o.alarm.threshold, "Scores at or above this alarm, in [0, 1]. Default: 0.2.");
  add_duration_flag(app, "--quiet-period", o.alarm.quiet_period_ms,
                    "After an alarm, a card raises no other for this long in event time. Default: 10m.");
  add_duration_flag(app, "--out-of-orderness", out_of_orderness_ms,
                    "How far event time may go back within a partition before a transaction is late. Default: 5s.");
  app.add_option("--trees", o.trees, "Half-Space Trees: number of trees. Default: 25.");
  app.add_option("--height", o.height, "Half-Space Trees: depth of each tree. Default: 9.");
  app.add_option("--window-size", o.window_size,
                 "Half-Space Trees: transactions per model window (per task). Default: 1000.");
  app.add_option("--seed", o.seed, "Half-Space Trees: seed of the random trees. Default: 1.");
  app.add_option("--reasons", o.top, "Reasons given with each score. Default: 3.");
}

}  // namespace
}  // namespace kappa::fraud

int main(int argc, char** argv) {
  using namespace kappa;
  Job job("fraud_scoring", fraud::kDescription);
  fraud::FraudModelOptions model;
  int64_t out_of_orderness_ms = model.out_of_orderness.count();
  job.add_flags([&](CLI::App& app) { fraud::add_model_flags(app, model, out_of_orderness_ms); });
  const std::size_t features = job.add_side_output("features", "Each transaction with its features (TransactionFeatures)");
  if (std::optional<int> code = job.parse(argc, argv)) return *code;
  model.out_of_orderness = std::chrono::milliseconds(out_of_orderness_ms);
  if (Status valid = model.validate(); !valid.is_ok()) return job.usage_error(valid.message());
  return job.run(fraud::fraud_pipeline(model, features, job.output_codec<jobs::TransactionFeatures>()));
}
