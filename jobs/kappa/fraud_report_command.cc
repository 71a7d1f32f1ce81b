#include "jobs/kappa/fraud_report_command.h"

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <unordered_map>

#include "connectors/codec/message_codec.h"
#include "jobs/fraud_scoring/evaluation.h"
#include "jobs/fraud_scoring/topic_reader.h"
#include "jobs/proto/transaction.pb.h"
#include "runtime/duration.h"
#include "runtime/signals.h"

namespace kappa::fraud {
namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct SeenScore {
  double score = 0;
  bool alarm = false;
  std::string card_id;
};

void print_alert(const jobs::FraudScore& score, const jobs::TransactionLabel* label) {
  std::string reasons;
  for (const jobs::ScoreReason& reason : score.reasons()) {
    if (!reasons.empty()) reasons += ", ";
    char text[96];
    std::snprintf(text, sizeof text, "%s=%.4g", reason.feature().c_str(), reason.value());
    reasons += text;
  }
  const std::string truth = label == nullptr ? "label not seen yet" : label->fraud() ? "FRAUD " + label->kind() : "legit";
  std::printf("ALERT %s %s amount %.2f score %.3f  [%s]  -> %s\n", score.card_id().c_str(),
              score.transaction_id().c_str(), score.amount(), score.score(), reasons.c_str(), truth.c_str());
  std::fflush(stdout);
}

// What the report has read so far.
struct Watched {
  std::unordered_map<std::string, SeenScore> scores;  // by transaction id
  std::unordered_map<std::string, jobs::TransactionLabel> labels;
  std::vector<double> latencies_ms;
  std::size_t undecodable = 0;
  int64_t first_arrival = 0;
  int64_t last_arrival = 0;
};

// Joins scores with labels and prints the report's figures.
void print_report(Watched& w) {
  std::vector<LabelledScore> joined;
  std::size_t unlabelled = 0;
  for (const auto& [id, seen] : w.scores) {
    auto l = w.labels.find(id);
    if (l == w.labels.end()) {
      ++unlabelled;
      continue;
    }
    joined.push_back({seen.score, seen.alarm, l->second.fraud(), std::to_string(l->second.incident())});
  }
  const DetectionQuality q = evaluate(joined);
  const LatencySummary latency = summarize_latency(w.latencies_ms);
  const double seconds = std::max(1e-3, static_cast<double>(w.last_arrival - w.first_arrival) / 1000.0);

  std::printf("\n== fraud report ==\n");
  std::printf("scored      %zu transactions (%zu labels read; %zu scores without a label%s)\n", w.scores.size(),
              w.labels.size(), unlabelled, w.undecodable > 0 ? "; some records did not decode" : "");
  std::printf("throughput  %.0f scores/s over %.1f s\n", static_cast<double>(w.scores.size()) / seconds, seconds);
  std::printf("latency     p50 %.1f ms  p99 %.1f ms  max %.1f ms  (transaction created -> score read back)\n",
              latency.p50_ms, latency.p99_ms, latency.max_ms);
  std::printf("fraud       %zu of %zu labelled transactions (base rate %.4f), %zu incidents\n", q.fraud,
              q.transactions, q.base_rate, q.incidents);
  std::printf("ranking     average precision %.3f (%.0fx the base rate)\n", q.average_precision,
              q.base_rate > 0 ? q.average_precision / q.base_rate : 0.0);
  std::printf("alarms      %zu: precision %.3f, recall %.3f of fraud transactions, %.3f of incidents\n", q.alarms,
              q.alarm_precision, q.alarm_recall, q.incident_recall);
  std::fflush(stdout);
}

}  // namespace

