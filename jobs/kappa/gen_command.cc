#include "jobs/kappa/gen_command.h"

#include <CLI/CLI.hpp>
#include <atomic>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <thread>

#include "connectors/codec/message_codec.h"
#include "connectors/file/jsonl_file_sink.h"
#include "connectors/kafka/kafka_client.h"
#include "runtime/iso_time.h"
#include "runtime/duration.h"
#include "runtime/output_batch.h"
#include "runtime/signals.h"

namespace kappa::gen {
namespace {

constexpr const char* kFilePrefix = JobOptions::kFilePrefix;
constexpr const char* kLabelHeader = "kappa.label";
// File lines are handed to the sink in batches of this many.
constexpr std::size_t kFileBatchSize = 1000;
constexpr std::chrono::milliseconds kFlushTimeout{30'000};

bool is_file(const std::string& target) { return target.rfind(kFilePrefix, 0) == 0; }
std::string file_path(const std::string& target) { return target.substr(std::string(kFilePrefix).size()); }

// --start: milliseconds since the epoch, or an ISO-8601 time.
std::optional<Timestamp> parse_start(const std::string& text) {
  Timestamp ms = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), ms);
  if (error == std::errc() && end == text.data() + text.size()) return ms;
  return parse_iso8601(text);
}

Status check_file_target(const std::string& flag, const std::string& target) {
  if (!is_file(target)) return Status::invalid_argument(flag + " takes file:PATH, not " + target);
  if (file_path(target).empty()) return Status::invalid_argument(flag + " file: needs a path, as in file:out.jsonl");
  return Status::ok();
}

// Checks what the flags cannot check one by one and fills in the defaults
// that depend on other flags.
Status finish_options(GenTransactionsOptions& options) {
  KAPPA_RETURN_IF_ERROR(TransactionGenerator::validate(options.generator));
  if (options.topic.empty() == options.output.empty()) {
    return Status::invalid_argument("give one of --topic T (with --brokers) or --output file:PATH");
  }
  const bool to_file = !options.output.empty();
  if (to_file) KAPPA_RETURN_IF_ERROR(check_file_target("--output", options.output));
  if (!options.labels_output.empty()) {
    KAPPA_RETURN_IF_ERROR(check_file_target("--labels-output", options.labels_output));
  }
  if (to_file && !options.count && !options.duration) {
    return Status::invalid_argument(
        "--output file: is written as fast as possible; bound it with --count or --duration");
  }
  if (!to_file && options.labels_topic.empty() && options.labels_output.empty()) {
    options.labels_topic = options.topic + "-labels";
  }
  const bool uses_kafka = !options.topic.empty() || !options.labels_topic.empty();
  if (uses_kafka && options.brokers.empty()) {
    return Status::invalid_argument("--brokers is needed to write to a topic (or set KAPPA_BROKERS)");
  }
  if (uses_kafka && options.brokers == "embedded") {
    return Status::invalid_argument(
        "--brokers embedded would end with this process; start `kappa broker` and pass its address");
  }
  if (options.format == WireFormat::kDefault) options.format = to_file ? WireFormat::kJson : WireFormat::kProtobuf;
  if (to_file && options.format == WireFormat::kProtobuf) {
    return Status::invalid_argument("--format protobuf needs --topic; --output files hold JSON lines");
  }
  return Status::ok();
}

// How many transactions to write: --count, or those scheduled within
// --duration, whichever is fewer; -1 for no bound.
int64_t transaction_limit(const GenTransactionsOptions& options) {
  int64_t limit = options.count.value_or(-1);
  if (options.duration) {
    // Transaction i is scheduled at i / rate s; those before the end are 0 .. ceil(duration * rate) - 1.
    const auto scheduled =
        static_cast<int64_t>(std::ceil(static_cast<double>(options.duration->count()) * options.generator.rate / 1000));
    limit = limit < 0 ? scheduled : std::min(limit, scheduled);
  }
  return limit;
}

// Where generated records go: Kafka topics through one idempotent producer,
// or JSON-lines files. Single-threaded: delivery reports are served on the
// caller's thread, in write(), poll() and flush().
class GenOutput {
 public:
  static Result<std::unique_ptr<GenOutput>> open(const GenTransactionsOptions& options);

