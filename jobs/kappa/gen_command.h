// `kappa gen transactions`: writes the labelled synthetic card transactions
// of jobs/gen/transaction_generator.h to a Kafka topic (each record keyed by
// card id, timestamped with its event time, with header kappa.label = its
// kind) or to a JSON-lines file, and their labels to a second topic or file.
//
// Open loop: transaction i is sent at start + i / rate on the wall clock, and
// that intended time is its event time; a sender that falls behind sends at
// once and never shifts the schedule, so the offered load does not bend to
// the system under test. Files, and topics with --no-pace, are written as
// fast as possible with the same event times.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "jobs/gen/transaction_generator.h"
#include "runtime/job_options.h"

namespace CLI {
class App;
}

namespace kappa::gen {

struct GenTransactionsOptions {
  // Seed, cards, rate and fraud rate; start_ms is set from `start`.
  GeneratorOptions generator;
  // Event time of the first transaction. Default: now.
  std::optional<Timestamp> start;
  // Stop after this many transactions, or after those scheduled within
  // `duration`, whichever comes first. Default: at SIGTERM or SIGINT.
  std::optional<int64_t> count;
  std::optional<std::chrono::milliseconds> duration;
  // Kafka bootstrap servers and -X properties; needed for topics.
  std::string brokers;
  std::vector<std::string> kafka_properties;
  // The transactions: a topic, or `output` = file:PATH (JSON lines).
  std::string topic;
  std::string output;
  // The labels: a topic (default: <topic>-labels when `topic` is set) or
  // file:PATH; none when writing to a file without --labels-output.
  std::string labels_topic;
  std::string labels_output;
  // Encoding of transactions: protobuf (default for a topic) or json (files).
  WireFormat format = WireFormat::kDefault;
  // Write to a topic as fast as possible rather than at `rate`.
  bool no_pace = false;
};

// Adds `gen` with its `transactions` subcommand to `app`, parsing into
// `options`; returns `transactions`, to test whether it was parsed.
CLI::App* add_gen_transactions_command(CLI::App& app, GenTransactionsOptions& options);

// Runs the command until the bound or a stop signal. Returns the process exit
// code: 0 when done or stopped, 1 when an output fails (no broker, no topic,
// a failed delivery), 2 when the flags do not fit together. Prints one line
// per error, and a summary line, on stderr.
int run_gen_transactions(GenTransactionsOptions options);

}  // namespace kappa::gen
