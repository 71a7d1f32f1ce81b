// fraud_latency: the fraud_scoring job's end-to-end latency under a fixed,
// open-loop load (DESIGN.md §8), on real Apache Kafka and on the embedded
// broker.
//
// Each run (one broker, one rate) uses fresh topics and a fresh job process:
//   1. fraud_scoring starts as a child process; the run waits until it holds
//      its input partitions;
//   2. this process reads the scores topic (TopicReader: no consumer group);
//   3. `kappa gen transactions --rate R` (a child process) sends transaction
//      i at start + i / R on the wall clock, whatever happens downstream;
//   4. a score's latency is its arrival here minus its transaction's
//      intended send time, so a stall in the sender, the broker or the job
//      shows up in the figures instead of slowing the offered load down;
//   5. once the sender is done, the run waits (up to 10 s) for the last
//      scores; a transaction without a score fails the run. SIGTERM then
//      stops the job, which must exit 0.
// Scores of transactions scheduled in the first --warmup seconds are not
// counted. See bench/README.md.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_process.h"
#include "bench/local_kafka.h"
#include "connectors/kafka/embedded_broker.h"
#include "jobs/fraud_scoring/evaluation.h"
#include "jobs/fraud_scoring/topic_reader.h"
#include "jobs/proto/transaction.pb.h"
#include "tests/support/child_process.h"
#include "tests/support/kafka_topics.h"

#ifndef KAPPA_FRAUD_SCORING_PATH
#define KAPPA_FRAUD_SCORING_PATH "fraud_scoring"
#endif
#ifndef KAPPA_TOOL_PATH
#define KAPPA_TOOL_PATH "kappa"
#endif
#ifndef KAPPA_KAFKA_LOCAL_PATH
#define KAPPA_KAFKA_LOCAL_PATH "scripts/kafka-local"
#endif