  // Sends the transaction (key: card id) and its label (key: transaction id).
  Status write(const LabelledTransaction& labelled);
  // Serves delivery reports without blocking.
  void poll();
  // Waits until everything written is stored (delivered, or synced to disk).
  Status flush();

 private:
  // One stream of records: a topic or a file.
  struct Destination {
    std::unique_ptr<rd_kafka_topic_t, RdKafkaDeleter> topic;
    std::unique_ptr<JsonLinesFileSink> file;
    OutputBatch pending_lines;  // for a file: lines not handed to it yet
  };

  explicit GenOutput(WireFormat format) : codec_(format) {}
  Result<Destination> open_destination(const std::string& topic, const std::string& file_target);
  Status send(Destination& destination, std::string_view key, std::string_view value, Timestamp timestamp,
              std::string_view label);
  Status produce(Destination& destination, std::string_view key, std::string_view value, Timestamp timestamp,
                 std::string_view label);
  static Status write_pending_lines(Destination& destination);
  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque);

  MessageCodec<jobs::Transaction> codec_;
  std::string value_;      // reused encoding buffer
  KafkaHandle producer_;   // set when a topic is written; outlives the destinations' topic handles
  Status delivery_error_;  // the first failed delivery
  Destination transactions_;
  std::optional<Destination> labels_;
};

Result<std::unique_ptr<GenOutput>> GenOutput::open(const GenTransactionsOptions& options) {
  std::unique_ptr<GenOutput> output(new GenOutput(options.format));
  std::vector<std::string> topics;
  for (const std::string* topic : {&options.topic, &options.labels_topic}) {
    if (!topic->empty()) topics.push_back(*topic);
  }
  if (!topics.empty()) {
    KafkaClientOptions client;
    client.brokers = options.brokers;
    client.properties = options.kafka_properties;
    const std::map<std::string, std::string> defaults{
        {"enable.idempotence", "true"},
        // The Java clients' partitioner, as connectors/kafka/kafka_sink.cc: a
        // card lands on the partition where Java producers would put it.
        {"partitioner", "murmur2_random"},
        {"linger.ms", "5"},
        {"client.id", "kappa-gen"},
    };
    KAPPA_ASSIGN_OR_RETURN(KafkaConf conf, make_kafka_conf(KafkaRole::kProducer, client, defaults));
    rd_kafka_conf_set_opaque(conf.get(), output.get());
    rd_kafka_conf_set_dr_msg_cb(conf.get(), &GenOutput::on_delivery);
    KAPPA_ASSIGN_OR_RETURN(output->producer_, make_kafka_client(KafkaRole::kProducer, std::move(conf)));
    KAPPA_RETURN_IF_ERROR(
        describe_topics(output->producer_.get(), topics, client.brokers, client.connect_timeout).status());
  }
  KAPPA_ASSIGN_OR_RETURN(output->transactions_, output->open_destination(options.topic, options.output));
  if (!options.labels_topic.empty() || !options.labels_output.empty()) {
    KAPPA_ASSIGN_OR_RETURN(output->labels_, output->open_destination(options.labels_topic, options.labels_output));
  }
  return output;
}

Result<GenOutput::Destination> GenOutput::open_destination(const std::string& topic, const std::string& file_target) {
  Destination destination;
  if (!topic.empty()) {
    destination.topic.reset(rd_kafka_topic_new(producer_.get(), topic.c_str(), nullptr));
    if (!destination.topic) {
      return Status::internal("cannot open topic '" + topic + "': " + kafka_error_text(rd_kafka_last_error()));
    }
  } else {
    KAPPA_ASSIGN_OR_RETURN(destination.file, JsonLinesFileSink::open(file_path(file_target)));
  }
  return destination;
}

Status GenOutput::write(const LabelledTransaction& labelled) {
  const jobs::Transaction& t = labelled.transaction;
  value_.clear();
  codec_.encode(t, value_);
  KAPPA_RETURN_IF_ERROR(send(transactions_, t.card_id(), value_, t.event_time(), labelled.kind));
  if (!labels_) return Status::ok();
  return send(*labels_, t.transaction_id(), label_json(labelled), t.event_time(), labelled.kind);
}

Status GenOutput::send(Destination& destination, std::string_view key, std::string_view value, Timestamp timestamp,
                       std::string_view label) {
  if (destination.topic) return produce(destination, key, value, timestamp, label);
  destination.pending_lines.add(key, timestamp, [&](std::string& out) { out.append(value); });
  if (destination.pending_lines.size() < kFileBatchSize) return Status::ok();
  return write_pending_lines(destination);
}

