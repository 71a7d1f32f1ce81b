// kafka_throughput: how fast the passthrough job moves a topic from Kafka to
// Kafka, next to how fast librdkafka alone can read the same topic.
//
// Per broker (a real Apache Kafka started with scripts/kafka-local, an
// existing one, or the in-process embedded broker) it fills one topic with
// keyed 100-byte records, reads it once to warm the broker up, then
// alternates, --repeat times:
//   bare consumer  one high-level librdkafka consumer in this process reads
//                  every partition from the beginning, counting records and
//                  bytes: the ceiling for any job (throughput_runs.h);
//   passthrough    the job executable as a child process, until its fresh
//                  output topic holds every record; then SIGTERM, exit 0.
// and prints the medians. "total" rates count from the start of the consumer
// or job process; "steady" rates from its first record, leaving out start-up
// and the consumer-group join. The ratio job / bare consumer uses the steady
// rates. See bench/README.md.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "bench/input_topic.h"
#include "bench/bench_process.h"
#include "bench/local_kafka.h"
#include "bench/throughput_runs.h"
#include "connectors/kafka/embedded_broker.h"
#include "tests/support/kafka_topics.h"

#ifndef KAPPA_PASSTHROUGH_PATH
#define KAPPA_PASSTHROUGH_PATH "passthrough"
#endif
#ifndef KAPPA_KAFKA_LOCAL_PATH
#define KAPPA_KAFKA_LOCAL_PATH "scripts/kafka-local"
#endif