namespace kappa::bench {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using testing::ChildProcess;

// librdkafka settings per kind of broker, given before the user's -X and
// --gen-X, which win.
//
// Apache Kafka answers a fetch as soon as a record arrives, so the default
// fetch.wait.max.ms (500 ms) costs consumers no latency; and on 2 cores the
// producers' default linger.ms (5 ms) gives lower latencies than 0 to 2 ms,
// whose many small requests cost the broker more CPU than the wait saves
// (bench/README.md has the figures). Real Kafka gets the clients' defaults.
//
// The embedded broker holds an empty fetch for the whole fetch.wait.max.ms,
// even when records arrive meanwhile, so there consumers ask for 1 ms.
struct ClientTuning {
  std::vector<std::string> job;        // as the job's -X
  std::vector<std::string> generator;  // as the generator's -X
  std::vector<std::string> reader;     // for this process's reader of the scores
};

ClientTuning tuning_for(const std::string& broker_kind) {
  if (broker_kind == "embedded") return {{"consumer.fetch.wait.max.ms=1"}, {}, {"fetch.wait.max.ms=1"}};
  return {};
}

constexpr milliseconds kTopicTimeout{30'000};
constexpr milliseconds kAssignmentTimeout{60'000};
constexpr milliseconds kReadSlice{100};        // how often the read loop looks at its children
constexpr milliseconds kDrainTimeout{10'000};  // for the last scores, once the sender is done
constexpr milliseconds kSenderGrace{60'000};   // beyond its schedule, for the sender to finish
constexpr milliseconds kJobStopGrace{60'000};

struct Flags {
  std::string brokers = "both";
  std::vector<int64_t> rates{20'000, 50'000};
  int partitions = 8;
  int duration_s = 20;
  int warmup_s = 3;
  int broker_warmup_s = 10;
  int job_threads = 2;
  int64_t cards = 200'000;
  bool json = false;
  bool quick = false;
  bool keep_logs = false;
  bool bare = false;
  bool timeline = false;
  std::string fraud_scoring = KAPPA_FRAUD_SCORING_PATH;
  std::string kappa_tool = KAPPA_TOOL_PATH;
  std::string kafka_local = KAPPA_KAFKA_LOCAL_PATH;
  std::vector<std::string> job_properties;        // -X
  std::vector<std::string> generator_properties;  // --gen-X
};

// A broker the runs use: its address and how to create a topic on it.
struct BrokerAccess {
  std::string kind;  // "real" or "embedded"
  std::string bootstrap;
  ClientTuning tuning;
  std::function<Status(const std::string& topic)> create_topic;
};

// The outcome of one run. Problems make the run (and the benchmark) fail,
// but its figures are still printed.
struct RunReport {
  std::string broker;
  int64_t rate = 0;
  int64_t sent = 0;               // transactions, from the generator's summary line
  double sender_rps = 0;          // the generator's own rate over its whole life
  int64_t scored = 0;             // transactions with at least one score
  int64_t duplicates = 0;         // scores beyond the first of a transaction
  fraud::LatencySummary latency;  // over the scores after the warm-up
  double achieved_rps = 0;        // those scores / the time over which they arrived
  double job_cpu_s = -1;
  std::vector<std::string> problems;
};

double wall_clock_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::system_clock::now().time_since_epoch()).count();
}

Status check_interrupted() {
  if (interrupted().load(std::memory_order_relaxed)) return Status::aborted("interrupted");
  return Status::ok();
}

// Turns the scores read back into latencies.
//
// Transaction i is "tx-<i>" with event time start_ms + floor(i * 1000 / rate)
// (jobs/gen/transaction_generator.h), where start_ms is the sender's wall
// clock, in whole ms, when its schedule began. Its intended send time is
// taken as start_ms + i * 1000 / rate rather than its event time, which is
// rounded down to a whole ms. What remains is that start_ms itself was
// rounded down: every latency of a run may be overstated by the same amount,
// less than 1 ms.
class LatencyCollector {
 public:
  LatencyCollector(double rate, int64_t warmup_transactions) : rate_(rate), warmup_transactions_(warmup_transactions) {}

  // Takes the transaction id and event time that one message read back
  // carries, read at `arrival_ms` on the wall clock.
  void add(const std::string& transaction_id, int64_t event_time_ms, double arrival_ms) {
    const std::optional<int64_t> index = transaction_index(transaction_id);
    if (!index || !on_schedule(*index, event_time_ms)) {
      ++unreadable_;
      return;
    }
    if (static_cast<std::size_t>(*index) >= seen_.size()) seen_.resize(static_cast<std::size_t>(*index) + 1, false);
    if (seen_[*index]) {
      ++duplicates_;
      return;
    }
    seen_[*index] = true;
    ++scored_;
    if (*index < warmup_transactions_) return;
    latencies_ms_.push_back(arrival_ms -
                            (static_cast<double>(*start_ms_) + static_cast<double>(*index) * 1000 / rate_));
    send_seconds_.push_back(static_cast<int32_t>(static_cast<double>(*index) / rate_));
    first_arrival_ms_ = std::min(first_arrival_ms_, arrival_ms);
    last_arrival_ms_ = std::max(last_arrival_ms_, arrival_ms);
  }
  // Counts a message that does not decode.
  void add_unreadable() { ++unreadable_; }

  int64_t scored() const { return scored_; }
  int64_t duplicates() const { return duplicates_; }
  // Scores that do not decode, or whose transaction id or event time do not
  // follow the generator's schedule.
  int64_t unreadable() const { return unreadable_; }
  // Latencies of the scores after the warm-up, in arrival order.
  const std::vector<double>& measured_latencies_ms() const { return latencies_ms_; }
  // The same, split by the second of the schedule in which each transaction
  // was due to be sent (empty for the warm-up seconds).
  std::vector<std::vector<double>> latencies_by_send_second() const {
    std::vector<std::vector<double>> seconds;
    for (std::size_t i = 0; i < latencies_ms_.size(); ++i) {
      const auto second = static_cast<std::size_t>(send_seconds_[i]);
      if (second >= seconds.size()) seconds.resize(second + 1);
      seconds[second].push_back(latencies_ms_[i]);
    }
    return seconds;
  }
  // Scores after the warm-up per second of the span over which they arrived.
  double achieved_rps() const {
    const double span_s = (last_arrival_ms_ - first_arrival_ms_) / 1000;
    return latencies_ms_.size() > 1 && span_s > 0 ? static_cast<double>(latencies_ms_.size() - 1) / span_s : 0;
  }

 private:
  static std::optional<int64_t> transaction_index(const std::string& id) {
    constexpr std::string_view kPrefix = "tx-";
    if (id.rfind(kPrefix, 0) != 0) return std::nullopt;
    int64_t index = -1;
    const char* end = id.data() + id.size();
    const auto [parsed_to, error] = std::from_chars(id.data() + kPrefix.size(), end, index);
    if (error != std::errc() || parsed_to != end || index < 0) return std::nullopt;
    return index;
  }

  // Learns start_ms from the first score; every later one must agree.
  bool on_schedule(int64_t index, int64_t event_time_ms) {
    const auto offset_ms = static_cast<int64_t>(std::floor(static_cast<double>(index) * 1000.0 / rate_));
    const int64_t start_ms = event_time_ms - offset_ms;
    if (!start_ms_) start_ms_ = start_ms;
    return *start_ms_ == start_ms;
  }

  double rate_;
  int64_t warmup_transactions_;
  std::optional<int64_t> start_ms_;
  std::vector<bool> seen_;  // by transaction index
  int64_t scored_ = 0;
  int64_t duplicates_ = 0;
  int64_t unreadable_ = 0;
  std::vector<double> latencies_ms_;
  std::vector<int32_t> send_seconds_;  // of latencies_ms_[i]'s transaction
  double first_arrival_ms_ = HUGE_VAL;
  double last_arrival_ms_ = -HUGE_VAL;
};

Status child_failed(const std::string& what, const ChildProcess& child, const std::string& log_path) {
  return Status::unavailable(what + "; its log (" + log_path + ") ends with:\n" + child.output_tail(15));
}

// Adds `-X property` for each property to a command line.
void append_properties(std::vector<std::string>& argv, const std::vector<std::string>& properties) {
  for (const std::string& property : properties) {
    argv.push_back("-X");
    argv.push_back(property);
  }
}

// Starts the job and waits until its consumer holds its partitions, so that
// the group join is not part of the measurement.
Result<std::unique_ptr<ChildProcess>> start_job(const Flags& flags, const BrokerAccess& broker,
                                                const std::string& input, const std::string& output,
                                                const std::string& job_id, const std::string& log_path) {
  std::vector<std::string> argv{flags.fraud_scoring,
                                "--brokers",
                                broker.bootstrap,
                                "--input",
                                input,
                                "--output",
                                output,
                                "--job-id",
                                job_id,
                                "--checkpoint-interval",
                                "10s",
                                "--threads",
                                std::to_string(flags.job_threads)};
  append_properties(argv, broker.tuning.job);
  append_properties(argv, flags.job_properties);
  KAPPA_ASSIGN_OR_RETURN(std::unique_ptr<ChildProcess> job, ChildProcess::spawn(argv, log_path));
  const auto deadline = Clock::now() + kAssignmentTimeout;
  // The job's Kafka source logs "assigned N partition(s); ..." (kafka_source.cc).
  while (job->output().find("assigned") == std::string::npos) {
    KAPPA_RETURN_IF_ERROR(check_interrupted());
    if (!job->running()) {
      return child_failed("the job stopped on its own (" + job->describe_exit() + ")", *job, log_path);
    }
    if (Clock::now() > deadline) return child_failed("the job got no partitions within 60 s", *job, log_path);
    std::this_thread::sleep_for(milliseconds(50));
  }
  return job;
}

// The generator's labels go to `labels_path`, not to a topic: nothing here
// reads them, and on 2 cores a labels topic would double the broker's work.
Result<std::unique_ptr<ChildProcess>> start_sender(const Flags& flags, const BrokerAccess& broker,
                                                   const std::string& topic, const std::string& labels_path,
                                                   int64_t rate, const std::string& log_path) {
  std::vector<std::string> argv{flags.kappa_tool,
                                "gen",
                                "transactions",
                                "--brokers",
                                broker.bootstrap,
                                "--topic",
                                topic,
                                "--rate",
                                std::to_string(rate),
                                "--duration",
                                std::to_string(flags.warmup_s + flags.duration_s) + "s",
                                "--cards",
                                std::to_string(flags.cards),
                                "--seed",
                                "1",
                                "--labels-output",
                                "file:" + labels_path};
  append_properties(argv, broker.tuning.generator);
  append_properties(argv, flags.generator_properties);
  return ChildProcess::spawn(argv, log_path);
}

// Reads "kappa gen: N transactions (F fraud) in S s, R/s" (gen_command.cc)
// into the report.
Status read_sender_summary(const ChildProcess& sender, const std::string& log_path, RunReport& report) {
  std::istringstream log(sender.output());
  std::string line;
  while (std::getline(log, line)) {
    long long sent = 0, fraud = 0;
    double seconds = 0;
    if (std::sscanf(line.c_str(), "kappa gen: %lld transactions (%lld fraud) in %lf s", &sent, &fraud, &seconds) == 3) {
      report.sent = sent;
      report.sender_rps = seconds > 0 ? static_cast<double>(sent) / seconds : 0;
      return Status::ok();
    }
  }
  return child_failed("the generator printed no summary line", sender, log_path);
}

// The reader's consumer is tuned like the job's: the broker's tuning, then -X.
std::vector<std::string> reader_properties(const Flags& flags, const BrokerAccess& broker) {
  std::vector<std::string> properties = broker.tuning.reader;
  properties.insert(properties.end(), flags.job_properties.begin(), flags.job_properties.end());
  return properties;
}

// Hands the transaction id and event time of one message read back to
// `collector`: a FraudScore, or (--bare) the Transaction itself.
template <class Message>
void collect(LatencyCollector& collector, std::string_view value, double arrival_ms) {
  Message message;
  if (!message.ParseFromArray(value.data(), static_cast<int>(value.size()))) return collector.add_unreadable();
  collector.add(message.transaction_id(), message.event_time(), arrival_ms);
}

void print_timeline(const RunReport& report, const LatencyCollector& collector) {
  const std::vector<std::vector<double>> seconds = collector.latencies_by_send_second();
  for (std::size_t second = 0; second < seconds.size(); ++second) {
    if (seconds[second].empty()) continue;
    std::vector<double> latencies = seconds[second];
    const fraud::LatencySummary l = fraud::summarize_latency(latencies);
    std::fprintf(stderr, "[%s] %lld/s second %2zu: %6zu scores, p50 %8.2f ms, p99 %8.2f ms, max %8.2f ms\n",
                 report.broker.c_str(), static_cast<long long>(report.rate), second, l.count, l.p50_ms, l.p99_ms,
                 l.max_ms);
  }
}

// One run at `rate`; `number` makes its topic names fresh on this broker.
Result<RunReport> run_at_rate(const Flags& flags, const BrokerAccess& broker, int64_t rate, int number,
                              const std::filesystem::path& work_dir) {
  RunReport report;
  report.broker = broker.kind;
  report.rate = rate;
  // The process id keeps the names fresh on a broker that outlives this run (--brokers host:port).
  const std::string suffix = std::to_string(::getpid()) + "-" + std::to_string(rate) + "-" + std::to_string(number);
  const std::string transactions = "fraud-tx-" + suffix;
  const std::string scores = "fraud-scores-" + suffix;
  for (const std::string& topic : {transactions, scores}) KAPPA_RETURN_IF_ERROR(broker.create_topic(topic));
  // The topic is fresh, so its beginning is its end, without the race of
  // resolving "end" after the first message is written.
  KAPPA_ASSIGN_OR_RETURN(
      std::unique_ptr<fraud::TopicReader> reader,
      fraud::TopicReader::open(KafkaClientOptions{broker.bootstrap, reader_properties(flags, broker)},
                               {flags.bare ? transactions : scores}, fraud::TopicReader::Start::kBeginning));

  const std::string run_name = broker.kind + "-" + suffix;
  const std::string job_log = (work_dir / ("job-" + run_name + ".log")).string();
  const std::string sender_log = (work_dir / ("gen-" + run_name + ".log")).string();
  std::unique_ptr<ChildProcess> job;
  if (!flags.bare) {
    KAPPA_ASSIGN_OR_RETURN(job, start_job(flags, broker, transactions, scores, "fraud-latency-" + run_name, job_log));
  }
  const std::filesystem::path labels = work_dir / ("labels-" + run_name + ".jsonl");
  KAPPA_ASSIGN_OR_RETURN(std::unique_ptr<ChildProcess> sender,
                         start_sender(flags, broker, transactions, labels.string(), rate, sender_log));
  const auto sender_deadline = Clock::now() + std::chrono::seconds(flags.warmup_s + flags.duration_s) + kSenderGrace;

  LatencyCollector collector(static_cast<double>(rate), flags.warmup_s * rate);
  const auto on_message = [&](const fraud::TopicMessage& message) {
    const double arrival_ms = wall_clock_ms();
    if (flags.bare) {
      collect<jobs::Transaction>(collector, message.value, arrival_ms);
    } else {
      collect<jobs::FraudScore>(collector, message.value, arrival_ms);
    }
  };
  std::optional<Clock::time_point> sender_done;
  for (;;) {
    KAPPA_RETURN_IF_ERROR(reader->poll(kReadSlice, on_message).status());
    KAPPA_RETURN_IF_ERROR(check_interrupted());
    if (job && !job->running()) {
      return child_failed("the job stopped on its own (" + job->describe_exit() + ")", *job, job_log);
    }
    if (!sender_done) {
      const std::optional<int> exit_code = sender->wait(milliseconds(0));
      if (!exit_code) {
        if (Clock::now() > sender_deadline) {
          return child_failed("the generator overran its schedule", *sender, sender_log);
        }
        continue;
      }
      if (*exit_code != 0) {
        return child_failed("the generator ended with " + sender->describe_exit(), *sender, sender_log);
      }
      KAPPA_RETURN_IF_ERROR(read_sender_summary(*sender, sender_log, report));
      sender_done = Clock::now();
    }
    if (collector.scored() >= report.sent || Clock::now() - *sender_done > kDrainTimeout) break;
  }

  if (job) {
    Result<int> stopped = job->terminate(kJobStopGrace);
    if (!stopped.is_ok()) {
      report.problems.push_back("the job did not stop: " + stopped.status().message() + " (log: " + job_log + ")");
    } else if (*stopped != 0) {
      report.problems.push_back("the job ended with " + job->describe_exit() + " after SIGTERM (log: " + job_log + ")");
    } else {
      report.job_cpu_s = job->cpu_seconds();
    }
  }
  std::error_code ignored;
  std::filesystem::remove(labels, ignored);
  report.scored = collector.scored();
  report.duplicates = collector.duplicates();
  std::vector<double> latencies = collector.measured_latencies_ms();
  report.latency = fraud::summarize_latency(latencies);
  report.achieved_rps = collector.achieved_rps();
  if (flags.timeline) print_timeline(report, collector);
  const std::string see_log = job ? " (job log: " + job_log + ")" : "";
  if (report.scored < report.sent) {
    report.problems.push_back(std::to_string(report.sent - report.scored) + " of " + std::to_string(report.sent) +
                              " transactions " + (job ? "have no score " : "were not read back ") +
                              std::to_string(kDrainTimeout.count() / 1000) + " s after the last was sent" + see_log);
  }
  if (report.duplicates > 0) {
    report.problems.push_back(std::to_string(report.duplicates) +
                              " duplicates (a transaction read back more than once)" + see_log);
  }
  if (collector.unreadable() > 0) {
    report.problems.push_back(std::to_string(collector.unreadable()) +
                              " messages that do not decode or do not match the generator's schedule");
  }
  return report;
}

void print_json(const Flags& flags, const RunReport& r) {
  const fraud::LatencySummary& l = r.latency;
  char job_cpu[32] = "null";
  if (r.job_cpu_s >= 0) std::snprintf(job_cpu, sizeof job_cpu, "%.2f", r.job_cpu_s);
  std::printf(
      "{\"broker\":\"%s\",\"rate\":%lld,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f,"
      "\"achieved_rps\":%.0f,\"sent\":%lld,\"scored\":%lld,\"measured\":%zu,\"duplicates\":%lld,"
      "\"sender_rps\":%.0f,\"duration_s\":%d,\"warmup_s\":%d,\"partitions\":%d,\"job\":%s,"
      "\"job_threads\":%d,\"job_cpu_s\":%s,\"ok\":%s}\n",
      r.broker.c_str(), static_cast<long long>(r.rate), l.p50_ms, l.p99_ms, l.p999_ms, l.max_ms, r.achieved_rps,
      static_cast<long long>(r.sent), static_cast<long long>(r.scored), l.count, static_cast<long long>(r.duplicates),
      r.sender_rps, flags.duration_s, flags.warmup_s, flags.partitions, flags.bare ? "false" : "true",
      flags.job_threads, job_cpu, r.problems.empty() ? "true" : "false");
  std::fflush(stdout);
}

void print_table(FILE* out, const Flags& flags, const std::vector<RunReport>& reports) {
  if (flags.bare) {
    std::fprintf(out,
                 "\nbare path (no job): generator -> broker -> reader, open loop: %d s measured after %d s warm-up, "
                 "%d partitions\n(ms from each transaction's intended send time to its arrival at the reader; may "
                 "overstate by < 1 ms)\n",
                 flags.duration_s, flags.warmup_s, flags.partitions);
  } else {
    std::fprintf(out,
                 "\nfraud_scoring latency, open loop: %d s measured after %d s warm-up, %d partitions, %d job "
                 "threads\n(ms from each transaction's intended send time to its score's arrival; may overstate by "
                 "< 1 ms)\n",
                 flags.duration_s, flags.warmup_s, flags.partitions, flags.job_threads);
  }
  std::fprintf(out, "%-9s %8s %9s %9s %8s %8s %8s %8s %11s  %s\n", "broker", "rate/s", "sent", "scored", "p50", "p99",
               "p99.9", "max", "achieved/s", "status");
  for (const RunReport& r : reports) {
    const fraud::LatencySummary& l = r.latency;
    std::fprintf(out, "%-9s %8lld %9lld %9lld %8.2f %8.2f %8.2f %8.2f %11.0f  %s\n", r.broker.c_str(),
                 static_cast<long long>(r.rate), static_cast<long long>(r.sent), static_cast<long long>(r.scored),
                 l.p50_ms, l.p99_ms, l.p999_ms, l.max_ms, r.achieved_rps, r.problems.empty() ? "ok" : "FAILED");
  }
  for (const RunReport& r : reports) {
    for (const std::string& problem : r.problems) {
      std::fprintf(out, "PROBLEM [%s, %lld/s]: %s\n", r.broker.c_str(), static_cast<long long>(r.rate),
                   problem.c_str());
    }
  }
}

void print_summary_line(const RunReport& r, const char* note) {
  std::fprintf(stderr,
               "[%s] %lld/s: p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms; %.0f scores/s; %lld of %lld "
               "scored%s\n",
               r.broker.c_str(), static_cast<long long>(r.rate), r.latency.p50_ms, r.latency.p99_ms, r.latency.p999_ms,
               r.latency.max_ms, r.achieved_rps, static_cast<long long>(r.scored), static_cast<long long>(r.sent),
               note);
}

// Runs every rate on one broker, appending to `reports`; false if a run
// could not be completed (its error is printed).
bool run_broker(const Flags& flags, const std::string& which, const std::filesystem::path& work_dir,
                std::vector<RunReport>& reports) {
  BrokerAccess broker;
  broker.kind = which == "embedded" ? "embedded" : "real";
  broker.tuning = tuning_for(broker.kind);
  std::unique_ptr<EmbeddedBroker> embedded;
  std::unique_ptr<LocalKafka> local;  // stopped when this returns
  KafkaHandle admin;
  Status started = [&]() -> Status {
    if (which == "embedded") {
      KAPPA_ASSIGN_OR_RETURN(embedded, EmbeddedBroker::start());
      broker.bootstrap = embedded->bootstrap();
      broker.create_topic = [&](const std::string& topic) { return embedded->create_topic(topic, flags.partitions); };
      std::fprintf(stderr, "[embedded] broker at %s (in this process)\n", broker.bootstrap.c_str());
      return Status::ok();
    }
    if (which == "real") {
      std::fprintf(stderr, "[real] starting Apache Kafka with %s...\n", flags.kafka_local.c_str());
      KAPPA_ASSIGN_OR_RETURN(
          local, LocalKafka::start(flags.kafka_local, (work_dir / "kafka-local.state").string(), &interrupted()));
      broker.bootstrap = local->bootstrap();
      std::fprintf(stderr, "[real] broker at %s, pid %d (stopped at the end)\n", broker.bootstrap.c_str(),
                   local->pid());
    } else {
      broker.bootstrap = which;
      std::fprintf(stderr, "[real] using the broker at %s (topics are left behind)\n", broker.bootstrap.c_str());
    }
    KAPPA_ASSIGN_OR_RETURN(KafkaConf conf,
                           make_kafka_conf(KafkaRole::kProducer, KafkaClientOptions{broker.bootstrap, {}},
                                           {{"client.id", "kappa-bench-admin"}}));
    KAPPA_ASSIGN_OR_RETURN(admin, make_kafka_client(KafkaRole::kProducer, std::move(conf)));
    broker.create_topic = [&](const std::string& topic) {
      return testing::create_topic(admin.get(), topic, flags.partitions, kTopicTimeout);
    };
    return Status::ok();
  }();
  if (!started.is_ok()) {
    std::fprintf(stderr, "fraud_latency: %s broker: %s\n", which.c_str(), started.message().c_str());
    return false;
  }
  int number = 0;
  // Not counted: a JVM broker compiles its request paths during its first
  // tens of seconds under load, which a long-running broker has done long
  // ago. One run at the highest rate gets that out of the way.
  if (broker.kind == "real" && flags.broker_warmup_s > 0) {
    Flags warm_up = flags;
    warm_up.duration_s = flags.broker_warmup_s;
    warm_up.warmup_s = 0;
    warm_up.timeline = false;
    const int64_t rate = *std::max_element(flags.rates.begin(), flags.rates.end());
    std::fprintf(stderr, "[real] warming the broker up: %lld/s for %d s (not counted)...\n",
                 static_cast<long long>(rate), warm_up.duration_s);
    Result<RunReport> report = run_at_rate(warm_up, broker, rate, ++number, work_dir);
    if (!report.is_ok()) {
      std::fprintf(stderr, "fraud_latency: [real] warm-up: %s\n", report.status().message().c_str());
      return false;
    }
    print_summary_line(*report, " (warm-up, not counted)");
  }
  for (int64_t rate : flags.rates) {
    std::fprintf(stderr, "[%s] %lld transactions/s for %d s (+%d s warm-up)...\n", broker.kind.c_str(),
                 static_cast<long long>(rate), flags.duration_s, flags.warmup_s);
    Result<RunReport> report = run_at_rate(flags, broker, rate, ++number, work_dir);
    if (!report.is_ok()) {
      std::fprintf(stderr, "fraud_latency: [%s] %lld/s: %s\n", broker.kind.c_str(), static_cast<long long>(rate),
                   report.status().message().c_str());
      return false;
    }
    print_summary_line(*report, report->problems.empty() ? "" : " -- FAILED");
    if (flags.json) print_json(flags, *report);
    reports.push_back(std::move(*report));
  }
  return true;
}

int run_main(int argc, char** argv) {
  Flags flags;
  CLI::App app(
      "End-to-end latency of the fraud_scoring job at fixed open-loop rates, on real Apache Kafka and on the "
      "embedded broker: from each transaction's intended send time to its score's arrival.",
      "fraud_latency");
  app.add_option("--brokers", flags.brokers,
                 "real (start Apache Kafka with scripts/kafka-local, stop it at the end), embedded, both, or "
                 "host:port of a running Kafka. Default: both.")
      ->check([](const std::string& value) -> std::string {
        if (value == "real" || value == "embedded" || value == "both" || value.find(':') != std::string::npos) {
          return "";
        }
        return "must be real, embedded, both or host:port";
      });
  CLI::Option* rates =
      app.add_option("--rates", flags.rates, "Transactions per second, one run each. Default: 20000,50000.")
          ->delimiter(',')
          ->check(CLI::Range(int64_t{1}, int64_t{10'000'000}));
  CLI::Option* duration =
      app.add_option("--duration", flags.duration_s, "Seconds measured, after the warm-up. Default: 20.")
          ->check(CLI::Range(1, 3600));
  CLI::Option* warmup = app.add_option("--warmup", flags.warmup_s, "Seconds of the schedule not counted. Default: 3.")
                            ->check(CLI::Range(0, 3600));
  CLI::Option* broker_warmup =
      app.add_option("--broker-warmup", flags.broker_warmup_s,
                     "Seconds of an uncounted run at the highest rate before the runs on real Kafka, while the "
                     "JVM compiles. Default: 10; 0 for none.")
          ->check(CLI::Range(0, 3600));
  app.add_option("--partitions", flags.partitions, "Partitions of each topic. Default: 8.")->check(CLI::Range(1, 1000));
  app.add_option("--job-threads", flags.job_threads, "The job's --threads. Default: 2.")->check(CLI::Range(1, 1024));
  app.add_option("--cards", flags.cards, "The generator's --cards. Default: 200000.")
      ->check(CLI::Range(int64_t{1}, int64_t{1'000'000}));
  app.add_flag("--json", flags.json, "Print one JSON object per run on stdout, and nothing else there.");
  app.add_flag("--quick", flags.quick,
               "A smoke run: 2000/s for 4 s after 1 s of warm-up, no broker warm-up (unless given explicitly).");
  app.add_option("-X", flags.job_properties,
                 "A librdkafka property for the job (key=value, consumer.key=value, producer.key=value), after "
                 "the low-latency defaults. Repeatable.")
      ->allow_extra_args(false);
  app.add_option("--gen-X", flags.generator_properties,
                 "A librdkafka producer property for the generator (key=value). Repeatable.")
      ->allow_extra_args(false);
  app.add_option("--fraud-scoring", flags.fraud_scoring, "The fraud_scoring executable. Default: the build tree's.");
  app.add_option("--kappa", flags.kappa_tool, "The kappa executable (the generator). Default: the build tree's.");
  app.add_option("--kafka-local", flags.kafka_local, "The kafka-local script. Default: the source tree's.");
  app.add_flag("--bare", flags.bare,
               "Leave the job out: read the transactions topic itself, to measure the path generator -> broker -> "
               "reader alone, the floor under the job's figures.");
  app.add_flag("--timeline", flags.timeline,
               "Also print, on stderr, p50 / p99 / max for each second of the send schedule after the warm-up.");
  app.add_flag("--keep-logs", flags.keep_logs, "Keep the job and generator logs (their directory is printed).");
  CLI11_PARSE(app, argc, argv);
  if (flags.quick) {
    if (rates->count() == 0) flags.rates = {2'000};
    if (duration->count() == 0) flags.duration_s = 4;
    if (warmup->count() == 0) flags.warmup_s = 1;
    if (broker_warmup->count() == 0) flags.broker_warmup_s = 0;
  }
  for (const std::string* executable : {&flags.fraud_scoring, &flags.kappa_tool}) {
    if (::access(executable->c_str(), X_OK) != 0) {
      std::fprintf(stderr, "fraud_latency: cannot execute '%s'; build it or pass its path\n", executable->c_str());
      return 2;
    }
  }
  // Real first: kafka-local's broker must not inherit the embedded broker's sockets.
  const std::vector<std::string> which =
      flags.brokers == "both" ? std::vector<std::string>{"real", "embedded"} : std::vector<std::string>{flags.brokers};

  start_bench_process("fraud_latency");
  Result<std::filesystem::path> made = make_work_dir("kappa-fraud-latency");
  if (!made.is_ok()) {
    std::fprintf(stderr, "fraud_latency: %s\n", made.status().message().c_str());
    return 1;
  }
  const std::filesystem::path work_dir = *made;

  bool ok = true;
  std::vector<RunReport> reports;
  for (const std::string& broker : which) {
    ok = run_broker(flags, broker, work_dir, reports) && ok;
    if (interrupted().load()) break;
  }
  for (const RunReport& report : reports) ok = ok && report.problems.empty();
  print_table(flags.json ? stderr : stdout, flags, reports);
  if (ok && !flags.keep_logs) {
    std::error_code ignored;
    std::filesystem::remove_all(work_dir, ignored);
  } else {
    std::fprintf(stderr, "logs kept in %s\n", work_dir.c_str());
  }
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace kappa::bench

int main(int argc, char** argv) { return kappa::bench::run_main(argc, argv); }
