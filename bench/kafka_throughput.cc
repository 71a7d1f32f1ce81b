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
// rates.
//
// With --job replay the topic holds JSON card events instead, and the job is
// window_agg's bounded replay (--from earliest --until latest), timed from
// its start to its exit 0: records/s and event-time seconds per wall second
// next to the bare consumer's rate on the same topic. See bench/README.md.
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

#include "bench/bench_process.h"
#include "bench/input_topic.h"
#include "bench/local_kafka.h"
#include "bench/throughput_runs.h"
#include "connectors/kafka/embedded_broker.h"
#include "tests/support/kafka_topics.h"

#ifndef KAPPA_PASSTHROUGH_PATH
#define KAPPA_PASSTHROUGH_PATH "passthrough"
#endif
#ifndef KAPPA_WINDOW_AGG_PATH
#define KAPPA_WINDOW_AGG_PATH "window_agg"
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
  std::string job = "passthrough";  // or "replay"
  int64_t records = 2'000'000;
  int repeat = 3;
  int partitions = 16;
  int job_threads = 2;
  int cards = 1000;  // --job replay: the card events' keys
  bool json = false;
  bool quick = false;
  std::string bare_api = "batch";
  bool keep_logs = false;
  std::string passthrough = KAPPA_PASSTHROUGH_PATH;
  std::string window_agg = KAPPA_WINDOW_AGG_PATH;
  std::string kafka_local = KAPPA_KAFKA_LOCAL_PATH;
  std::vector<std::string> properties;
};

// The runs of one kind on one broker.
struct Series {
  std::string name;  // JSON prefix: bare_consumer, job, replay
  std::string label;
  std::vector<Run> runs;
};

struct BrokerReport {
  std::string kind;  // "real" or "embedded"
  std::string bootstrap;
  std::string note;
  int64_t records = 0;
  double record_bytes = 0;  // key + value, on average
  // --job replay: the smallest and the largest event time in the topic.
  int64_t first_event_ms = 0;
  int64_t last_event_ms = 0;
  Series bare{"bare_consumer", "bare consumer", {}};
  // The job's runs; "replay", "window_agg replay" with --job replay.
  Series job{"job", "passthrough job", {}};
  std::vector<std::string> problems;  // correctness findings; the figures still print
};

Result<KafkaHandle> make_helper_client(const std::string& bootstrap) {
  KAPPA_ASSIGN_OR_RETURN(KafkaConf conf, make_kafka_conf(KafkaRole::kProducer, KafkaClientOptions{bootstrap, {}},
                                                         {{"client.id", "kappa-bench-helper"}}));
  return make_kafka_client(KafkaRole::kProducer, std::move(conf));
}