CLI::App* add_fraud_report_command(CLI::App& app, FraudReportOptions& options) {
  CLI::App* cmd = app.add_subcommand(
      "fraud-report",
      "Watch a fraud-scoring job: print its alerts as they arrive, then report precision, recall and average "
      "precision against the generator's labels, the rate of scores and the end-to-end latency from each "
      "transaction's creation to its score's arrival.");
  cmd->add_option("--brokers", options.brokers, "Kafka bootstrap servers.")->required();
  cmd->add_option("-X", options.kafka_properties, "A librdkafka property, key=value; repeatable.");
  cmd->add_option("--scores", options.scores_topic, "The job's scores topic. Default: scores.");
  cmd->add_option("--labels", options.labels_topic, "The generator's labels topic. Default: transactions-labels.");
  const std::map<std::string, WireFormat> formats{{"protobuf", WireFormat::kProtobuf}, {"json", WireFormat::kJson}};
  cmd->add_option("--format", options.format, "Encoding of the scores: protobuf or json. Default: protobuf.")
      ->transform(CLI::CheckedTransformer(formats, CLI::ignore_case));
  auto duration_flag = [cmd](const std::string& name, std::chrono::milliseconds& target, const std::string& help) {
    cmd->add_option_function<std::string>(
        name,
        [name, &target](const std::string& text) {
          Result<std::chrono::milliseconds> duration = parse_duration(text);
          if (!duration.is_ok()) throw CLI::ValidationError(name, duration.status().message());
          target = *duration;
        },
        help);
  };
  duration_flag("--duration", options.duration, "Report after this long (30s, 2m, ...). Default: at SIGTERM or SIGINT.");
  duration_flag("--drain", options.drain,
                "Then keep reading until nothing arrived for this long. Default: 3s.");
  cmd->add_option("--max-alerts", options.max_alerts, "Alerts printed at most (all are counted). Default: 40.");
  return cmd;
}

int run_fraud_report(const FraudReportOptions& options) {
  const std::atomic<bool>& stop = install_stop_signal_handlers();
  Result<std::unique_ptr<TopicReader>> reader =
      TopicReader::open(KafkaClientOptions{options.brokers, options.kafka_properties},
                        {options.scores_topic, options.labels_topic}, TopicReader::Start::kBeginning);
  if (!reader.is_ok()) {
    std::fprintf(stderr, "kappa fraud-report: %s\n", reader.status().message().c_str());
    return 1;
  }
  MessageCodec<jobs::FraudScore> score_codec(options.format);
  MessageCodec<jobs::TransactionLabel> label_codec(WireFormat::kJson);
  Watched w;
  int alerts_printed = 0;
  jobs::FraudScore score;
  jobs::TransactionLabel label;

  auto on_message = [&](const TopicMessage& m) {
    if (m.topic == options.labels_topic) {
      if (label_codec.decode(m.value, label).is_ok()) {
        w.labels[label.transaction_id()] = label;
      } else {
        ++w.undecodable;
      }
      return;
    }
    if (!score_codec.decode(m.value, score).is_ok()) {
      ++w.undecodable;
      return;
    }
    const int64_t arrival = now_ms();
    if (w.first_arrival == 0) w.first_arrival = arrival;
    w.last_arrival = arrival;
    // A score re-emitted after a restart is counted once, with its first arrival.
    auto [it, inserted] = w.scores.try_emplace(score.transaction_id(), SeenScore{score.score(), score.alarm(), score.card_id()});
    if (!inserted) return;
    w.latencies_ms.push_back(static_cast<double>(arrival - score.event_time()));
    if (score.alarm() && alerts_printed++ < options.max_alerts) {
      auto l = w.labels.find(score.transaction_id());
      print_alert(score, l == w.labels.end() ? nullptr : &l->second);
    }
  };

  const auto started = std::chrono::steady_clock::now();
  auto watching = [&] {
    if (stop.load()) return false;
    return options.duration.count() == 0 || std::chrono::steady_clock::now() - started < options.duration;
  };
  while (watching()) {
    Result<std::size_t> read = (*reader)->poll(std::chrono::milliseconds(200), on_message);
    if (!read.is_ok()) {
      std::fprintf(stderr, "kappa fraud-report: %s\n", read.status().message().c_str());
      return 1;
    }
  }
  // The last transactions' scores (and labels) are still on their way.
  for (;;) {
    Result<std::size_t> read = (*reader)->poll(options.drain, on_message);
    if (!read.is_ok() || *read == 0) break;
  }

  print_report(w);
  return 0;
}

}  // namespace kappa::fraud
