// kappa: the tools that go with compiled jobs.
//   kappa broker             run an embedded (test) Kafka broker on loopback
//   kappa gen transactions   write labelled synthetic card transactions (gen_command.h)
//   kappa fraud-report       watch a fraud-scoring job's alerts and quality (fraud_report_command.h)
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include "connectors/kafka/embedded_broker.h"
#include "jobs/kappa/fraud_report_command.h"
#include "jobs/kappa/gen_command.h"
#include "runtime/signals.h"

namespace {

struct BrokerOptions {
  int partitions = 8;
  std::string topics;
  std::string bootstrap_file;
};

int run_broker(const BrokerOptions& options) {
  const std::atomic<bool>& stop = kappa::install_stop_signal_handlers();
  auto broker = kappa::EmbeddedBroker::start();
  if (!broker.is_ok()) {
    std::fprintf(stderr, "kappa broker: %s\n", broker.status().message().c_str());
    return 1;
  }
  for (const std::string& topic : kappa::split_list(options.topics)) {
    kappa::Status created = (*broker)->create_topic(topic, options.partitions);
    if (!created.is_ok()) {
      std::fprintf(stderr, "kappa broker: %s\n", created.message().c_str());
      return 1;
    }
  }
  const std::string& bootstrap = (*broker)->bootstrap();
  if (!options.bootstrap_file.empty()) {
    // Written to a temporary name and renamed, so a reader never sees half.
    const std::string temporary = options.bootstrap_file + ".tmp";
    std::ofstream(temporary) << bootstrap << "\n";
    if (std::rename(temporary.c_str(), options.bootstrap_file.c_str()) != 0) {
      std::fprintf(stderr, "kappa broker: cannot write %s\n", options.bootstrap_file.c_str());
      return 1;
    }
  }
  std::printf("%s\n", bootstrap.c_str());
  std::fflush(stdout);
  while (!stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("Tools for Kappa jobs.", "kappa");
  app.require_subcommand(1);

  BrokerOptions broker;
  CLI::App* broker_cmd = app.add_subcommand(
      "broker",
      "Run an embedded Kafka broker (librdkafka's mock cluster) on loopback until SIGTERM; prints its bootstrap "
      "address. A test broker: about 5 MiB kept per partition (older records are dropped), nothing on disk, no "
      "transaction isolation.");
  broker_cmd->add_option("--partitions", broker.partitions, "Partitions of each topic created. Default: 8.")
      ->check(CLI::Range(1, 1000));
  broker_cmd->add_option("--topics", broker.topics, "Topics to create, comma-separated.");
  broker_cmd->add_option("--bootstrap-file", broker.bootstrap_file, "Also write the bootstrap address to this file.");

  kappa::gen::GenTransactionsOptions gen_transactions;
  CLI::App* gen_transactions_cmd = kappa::gen::add_gen_transactions_command(app, gen_transactions);

  kappa::fraud::FraudReportOptions fraud_report;
  CLI::App* fraud_report_cmd = kappa::fraud::add_fraud_report_command(app, fraud_report);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::fprintf(stderr, "kappa: %s; run with --help to see the commands\n", e.what());
    return 2;
  }
  if (broker_cmd->parsed()) return run_broker(broker);
  if (gen_transactions_cmd->parsed()) return kappa::gen::run_gen_transactions(gen_transactions);
  if (fraud_report_cmd->parsed()) return kappa::fraud::run_fraud_report(fraud_report);
  return 2;
}