namespace kappa::bench {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The embedded broker keeps about 5 MiB per partition and silently drops
// older records, so a benchmark topic on it stays at or under this.
constexpr int64_t kEmbeddedRecordsPerPartition = 40'000;
constexpr milliseconds kRequestTimeout{10'000};

struct Flags {
  std::string brokers = "both";
  int64_t records = 2'000'000;
  int repeat = 3;
  int partitions = 16;
  int job_threads = 2;
  bool json = false;
  bool quick = false;
  std::string bare_api = "batch";
  bool keep_logs = false;
  std::string passthrough = KAPPA_PASSTHROUGH_PATH;
  std::string kafka_local = KAPPA_KAFKA_LOCAL_PATH;
  std::vector<std::string> properties;
};

// The runs of one kind on one broker.
struct Series {
  std::string name;  // JSON prefix: bare_consumer, job
  std::string label;
  std::vector<Run> runs;
};

struct BrokerReport {
  std::string kind;  // "real" or "embedded"
  std::string bootstrap;
  std::string note;
  int64_t records = 0;
  Series bare{"bare_consumer", "bare consumer", {}};
  Series job{"job", "passthrough job", {}};
  std::vector<std::string> problems;  // correctness findings; the figures still print
};

Result<KafkaHandle> make_helper_client(const std::string& bootstrap) {
  KAPPA_ASSIGN_OR_RETURN(KafkaConf conf, make_kafka_conf(KafkaRole::kProducer, KafkaClientOptions{bootstrap, {}},
                                                         {{"client.id", "kappa-bench-helper"}}));
  return make_kafka_client(KafkaRole::kProducer, std::move(conf));
}

std::string describe(const Run& run) {
  char text[256];
  std::snprintf(text, sizeof text, "%9.0f rps steady, %9.0f rps total (%.2f s, first record after %.2f s)",
                run.steady_rps(), run.total_rps(), run.total_s, run.total_s - run.steady_s);
  std::string out = text;
  if (run.client_cpu_s >= 0) {
    std::snprintf(text, sizeof text, ", CPU %.2f s client + ", run.client_cpu_s);
    out += text;
    if (run.broker_cpu_s >= 0) {
      std::snprintf(text, sizeof text, "%.2f s broker", run.broker_cpu_s);
      out += text;
    } else {
      out += "? broker";
    }
  }
  if (run.job_max_rss_mib >= 0) {
    std::snprintf(text, sizeof text, ", peak RSS %.0f MiB", run.job_max_rss_mib);
    out += text;
  }
  return out;
}

// Fills `topic` and checks through its watermarks that every record is there.
Status fill_input(const Flags& flags, const std::string& bootstrap, const std::string& topic, int64_t records,
                  const std::string& prefix) {
  std::fprintf(stderr, "%sproducing %lld records of %zu bytes to %s (%d partitions)...\n", prefix.c_str(),
               static_cast<long long>(records), kInputKeyBytes + InputSpec{}.value_bytes, topic.c_str(),
               flags.partitions);
  const auto started = Clock::now();
  InputSpec spec{topic, flags.partitions, records};
  spec.stop = &interrupted();
  KAPPA_RETURN_IF_ERROR(produce_input(KafkaClientOptions{bootstrap, {}}, spec));
  KAPPA_ASSIGN_OR_RETURN(KafkaHandle helper, make_helper_client(bootstrap));
  KAPPA_ASSIGN_OR_RETURN(std::vector<testing::PartitionOffsets> marks,
                         testing::query_watermarks(helper.get(), topic, flags.partitions, kRequestTimeout));
  int64_t stored = 0;
  for (int p = 0; p < flags.partitions; ++p) {
    if (marks[p].low != 0) {
      return Status::data_loss(topic + "/" + std::to_string(p) + " starts at offset " + std::to_string(marks[p].low) +
                               ": the broker dropped records (the embedded broker keeps ~5 MiB per partition)");
    }
    stored += marks[p].high;
  }
  if (stored != records) {
    return Status::data_loss(topic + " holds " + std::to_string(stored) + " records, not " + std::to_string(records));
  }
  std::fprintf(stderr, "%s%lld records stored (checked through the watermarks) in %.1f s\n", prefix.c_str(),
               static_cast<long long>(stored), std::chrono::duration<double>(Clock::now() - started).count());
  return Status::ok();
}

// Creates and fills the topic, then measures.
Status measure(const Flags& flags, const RunContext& context, const std::function<Status(const std::string&)>& create,
               const std::filesystem::path& work_dir, BrokerReport& report) {
  const std::string prefix = "[" + report.kind + "] ";
  const std::string topic = "kappa-bench-" + std::to_string(::getpid()) + "-" + report.kind;
  KAPPA_RETURN_IF_ERROR(create(topic));
  KAPPA_RETURN_IF_ERROR(fill_input(flags, context.bootstrap, topic, report.records, prefix));

  // Not measured: the first consumer group on a fresh broker waits for the
  // broker to create its offsets topic, and a JVM broker's fetch path is
  // still being compiled; neither should count against the first bare run.
  KAPPA_ASSIGN_OR_RETURN(
      Run warm_up,
      run_bare_consumer(context, topic, "kappa-bench-warm-up-" + std::to_string(::getpid()), report.records));
  std::fprintf(stderr, "%swarm-up read (not counted) %s\n", prefix.c_str(), describe(warm_up).c_str());

  for (int r = 1; r <= flags.repeat; ++r) {
    const std::string run_id = std::to_string(::getpid()) + "-" + report.kind + "-" + std::to_string(r);
    auto print = [&](const Series& series) {
      std::fprintf(stderr, "%srun %d/%d %-15s %s\n", prefix.c_str(), r, flags.repeat, series.label.c_str(),
                   describe(series.runs.back()).c_str());
    };
    KAPPA_ASSIGN_OR_RETURN(Run bare, run_bare_consumer(context, topic, "kappa-bench-bare-" + run_id, report.records));
    report.bare.runs.push_back(bare);
    print(report.bare);

    // A fresh output topic per run, so that its end offsets count exactly
    // this run's output.
    const std::string output = topic + "-out-" + std::to_string(r);
    KAPPA_RETURN_IF_ERROR(create(output));
    const std::string log_path = (work_dir / ("job-" + run_id + ".log")).string();
    KAPPA_ASSIGN_OR_RETURN(Run job, run_job(context, topic, output, "kappa-bench-job-" + run_id, report.records,
                                            log_path, report.problems));
    report.job.runs.push_back(job);
    print(report.job);
  }
  return Status::ok();
}

Status run_broker(const Flags& flags, const std::string& which, const std::filesystem::path& work_dir,
                  BrokerReport& report) {
  RunContext context;
  context.partitions = flags.partitions;
  context.properties = flags.properties;
  context.passthrough = flags.passthrough;
  context.job_threads = flags.job_threads;
  context.bare_batch = flags.bare_api == "batch";
  context.interrupted = &interrupted();
  report.records = flags.records;

  if (which == "embedded") {
    report.kind = "embedded";
    const int64_t limit = kEmbeddedRecordsPerPartition * flags.partitions;
    report.note = "the embedded broker keeps only ~5 MiB per partition, so at most " +
                  std::to_string(kEmbeddedRecordsPerPartition) + " records of 100 bytes per partition (" +
                  std::to_string(limit) + " here); client CPU of bare runs includes the broker";
    if (report.records > limit) {
      report.note += "; --records " + std::to_string(report.records) + " capped to " + std::to_string(limit);
      report.records = limit;
    }
    std::fprintf(stderr, "[embedded] note: %s\n", report.note.c_str());
    KAPPA_ASSIGN_OR_RETURN(std::unique_ptr<EmbeddedBroker> broker, EmbeddedBroker::start());
    report.bootstrap = context.bootstrap = broker->bootstrap();
    std::fprintf(stderr, "[embedded] broker at %s (in this process)\n", report.bootstrap.c_str());
    // Every client is gone when measure() returns, before the broker stops.
    return measure(
        flags, context, [&](const std::string& topic) { return broker->create_topic(topic, flags.partitions); },
        work_dir, report);
  }

  report.kind = "real";
  std::unique_ptr<LocalKafka> local;  // stopped when this returns, also on failure
  if (which == "real") {
    std::fprintf(stderr, "[real] starting Apache Kafka with %s...\n", flags.kafka_local.c_str());
    KAPPA_ASSIGN_OR_RETURN(
        local, LocalKafka::start(flags.kafka_local, (work_dir / "kafka-local.state").string(), &interrupted()));
    context.bootstrap = local->bootstrap();
    context.broker_pid = local->pid();
    std::fprintf(stderr, "[real] broker at %s, pid %d (stopped at the end)\n", context.bootstrap.c_str(),
                 context.broker_pid);
  } else {
    context.bootstrap = which;
    std::fprintf(stderr, "[real] using the broker at %s\n", context.bootstrap.c_str());
  }
  report.bootstrap = context.bootstrap;
  KAPPA_ASSIGN_OR_RETURN(KafkaHandle admin, make_helper_client(context.bootstrap));
  return measure(
      flags, context,
      [&](const std::string& topic) {
        return testing::create_topic(admin.get(), topic, flags.partitions, milliseconds(30'000));
      },
      work_dir, report);
}

double median(std::vector<double> values) {
  if (values.empty()) return -1;
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

enum class Figure { kSteadyRps, kTotalRps, kClientCpuUs, kBrokerCpuUs, kMaxRssMib };

std::vector<double> figures(const Series& series, Figure figure) {
  std::vector<double> out;
  for (const Run& run : series.runs) {
    switch (figure) {
      case Figure::kSteadyRps:
        out.push_back(run.steady_rps());
        break;
      case Figure::kTotalRps:
        out.push_back(run.total_rps());
        break;
      case Figure::kClientCpuUs:
        out.push_back(run.client_cpu_s < 0 ? -1 : run.client_cpu_s * 1e6 / run.records);
        break;
      case Figure::kBrokerCpuUs:
        out.push_back(run.broker_cpu_s < 0 ? -1 : run.broker_cpu_s * 1e6 / run.records);
        break;
      case Figure::kMaxRssMib:
        out.push_back(run.job_max_rss_mib);
        break;
    }
  }
  return out;
}

double median_of(const Series& series, Figure figure) {
  std::vector<double> values = figures(series, figure);
  if (std::any_of(values.begin(), values.end(), [](double v) { return v < 0; })) return -1;
  return median(values);
}

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// A number with `decimals` decimals, or null for an unknown (negative) one.
std::string json_number(double value, int decimals) {
  if (value < 0) return "null";
  char text[32];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

// The figures of one series beyond its median steady rate:
// "<name>_rps_total", "<name>_runs_rps" (every run's steady rate),
// "<name>_cpu_us_per_record" and "<name>_broker_cpu_us_per_record".
std::string json_series(const Series& series) {
  std::string runs = "[";
  for (double rps : figures(series, Figure::kSteadyRps)) runs += (runs.size() > 1 ? "," : "") + json_number(rps, 0);
  runs += "]";
  const std::string& n = series.name;
  return "\"" + n + "_rps_total\":" + json_number(median_of(series, Figure::kTotalRps), 0) + ",\"" + n +
         "_runs_rps\":" + runs + ",\"" + n +
         "_cpu_us_per_record\":" + json_number(median_of(series, Figure::kClientCpuUs), 3) + ",\"" + n +
         "_broker_cpu_us_per_record\":" + json_number(median_of(series, Figure::kBrokerCpuUs), 3);
}

void print_series(FILE* out, const Series& series) {
  if (series.runs.empty()) return;
  const double client = median_of(series, Figure::kClientCpuUs);
  const double broker = median_of(series, Figure::kBrokerCpuUs);
  char cpu[64] = "n/a";
  if (client >= 0 && broker >= 0) {
    std::snprintf(cpu, sizeof cpu, "%.2f + %.2f", client, broker);
  } else if (client >= 0) {
    std::snprintf(cpu, sizeof cpu, "%.2f + n/a", client);
  }
  std::fprintf(out, "  %-26s %12.0f %12.0f   %s\n", series.label.c_str(), median_of(series, Figure::kSteadyRps),
               median_of(series, Figure::kTotalRps), cpu);
}

void print_report(const Flags& flags, const BrokerReport& report) {
  const double bare = median_of(report.bare, Figure::kSteadyRps);
  const double job = median_of(report.job, Figure::kSteadyRps);
  const double bare_total = median_of(report.bare, Figure::kTotalRps);
  const double job_total = median_of(report.job, Figure::kTotalRps);
  FILE* human = flags.json ? stderr : stdout;
  std::fprintf(human, "\n%s broker at %s: %lld records, %d partitions, 100 bytes each, median of %zu run(s)\n",
               report.kind == "real" ? "Apache Kafka" : "embedded", report.bootstrap.c_str(),
               static_cast<long long>(report.records), flags.partitions, report.bare.runs.size());
  if (!report.note.empty()) std::fprintf(human, "  note: %s\n", report.note.c_str());
  std::fprintf(human, "  %-26s %12s %12s   %s\n", "records/s", "steady", "total", "CPU us/record (client + broker)");
  print_series(human, report.bare);
  print_series(human, report.job);
  std::fprintf(human, "  %-26s %12.3f %12.3f\n", "ratio job / bare consumer", job / bare, job_total / bare_total);
  std::fprintf(human, "  (total: from the start of the consumer / job process; steady: from its first record)\n");
  for (const std::string& problem : report.problems) std::fprintf(human, "  PROBLEM: %s\n", problem.c_str());
  if (!flags.json) return;

  std::string problems = "[";
  for (const std::string& problem : report.problems)
    problems += (problems.size() > 1 ? "," : "") + json_string(problem);
  problems += "]";
  std::string json = "{\"broker\":" + json_string(report.kind) + ",\"records\":" + std::to_string(report.records) +
                     ",\"bare_consumer_rps\":" + json_number(bare, 0) + ",\"job_rps\":" + json_number(job, 0) +
                     ",\"ratio\":" + json_number(job / bare, 3) +
                     ",\"ratio_total\":" + json_number(job_total / bare_total, 3) + "," + json_series(report.bare) +
                     "," + json_series(report.job) +
                     ",\"job_max_rss_mib\":" + json_number(median_of(report.job, Figure::kMaxRssMib), 0);
  json += ",\"bootstrap\":" + json_string(report.bootstrap) + ",\"partitions\":" + std::to_string(flags.partitions) +
          ",\"record_bytes\":100,\"repeat\":" + std::to_string(report.bare.runs.size()) +
          ",\"job_threads\":" + std::to_string(flags.job_threads) + ",\"bare_api\":" + json_string(flags.bare_api) +
          ",\"note\":" + json_string(report.note) + ",\"problems\":" + problems + "}";
  std::printf("%s\n", json.c_str());
  std::fflush(stdout);
}

int run_main(int argc, char** argv) {
  Flags flags;
  CLI::App app(
      "Kafka-to-Kafka throughput of the passthrough job next to a bare librdkafka consumer, "
      "on real Apache Kafka and on the embedded broker.",
      "kafka_throughput");
  app.add_option("--brokers", flags.brokers,
                 "real (start Apache Kafka with scripts/kafka-local, stop it at the end), embedded, both, "
                 "or host:port of a running Kafka. Default: both.");
  CLI::Option* records = app.add_option("--records", flags.records,
                                        "Records in the topic. Default 2000000; on the embedded broker at most "
                                        "40000 per partition (640000 with 16 partitions).")
                             ->check(CLI::Range(int64_t{1}, int64_t{1'000'000'000}));
  CLI::Option* repeat = app.add_option("--repeat", flags.repeat,
                                       "Measurements of each kind, alternating bare / job; the medians are "
                                       "reported. Default 3.")
                            ->check(CLI::Range(1, 100));
  app.add_option("--partitions", flags.partitions, "Partitions of the topic. Default 16.")->check(CLI::Range(1, 1000));
  app.add_option("--job-threads", flags.job_threads, "The job's --threads. Default 2.")->check(CLI::Range(1, 1024));
  app.add_flag("--json", flags.json, "Print one JSON object per broker on stdout, and nothing else there.");
  app.add_flag("--quick", flags.quick, "A smoke run: 20000 records, 1 repetition (unless given explicitly).");
  app.add_option("--bare-api", flags.bare_api,
                 "How the bare consumer takes messages: 'batch' (rd_kafka_consume_batch_queue, 1000 at a time, "
                 "the fastest way and the call the job's source uses) or 'poll' (rd_kafka_consumer_poll, one at "
                 "a time). Default: batch.")
      ->check(CLI::IsMember({"batch", "poll"}));
  app.add_option("--passthrough", flags.passthrough, "The passthrough job executable. Default: the build tree's.");
  app.add_option("--kafka-local", flags.kafka_local, "The kafka-local script. Default: the source tree's.");
  app.add_option("-X", flags.properties,
                 "A librdkafka property for the bare clients and the job (key=value, consumer.key=value, "
                 "producer.key=value). Repeatable.")
      ->allow_extra_args(false);
  app.add_flag("--keep-logs", flags.keep_logs, "Keep the job logs (their directory is printed) even on success.");
  CLI11_PARSE(app, argc, argv);
  if (flags.quick) {
    if (records->count() == 0) flags.records = 20'000;
    if (repeat->count() == 0) flags.repeat = 1;
  }
  std::vector<std::string> which;
  if (flags.brokers == "both") {
    // Real first: kafka-local's broker must not inherit the embedded broker's sockets.
    which = {"real", "embedded"};
  } else if (flags.brokers == "real" || flags.brokers == "embedded" || flags.brokers.find(':') != std::string::npos) {
    which = {flags.brokers};
  } else {
    std::fprintf(stderr, "kafka_throughput: --brokers must be real, embedded, both or host:port, not '%s'\n",
                 flags.brokers.c_str());
    return 2;
  }
  if (::access(flags.passthrough.c_str(), X_OK) != 0) {
    std::fprintf(stderr,
                 "kafka_throughput: cannot execute the passthrough job at '%s'; build it or pass --passthrough\n",
                 flags.passthrough.c_str());
    return 2;
  }

  start_bench_process("kafka_throughput");
  Result<std::filesystem::path> made = make_work_dir("kappa-bench");
  if (!made.is_ok()) {
    std::fprintf(stderr, "kafka_throughput: %s\n", made.status().message().c_str());
    return 1;
  }
  const std::filesystem::path work_dir = *made;

  bool ok = true;
  for (const std::string& broker : which) {
    BrokerReport report;
    Status status = run_broker(flags, broker, work_dir, report);
    if (!status.is_ok()) {
      std::fprintf(stderr, "kafka_throughput: %s broker: %s\n",
                   report.kind.empty() ? broker.c_str() : report.kind.c_str(), status.message().c_str());
      ok = false;
      break;
    }
    print_report(flags, report);
    if (!report.problems.empty()) ok = false;
  }
  if (ok && !flags.keep_logs) {
    std::error_code ignored;
    std::filesystem::remove_all(work_dir, ignored);
  } else {
    std::fprintf(stderr, "job logs kept in %s\n", work_dir.c_str());
  }
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace kappa::bench

int main(int argc, char** argv) { return kappa::bench::run_main(argc, argv); }