Status GenOutput::produce(Destination& destination, std::string_view key, std::string_view value, Timestamp timestamp,
                          std::string_view label) {
  for (;;) {
    const rd_kafka_resp_err_t err = rd_kafka_producev(
        producer_.get(), RD_KAFKA_V_RKT(destination.topic.get()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(key.data(), key.size()), RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
        RD_KAFKA_V_TIMESTAMP(timestamp),
        RD_KAFKA_V_HEADER(kLabelHeader, label.data(), static_cast<ssize_t>(label.size())), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      return Status::data_loss("cannot write to topic '" + std::string(rd_kafka_topic_name(destination.topic.get())) +
                               "': " + kafka_error_text(err));
    }
    // Backpressure: wait for deliveries to make room.
    rd_kafka_poll(producer_.get(), 10);
    KAPPA_RETURN_IF_ERROR(delivery_error_);
  }
  poll();
  return delivery_error_;
}

void GenOutput::poll() {
  if (producer_) rd_kafka_poll(producer_.get(), 0);
}

Status GenOutput::write_pending_lines(Destination& destination) {
  const Status written = destination.file->write(destination.pending_lines);
  destination.pending_lines.clear();
  return written;
}

Status GenOutput::flush() {
  for (Destination* destination : {&transactions_, labels_ ? &*labels_ : nullptr}) {
    if (destination == nullptr || !destination->file) continue;
    KAPPA_RETURN_IF_ERROR(write_pending_lines(*destination));
    KAPPA_RETURN_IF_ERROR(destination->file->flush(kFlushTimeout));
  }
  if (!producer_) return Status::ok();
  const rd_kafka_resp_err_t err = rd_kafka_flush(producer_.get(), static_cast<int>(kFlushTimeout.count()));
  KAPPA_RETURN_IF_ERROR(delivery_error_);
  if (err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
    return Status::unavailable(std::to_string(rd_kafka_outq_len(producer_.get())) +
                               " record(s) not acknowledged within " + std::to_string(kFlushTimeout.count() / 1000) +
                               " s");
  }
  return Status::ok();
}

void GenOutput::on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  auto* output = static_cast<GenOutput*>(opaque);
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR || !output->delivery_error_.is_ok()) return;
  output->delivery_error_ =
      Status::data_loss("a record could not be written to topic '" + std::string(rd_kafka_topic_name(message->rkt)) +
                        "': " + kafka_error_text(message->err));
}

// Sleeps until `due`, serving delivery reports; false if a stop is requested first.
bool wait_until(std::chrono::steady_clock::time_point due, const std::atomic<bool>& stop, GenOutput& output) {
  constexpr std::chrono::milliseconds kLongestNap{100};  // how late a stop signal may be noticed
  for (;;) {
    if (stop.load(std::memory_order_relaxed)) return false;
    const auto now = std::chrono::steady_clock::now();
    if (now >= due) return true;
    output.poll();
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(due - now, kLongestNap));
  }
}

int report_error(const Status& status) {
  std::fprintf(stderr, "kappa gen: %s\n", status.message().c_str());
  return status.code() == StatusCode::kInvalidArgument ? 2 : 1;
}

}  // namespace