// ", CPU 1.20 s client + 0.40 s broker, peak RSS 650 MiB", as far as measured.
std::string describe_resources(const Run& run) {
  char text[128];
  std::string out;
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

std::string describe(const Run& run) {
  char text[256];
  std::snprintf(text, sizeof text, "%9.0f rps steady, %9.0f rps total (%.2f s, first record after %.2f s)",
                run.steady_rps(), run.total_rps(), run.total_s, run.total_s - run.steady_s);
  return text + describe_resources(run);
}

double event_time_span_s(const BrokerReport& report) {
  return static_cast<double>(report.last_event_ms - report.first_event_ms) / 1000;
}

// Event-time seconds replayed per wall second.
double event_time_rate(const Run& run, const BrokerReport& report) { return event_time_span_s(report) / run.total_s; }

std::string describe_replay(const Run& run, const BrokerReport& report) {
  char text[256];
  std::snprintf(text, sizeof text,
                "%9.0f rps (%.2f s from start to exit 0; %.2f s by its own summary), %.0f event-time s per s, "
                "%lld results",
                run.total_rps(), run.total_s, run.job_reported_s, event_time_rate(run, report),
                static_cast<long long>(run.records_out));
  return text + describe_resources(run);
}

// Writes the topic's records: 100-byte ones for the passthrough job, card
// events for the replay.
Status produce_records(const Flags& flags, const std::string& bootstrap, const std::string& topic, BrokerReport& report,
                       const std::string& prefix) {
  const KafkaClientOptions client{bootstrap, {}};
  if (flags.job == "replay") {
    std::fprintf(stderr, "%sproducing %lld JSON card events (%d cards) to %s (%d partitions)...\n", prefix.c_str(),
                 static_cast<long long>(report.records), flags.cards, topic.c_str(), flags.partitions);
    CardEventsSpec spec{topic, report.records, flags.cards};
    spec.stop = &interrupted();
    KAPPA_ASSIGN_OR_RETURN(CardEventsWritten written, produce_card_events(client, spec));
    report.first_event_ms = written.first_event_ms;
    report.last_event_ms = written.last_event_ms;
    report.record_bytes = static_cast<double>(written.bytes) / static_cast<double>(report.records);
    return Status::ok();
  }
  report.record_bytes = static_cast<double>(kInputKeyBytes + InputSpec{}.value_bytes);
  std::fprintf(stderr, "%sproducing %lld records of %.0f bytes to %s (%d partitions)...\n", prefix.c_str(),
               static_cast<long long>(report.records), report.record_bytes, topic.c_str(), flags.partitions);
  InputSpec spec{topic, flags.partitions, report.records};
  spec.stop = &interrupted();
  return produce_input(client, spec);
}

// Fills `topic` and checks through its watermarks that every record is there.
Status fill_input(const Flags& flags, const std::string& bootstrap, const std::string& topic, BrokerReport& report,
                  const std::string& prefix) {
  const int64_t records = report.records;
  const auto started = Clock::now();
  KAPPA_RETURN_IF_ERROR(produce_records(flags, bootstrap, topic, report, prefix));
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
  KAPPA_RETURN_IF_ERROR(fill_input(flags, context.bootstrap, topic, report, prefix));

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
      const Run& run = series.runs.back();
      std::fprintf(
          stderr, "%srun %d/%d %-17s %s\n", prefix.c_str(), r, flags.repeat, series.label.c_str(),
          (&series == &report.job && flags.job == "replay" ? describe_replay(run, report) : describe(run)).c_str());
    };
    KAPPA_ASSIGN_OR_RETURN(Run bare, run_bare_consumer(context, topic, "kappa-bench-bare-" + run_id, report.records));
    report.bare.runs.push_back(bare);
    print(report.bare);

    // A fresh output topic per run, so that its end offsets count exactly
    // this run's output.
    const std::string output = topic + "-out-" + std::to_string(r);
    KAPPA_RETURN_IF_ERROR(create(output));
    const std::string log_path = (work_dir / ("job-" + run_id + ".log")).string();
    if (flags.job == "replay") {
      // A fresh state directory too: the replay starts from nothing and
      // leaves its final checkpoint there.
      const std::filesystem::path state_dir = work_dir / ("state-" + run_id);
      KAPPA_ASSIGN_OR_RETURN(Run job, run_replay(context, topic, output, "kappa-bench-replay-" + run_id,
                                                 state_dir.string(), report.records, log_path, report.problems));
      report.job.runs.push_back(job);
      std::error_code ignored;
      std::filesystem::remove_all(state_dir, ignored);
    } else {
      KAPPA_ASSIGN_OR_RETURN(Run job, run_job(context, topic, output, "kappa-bench-job-" + run_id, report.records,
                                              log_path, report.problems));
      report.job.runs.push_back(job);
    }
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
  context.window_agg = flags.window_agg;
  context.job_threads = flags.job_threads;
  context.bare_batch = flags.bare_api == "batch";
  context.interrupted = &interrupted();
  report.records = flags.records;
  if (flags.job == "replay") report.job = Series{"replay", "window_agg replay", {}};

  if (which == "embedded") {
    report.kind = "embedded";
    const int64_t limit = kEmbeddedRecordsPerPartition * flags.partitions;
    report.note = "the embedded broker keeps only ~5 MiB per partition, so at most " +
                  std::to_string(kEmbeddedRecordsPerPartition) + " records of up to 100 bytes per partition (" +
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

// One row of the table: the median rates and CPU per record. A series
// without a steady rate (the replay) shows "-" there.
void print_series(FILE* out, const Series& series, bool has_steady = true) {
  if (series.runs.empty()) return;
  const double client = median_of(series, Figure::kClientCpuUs);
  const double broker = median_of(series, Figure::kBrokerCpuUs);
  char cpu[64] = "n/a";
  if (client >= 0 && broker >= 0) {
    std::snprintf(cpu, sizeof cpu, "%.2f + %.2f", client, broker);
  } else if (client >= 0) {
    std::snprintf(cpu, sizeof cpu, "%.2f + n/a", client);
  }
  char steady[32] = "-";
  if (has_steady) std::snprintf(steady, sizeof steady, "%.0f", median_of(series, Figure::kSteadyRps));
  std::fprintf(out, "  %-28s %12s %12.0f   %s\n", series.label.c_str(), steady, median_of(series, Figure::kTotalRps),
               cpu);
}

std::string json_problems(const BrokerReport& report) {
  std::string problems = "[";
  for (const std::string& problem : report.problems)
    problems += (problems.size() > 1 ? "," : "") + json_string(problem);
  return problems + "]";
}

// --job replay. The replay has one rate, from its start to its exit 0
// (start-up, pinning the ends, the final checkpoint and the exit included):
// "ratio" sets it against the bare consumer's steady rate, the ceiling,
// "ratio_total" against the bare consumer's total rate, which likewise
// includes its start-up.
void print_replay_report(const Flags& flags, const BrokerReport& report) {
  const double bare = median_of(report.bare, Figure::kSteadyRps);
  const double bare_total = median_of(report.bare, Figure::kTotalRps);
  const double replay = median_of(report.job, Figure::kTotalRps);
  std::vector<double> walls, event_rates, reported, results;
  for (const Run& run : report.job.runs) {
    walls.push_back(run.total_s);
    event_rates.push_back(event_time_rate(run, report));
    reported.push_back(run.job_reported_s);
    results.push_back(static_cast<double>(run.records_out));
  }
  const double wall = median(walls);
  const double event_rate = median(event_rates);
  const double rss = median_of(report.job, Figure::kMaxRssMib);
  FILE* human = flags.json ? stderr : stdout;
  std::fprintf(human,
               "\n%s broker at %s: %lld JSON card events (%d cards, %.0f bytes on average), %d partitions, "
               "%.0f s of event time, median of %zu run(s)\n",
               report.kind == "real" ? "Apache Kafka" : "embedded", report.bootstrap.c_str(),
               static_cast<long long>(report.records), flags.cards, report.record_bytes, flags.partitions,
               event_time_span_s(report), report.bare.runs.size());
  if (!report.note.empty()) std::fprintf(human, "  note: %s\n", report.note.c_str());
  std::fprintf(human, "  %-28s %12s %12s   %s\n", "records/s", "steady", "total", "CPU us/record (client + broker)");
  print_series(human, report.bare);
  print_series(human, report.job, /*has_steady=*/false);
  std::fprintf(human, "  %-28s %12.3f %12.3f\n", "ratio replay / bare consumer", replay / bare, replay / bare_total);
  std::fprintf(human,
               "  replay: %.2f s from its start to its exit 0 (%.2f s by its summary line), %.0f event-time s per "
               "wall s, %.0f results, peak RSS %.0f MiB\n",
               wall, median(reported), event_rate, median(results), rss);
  std::fprintf(human,
               "  (total: from the start of the consumer / job process to its last record, or to the replay's "
               "exit; steady: from the first record)\n");
  for (const std::string& problem : report.problems) std::fprintf(human, "  PROBLEM: %s\n", problem.c_str());
  if (!flags.json) return;

  std::string json =
      "{\"broker\":" + json_string(report.kind) + ",\"job\":\"replay\",\"records\":" + std::to_string(report.records) +
      ",\"bare_consumer_rps\":" + json_number(bare, 0) + ",\"replay_rps\":" + json_number(replay, 0) +
      ",\"ratio\":" + json_number(replay / bare, 3) + ",\"ratio_total\":" + json_number(replay / bare_total, 3) +
      ",\"replay_wall_s\":" + json_number(wall, 3) + ",\"event_time_s\":" + json_number(event_time_span_s(report), 3) +
      ",\"event_time_s_per_s\":" + json_number(event_rate, 1) +
      ",\"replay_summary_s\":" + json_number(median(reported), 3) +
      ",\"replay_results\":" + json_number(median(results), 0) + "," + json_series(report.bare) + "," +
      json_series(report.job) + ",\"replay_max_rss_mib\":" + json_number(rss, 0);
  json += ",\"bootstrap\":" + json_string(report.bootstrap) + ",\"partitions\":" + std::to_string(flags.partitions) +
          ",\"cards\":" + std::to_string(flags.cards) + ",\"record_bytes\":" + json_number(report.record_bytes, 1) +
          ",\"repeat\":" + std::to_string(report.bare.runs.size()) +
          ",\"job_threads\":" + std::to_string(flags.job_threads) + ",\"bare_api\":" + json_string(flags.bare_api) +
          ",\"note\":" + json_string(report.note) + ",\"problems\":" + json_problems(report) + "}";
  std::printf("%s\n", json.c_str());
  std::fflush(stdout);
}

void print_report(const Flags& flags, const BrokerReport& report) {
  if (flags.job == "replay") return print_replay_report(flags, report);
  const double bare = median_of(report.bare, Figure::kSteadyRps);
  const double job = median_of(report.job, Figure::kSteadyRps);
  const double bare_total = median_of(report.bare, Figure::kTotalRps);
  const double job_total = median_of(report.job, Figure::kTotalRps);
  FILE* human = flags.json ? stderr : stdout;
  std::fprintf(human, "\n%s broker at %s: %lld records, %d partitions, 100 bytes each, median of %zu run(s)\n",
               report.kind == "real" ? "Apache Kafka" : "embedded", report.bootstrap.c_str(),
               static_cast<long long>(report.records), flags.partitions, report.bare.runs.size());
  if (!report.note.empty()) std::fprintf(human, "  note: %s\n", report.note.c_str());
  std::fprintf(human, "  %-28s %12s %12s   %s\n", "records/s", "steady", "total", "CPU us/record (client + broker)");
  print_series(human, report.bare);
  print_series(human, report.job);
  std::fprintf(human, "  %-28s %12.3f %12.3f\n", "ratio job / bare consumer", job / bare, job_total / bare_total);
  std::fprintf(human, "  (total: from the start of the consumer / job process; steady: from its first record)\n");
  for (const std::string& problem : report.problems) std::fprintf(human, "  PROBLEM: %s\n", problem.c_str());
  if (!flags.json) return;

  std::string json = "{\"broker\":" + json_string(report.kind) +
                     ",\"job\":\"passthrough\",\"records\":" + std::to_string(report.records) +
                     ",\"bare_consumer_rps\":" + json_number(bare, 0) + ",\"job_rps\":" + json_number(job, 0) +
                     ",\"ratio\":" + json_number(job / bare, 3) +
                     ",\"ratio_total\":" + json_number(job_total / bare_total, 3) + "," + json_series(report.bare) +
                     "," + json_series(report.job) +
                     ",\"job_max_rss_mib\":" + json_number(median_of(report.job, Figure::kMaxRssMib), 0);
  json += ",\"bootstrap\":" + json_string(report.bootstrap) + ",\"partitions\":" + std::to_string(flags.partitions) +
          ",\"record_bytes\":100,\"repeat\":" + std::to_string(report.bare.runs.size()) +
          ",\"job_threads\":" + std::to_string(flags.job_threads) + ",\"bare_api\":" + json_string(flags.bare_api) +
          ",\"note\":" + json_string(report.note) + ",\"problems\":" + json_problems(report) + "}";
  std::printf("%s\n", json.c_str());
  std::fflush(stdout);
}

// The brokers --brokers names, in the order to measure them; none if it
// names none.
std::vector<std::string> brokers_to_run(const std::string& brokers) {
  // Real first: kafka-local's broker must not inherit the embedded broker's sockets.
  if (brokers == "both") return {"real", "embedded"};
  if (brokers == "real" || brokers == "embedded" || brokers.find(':') != std::string::npos) return {brokers};
  return {};
}

void add_flags(CLI::App& app, Flags& flags) {
  app.add_option("--brokers", flags.brokers,
                 "real (start Apache Kafka with scripts/kafka-local, stop it at the end), embedded, both, "
                 "or host:port of a running Kafka. Default: both.");
  app.add_option("--job", flags.job,
                 "What is measured against the bare consumer: 'passthrough' (the passthrough job on 100-byte "
                 "records, until its output holds them all) or 'replay' (window_agg's bounded replay, --from "
                 "earliest --until latest, of JSON card events in hopping windows, from its start to its exit 0). "
                 "Default: passthrough.")
      ->check(CLI::IsMember({"passthrough", "replay"}));
  app.add_option("--records", flags.records,
                 "Records in the topic. Default 2000000; on the embedded broker at most "
                 "40000 per partition (640000 with 16 partitions).")
      ->check(CLI::Range(int64_t{1}, int64_t{1'000'000'000}));
  app.add_option("--repeat", flags.repeat,
                 "Measurements of each kind, alternating bare / job; the medians are "
                 "reported. Default 3.")
      ->check(CLI::Range(1, 100));
  app.add_option("--partitions", flags.partitions, "Partitions of the topic. Default 16.")->check(CLI::Range(1, 1000));
  app.add_option("--job-threads", flags.job_threads, "The job's --threads. Default 2.")->check(CLI::Range(1, 1024));
  app.add_option("--cards", flags.cards, "--job replay: the cards (keys) of the card events. Default 1000.")
      ->check(CLI::Range(1, 100'000'000));
  app.add_flag("--json", flags.json, "Print one JSON object per broker on stdout, and nothing else there.");
  app.add_flag("--quick", flags.quick, "A smoke run: 20000 records, 1 repetition (unless given explicitly).");
  app.add_option("--bare-api", flags.bare_api,
                 "How the bare consumer takes messages: 'batch' (rd_kafka_consume_batch_queue, 1000 at a time, "
                 "the fastest way and the call the job's source uses) or 'poll' (rd_kafka_consumer_poll, one at "
                 "a time). Default: batch.")
      ->check(CLI::IsMember({"batch", "poll"}));
  app.add_option("--passthrough", flags.passthrough, "The passthrough job executable. Default: the build tree's.");
  app.add_option("--window-agg", flags.window_agg, "The window_agg job executable. Default: the build tree's.");
  app.add_option("--kafka-local", flags.kafka_local, "The kafka-local script. Default: the source tree's.");
  app.add_option("-X", flags.properties,
                 "A librdkafka property for the bare clients and the job (key=value, consumer.key=value, "
                 "producer.key=value). Repeatable.")
      ->allow_extra_args(false);
  app.add_flag("--keep-logs", flags.keep_logs, "Keep the job logs (their directory is printed) even on success.");
}

int run_main(int argc, char** argv) {
  Flags flags;
  CLI::App app(
      "Kafka-to-Kafka throughput of the passthrough job (or, with --job replay, of window_agg's bounded "
      "replay) next to a bare librdkafka consumer, on real Apache Kafka and on the embedded broker.",
      "kafka_throughput");
  add_flags(app, flags);
  CLI11_PARSE(app, argc, argv);
  if (flags.quick) {
    if (app.count("--records") == 0) flags.records = 20'000;
    if (app.count("--repeat") == 0) flags.repeat = 1;
  }
  const std::vector<std::string> which = brokers_to_run(flags.brokers);
  if (which.empty()) {
    std::fprintf(stderr, "kafka_throughput: --brokers must be real, embedded, both or host:port, not '%s'\n",
                 flags.brokers.c_str());
    return 2;
  }
  const bool replay = flags.job == "replay";
  const std::string& job_path = replay ? flags.window_agg : flags.passthrough;
  if (::access(job_path.c_str(), X_OK) != 0) {
    std::fprintf(stderr, "kafka_throughput: cannot execute the %s job at '%s'; build it or pass %s\n",
                 replay ? "window_agg" : "passthrough", job_path.c_str(), replay ? "--window-agg" : "--passthrough");
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