CLI::App* add_gen_transactions_command(CLI::App& app, GenTransactionsOptions& options) {
  CLI::App* gen = app.add_subcommand("gen", "Generate test data.");
  gen->require_subcommand(1);
  CLI::App* cmd = gen->add_subcommand(
      "transactions",
      "Write labelled synthetic card transactions, legitimate traffic with fraud incidents (card_testing, "
      "large_amount, impossible_travel, merchant_burst), to a topic at a fixed rate (open loop) or to a file, and "
      "their labels to a second topic or file. The same seed and flags give the same transactions.");
  cmd->add_option("--rate", options.generator.rate, "Transactions per second. Default: 1000.");
  cmd->add_option("--cards", options.generator.cards, "Cards, 1 to 1000000. Default: 10000.");
  cmd->add_option("--seed", options.generator.seed, "Seed of the generator. Default: 1.");
  cmd->add_option("--fraud-rate", options.generator.fraud_rate,
                  "Share of the transactions that are fraud, 0 to 0.5. Default: 0.01.");
  cmd->add_option("--count", options.count, "Stop after this many transactions.")->check(CLI::PositiveNumber);
  cmd->add_option_function<std::string>(
      "--duration",
      [&options](const std::string& text) {
        Result<std::chrono::milliseconds> duration = parse_duration(text);
        if (!duration.is_ok()) throw CLI::ValidationError("--duration", duration.status().message());
        if (duration->count() == 0) throw CLI::ValidationError("--duration", "must be more than 0");
        options.duration = *duration;
      },
      "Stop after the transactions scheduled within this much time (30s, 2m, ...). Default: run until SIGTERM "
      "or SIGINT.");
  cmd->add_option_function<std::string>(
      "--start",
      [&options](const std::string& text) {
        options.start = parse_start(text);
        if (!options.start) {
          throw CLI::ValidationError("--start", text + " is neither an ISO-8601 time nor milliseconds since 1970");
        }
      },
      "Event time of the first transaction: ISO-8601 (2026-11-21T10:00:00Z) or ms since the epoch. Default: now.");
  cmd->add_option("--brokers", options.brokers, "Kafka bootstrap servers (host:port,...), for topics.")
      ->envname("KAPPA_BROKERS");
  cmd->add_option("-X", options.kafka_properties, "A librdkafka producer property, key=value. Repeatable.")
      ->allow_extra_args(false);
  CLI::Option* topic = cmd->add_option("--topic", options.topic, "Topic to write the transactions to.");
  cmd->add_option("--output", options.output, "Or file:PATH: a JSON-lines file.")->excludes(topic);
  CLI::Option* labels_topic =
      cmd->add_option("--labels-topic", options.labels_topic, "Topic for the labels. Default: <topic>-labels.");
  cmd->add_option("--labels-output", options.labels_output, "Or file:PATH for the labels (JSON lines).")
      ->excludes(labels_topic);
  const std::map<std::string, WireFormat> formats{{"protobuf", WireFormat::kProtobuf}, {"json", WireFormat::kJson}};
  cmd->add_option("--format", options.format,
                  "Encoding of the transactions: protobuf or json. Default: protobuf for a topic, json for a file.")
      ->transform(CLI::CheckedTransformer(formats, CLI::ignore_case));
  cmd->add_flag("--no-pace", options.no_pace, "Write to the topic as fast as possible, event times unchanged.");
  return cmd;
}

int run_gen_transactions(GenTransactionsOptions options) {
  // First of all, so that a signal during start-up stops cleanly too.
  const std::atomic<bool>& stop = install_stop_signal_handlers();
  const Status valid = finish_options(options);
  if (!valid.is_ok()) return report_error(valid);
  Result<std::unique_ptr<GenOutput>> opened = GenOutput::open(options);
  if (!opened.is_ok()) return report_error(opened.status());
  GenOutput& output = **opened;

  TransactionGenerator generator(options.generator);
  // Both clocks read together, once the world is drawn, so that transaction i
  // is due at started + i / rate on the wall clock and stamped with that time
  // (unless --start says otherwise).
  const auto started = std::chrono::steady_clock::now();
  generator.set_start(options.start.value_or(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count()));
  const int64_t limit = transaction_limit(options);
  const bool paced = options.output.empty() && !options.no_pace;
  int64_t sent = 0;
  int64_t fraud = 0;
  Status status;
  while (sent != limit && !stop.load(std::memory_order_relaxed)) {
    if (paced) {
      const std::chrono::duration<double> offset(static_cast<double>(sent) / options.generator.rate);
      if (!wait_until(started + std::chrono::duration_cast<std::chrono::steady_clock::duration>(offset), stop,
                      output)) {
        break;
      }
    }
    const LabelledTransaction labelled = generator.next();
    status = output.write(labelled);
    if (!status.is_ok()) break;
    ++sent;
    fraud += labelled.fraud ? 1 : 0;
  }
  if (status.is_ok()) status = output.flush();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::fprintf(stderr, "kappa gen: %lld transactions (%lld fraud) in %.1f s, %.0f/s\n", static_cast<long long>(sent),
               static_cast<long long>(fraud), seconds, static_cast<double>(sent) / std::max(seconds, 1e-3));
  if (!status.is_ok()) return report_error(status);
  return 0;
}

}  // namespace kappa::gen
