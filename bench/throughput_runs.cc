#include "bench/throughput_runs.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <thread>

#include "connectors/kafka/kafka_client.h"
#include "tests/support/child_process.h"
#include "tests/support/kafka_topics.h"

namespace kappa::bench {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kPollInterval{20};
constexpr milliseconds kRequestTimeout{10'000};

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

milliseconds run_timeout(int64_t records) {
  // Generous: two minutes plus 100 µs a record (slower than 10k records/s
  // is broken, not slow).
  return milliseconds(120'000 + records / 10);
}

Status check_interrupted(const RunContext& context) {
  if (context.interrupted != nullptr && context.interrupted->load(std::memory_order_relaxed)) {
    return Status::aborted("interrupted");
  }
  return Status::ok();
}

double process_cpu_seconds() {
  struct rusage usage {};
  ::getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
}

// User + system CPU time of process `pid` from /proc, or -1.
double process_cpu_seconds(int pid) {
  if (pid <= 0) return -1;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return -1;
  // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  const char* p = stat.c_str() + close + 2;
  char* end = nullptr;
  double ticks[2] = {0, 0};
  for (int field = 3; field <= 15; ++field) {
    const long long value = std::strtoll(p, &end, 10);
    if (field == 3) {
      end = const_cast<char*>(p) + 1;  // the state is a letter
    } else if (field >= 14) {
      ticks[field - 14] = static_cast<double>(value);
    }
    p = end;
  }
  return (ticks[0] + ticks[1]) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

Result<KafkaHandle> make_client(KafkaRole role, const RunContext& context, const std::vector<std::string>& properties,
                                const std::map<std::string, std::string>& defaults) {
  KAPPA_ASSIGN_OR_RETURN(KafkaConf conf,
                         make_kafka_conf(role, KafkaClientOptions{context.bootstrap, properties}, defaults));
  return make_kafka_client(role, std::move(conf));
}

Result<KafkaHandle> make_subscribed_consumer(const RunContext& context, const std::string& topic,
                                             const std::string& group, const std::string& client_id) {
  KAPPA_ASSIGN_OR_RETURN(KafkaHandle consumer, make_client(KafkaRole::kConsumer, context, context.properties,
                                                           {{"group.id", group},
                                                            {"auto.offset.reset", "earliest"},
                                                            {"enable.auto.commit", "false"},
                                                            {"enable.auto.offset.store", "false"},
                                                            {"client.id", client_id}}));
  KafkaPartitionList subscription(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(subscription.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  if (rd_kafka_resp_err_t err = rd_kafka_subscribe(consumer.get(), subscription.get())) {
    return Status::unavailable("subscribing to " + topic + ": " + kafka_error_text(err));
  }
  return consumer;
}

// CPU time of this process and of the broker between start and stop.
class CpuWindow {
 public:
  explicit CpuWindow(int broker_pid)
      : broker_pid_(broker_pid), self_(process_cpu_seconds()), broker_(process_cpu_seconds(broker_pid)) {}
  double self() const { return process_cpu_seconds() - self_; }
  double broker() const { return broker_ < 0 ? -1 : process_cpu_seconds(broker_pid_) - broker_; }

 private:
  int broker_pid_;
  double self_;
  double broker_;
};

// The counts of a job's closing summary line ("<job>: N records in, M out,
// S skipped, D dead-lettered, L late in T s (R records/s)").
struct JobSummary {
  int64_t in = -1;
  int64_t out = -1;
  int64_t skipped = -1;
  int64_t dead_lettered = -1;
  int64_t late = -1;
  double seconds = -1;
};

// The last summary line in the job's log; `in` is -1 if there is none.
JobSummary read_job_summary(const std::string& log_path) {
  std::ifstream in(log_path);
  std::string line;
  JobSummary found;
  while (std::getline(in, line)) {
    const auto at = line.find(" records in, ");
    if (at == std::string::npos || at == 0) continue;
    const auto begin = line.rfind(' ', at - 1);
    if (begin == std::string::npos) continue;
    long long counts[5] = {-1, -1, -1, -1, -1};
    double seconds = -1;
    if (std::sscanf(line.c_str() + begin + 1,
                    "%lld records in, %lld out, %lld skipped, %lld dead-lettered, %lld late in %lf s", &counts[0],
                    &counts[1], &counts[2], &counts[3], &counts[4], &seconds) >= 1) {
      found = JobSummary{counts[0], counts[1], counts[2], counts[3], counts[4], seconds};
    }
  }
  return found;
}

// A client for polling `output`'s end offsets, connected, with the topic's
// leaders known and the topic checked to be empty: before any clock starts.
Result<KafkaHandle> open_output_watcher(const RunContext& context, const std::string& output) {
  KAPPA_ASSIGN_OR_RETURN(KafkaHandle watcher,
                         make_client(KafkaRole::kProducer, context, {}, {{"client.id", "kappa-bench-watcher"}}));
  // A topic just created may answer NOT_LEADER for a moment: retry.
  const auto ready_deadline = Clock::now() + milliseconds(30'000);
  for (;;) {
    Result<int64_t> before = testing::sum_end_offsets(watcher.get(), output, context.partitions, kRequestTimeout);
    if (before.is_ok()) {
      if (*before != 0) return Status::internal("output topic " + output + " is not empty");
      return watcher;
    }
    if (Clock::now() > ready_deadline) return before.status();
    KAPPA_RETURN_IF_ERROR(check_interrupted(context));
    std::this_thread::sleep_for(milliseconds(100));
  }
}

void append_properties(const RunContext& context, std::vector<std::string>& argv) {
  for (const std::string& property : context.properties) {
    argv.push_back("-X");
    argv.push_back(property);
  }
}

}  // namespace

Result<Run> run_bare_consumer(const RunContext& context, const std::string& topic, const std::string& group,
                              int64_t records) {
  const CpuWindow cpu(context.broker_pid);
  const auto started = Clock::now();
  KAPPA_ASSIGN_OR_RETURN(KafkaHandle consumer, make_subscribed_consumer(context, topic, group, "kappa-bench-bare"));
  KafkaQueue queue(rd_kafka_queue_get_consumer(consumer.get()));
  std::vector<rd_kafka_message_t*> batch(context.bare_batch ? 1000 : 1);
  Run run;
  Clock::time_point first;
  const auto deadline = started + run_timeout(records);
  int64_t calls = 0;
  while (run.records < records) {
    std::size_t n = 0;
    if (context.bare_batch) {
      const ssize_t got = rd_kafka_consume_batch_queue(queue.get(), 100, batch.data(), batch.size());
      if (got < 0) return Status::internal("bare consumer: " + kafka_error_text(rd_kafka_last_error()));
      n = static_cast<std::size_t>(got);
    } else {
      batch[0] = rd_kafka_consumer_poll(consumer.get(), 100);
      n = batch[0] == nullptr ? 0 : 1;
    }
    if (n == 0 || ++calls % 1024 == 0) {
      KAPPA_RETURN_IF_ERROR(check_interrupted(context));
      if (Clock::now() > deadline) {
        return Status::unavailable("bare consumer: only " + std::to_string(run.records) + " of " +
                                   std::to_string(records) + " records within the time limit");
      }
    }
    for (std::size_t i = 0; i < n; ++i) {
      rd_kafka_message_t* m = batch[i];
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (run.records++ == 0) first = Clock::now();
        run.bytes += static_cast<int64_t>(m->len + m->key_len);
      } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        std::fprintf(stderr, "  bare consumer: %s\n", rd_kafka_message_errstr(m));
      }
      rd_kafka_message_destroy(m);
    }
  }
  const auto last = Clock::now();
  run.client_cpu_s = cpu.self();
  run.broker_cpu_s = cpu.broker();
  run.total_s = seconds_between(started, last);
  run.steady_s = seconds_between(first, last);
  run.steady_records = run.records - 1;
  queue.reset();
  rd_kafka_consumer_close(consumer.get());
  return run;
}

Result<Run> run_job(const RunContext& context, const std::string& topic, const std::string& output,
                    const std::string& job_id, int64_t records, const std::string& log_path,
                    std::vector<std::string>& problems) {
  KAPPA_ASSIGN_OR_RETURN(KafkaHandle watcher, open_output_watcher(context, output));

  std::vector<std::string> argv{context.passthrough,
                                "--brokers",
                                context.bootstrap,
                                "--input",
                                topic,
                                "--output",
                                output,
                                "--from",
                                "earliest",
                                "--job-id",
                                job_id,
                                "--checkpoint-interval",
                                "10s",
                                "--threads",
                                std::to_string(context.job_threads)};
  append_properties(context, argv);
  const CpuWindow cpu(context.broker_pid);
  const auto started = Clock::now();
  KAPPA_ASSIGN_OR_RETURN(std::unique_ptr<testing::ChildProcess> job, testing::ChildProcess::spawn(argv, log_path));
  auto failed = [&](const std::string& what) {
    return Status::unavailable("passthrough job " + what + "; its log (" + log_path + ") ends with:\n" +
                               job->output_tail(15));
  };

  // Poll the output's end offsets until they add up to every record.
  Clock::time_point first, last;
  int64_t written_at_first = 0;
  Status last_error;
  const auto deadline = started + run_timeout(records);
  for (;;) {
    KAPPA_RETURN_IF_ERROR(check_interrupted(context));
    if (!job->running()) return failed("stopped on its own (" + job->describe_exit() + ")");
    Result<int64_t> written = testing::sum_end_offsets(watcher.get(), output, context.partitions, kRequestTimeout);
    const auto now = Clock::now();
    if (!written.is_ok()) {
      last_error = written.status();
    } else {
      if (*written > 0 && written_at_first == 0) {
        first = now;
        written_at_first = *written;
      }
      if (*written >= records) {
        last = now;
        break;
      }
    }
    if (now > deadline) {
      return failed("wrote only " + (written.is_ok() ? std::to_string(*written) : last_error.message()) + " of " +
                    std::to_string(records) + " records within the time limit");
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  Run run;
  run.records = records;
  run.total_s = seconds_between(started, last);
  run.steady_s = seconds_between(first, last);
  run.steady_records = records - written_at_first;
  run.broker_cpu_s = cpu.broker();

  // Not timed: a clean stop and an exact count.
  Result<int> stopped = job->terminate(milliseconds(60'000));
  if (!stopped.is_ok()) return failed(stopped.status().message());
  if (*stopped != 0) return failed("ended with " + job->describe_exit() + " after SIGTERM");
  run.client_cpu_s = job->cpu_seconds();
  run.job_max_rss_mib = static_cast<double>(job->max_rss_bytes()) / (1 << 20);
  KAPPA_ASSIGN_OR_RETURN(int64_t written,
                         testing::sum_end_offsets(watcher.get(), output, context.partitions, kRequestTimeout));
  if (written != records) {
    problems.push_back("job " + job_id + " wrote " + std::to_string(written) + " records for " +
                       std::to_string(records) + " inputs (log: " + log_path + ")");
  }
  const int64_t read = read_job_summary(log_path).in;
  if (read != records) {
    problems.push_back("job " + job_id + " reported " + std::to_string(read) + " records in, expected " +
                       std::to_string(records) + " (log: " + log_path + ")");
  }
  return run;
}

Result<Run> run_replay(const RunContext& context, const std::string& topic, const std::string& output,
                       const std::string& job_id, const std::string& state_dir, int64_t records,
                       const std::string& log_path, std::vector<std::string>& problems) {
  KAPPA_ASSIGN_OR_RETURN(KafkaHandle watcher, open_output_watcher(context, output));
  // The integration tests' window_agg command line (tests/integration/window_agg_runs.h).
  // clang-format off
  std::vector<std::string> argv{context.window_agg,
                                "--key", "card", "--time", "ts", "--value", "amount",
                                "--window", "hopping:10s/5s",
                                "--agg", "count,sum,mean,min,max,distinct:merchant",
                                "--out-of-orderness", "5s",
                                "--brokers", context.bootstrap,
                                "--input", topic,
                                "--output", output,
                                "--from", "earliest",
                                "--until", "latest",
                                "--job-id", job_id,
                                "--state-dir", state_dir,
                                "--checkpoint-interval", "10s",
                                "--metrics-addr", "off",
                                "--threads", std::to_string(context.job_threads)};
  // clang-format on
  append_properties(context, argv);
  const CpuWindow cpu(context.broker_pid);
  const auto started = Clock::now();
  KAPPA_ASSIGN_OR_RETURN(std::unique_ptr<testing::ChildProcess> job, testing::ChildProcess::spawn(argv, log_path));
  auto failed = [&](const std::string& what) {
    return Status::unavailable("window_agg replay " + what + "; its log (" + log_path + ") ends with:\n" +
                               job->output_tail(15));
  };

  // ChildProcess::wait() looks every 20 ms, which bounds the timing error.
  const auto deadline = started + run_timeout(records);
  std::optional<int> code;
  while (!(code = job->wait(milliseconds(200)))) {
    KAPPA_RETURN_IF_ERROR(check_interrupted(context));  // the ChildProcess destructor kills the job
    if (Clock::now() > deadline) return failed("did not finish within the time limit");
  }
  Run run;
  run.total_s = seconds_between(started, Clock::now());
  run.broker_cpu_s = cpu.broker();
  if (*code != 0) return failed("ended with " + job->describe_exit());
  run.client_cpu_s = job->cpu_seconds();
  run.job_max_rss_mib = static_cast<double>(job->max_rss_bytes()) / (1 << 20);

  const JobSummary summary = read_job_summary(log_path);
  if (summary.in < 0) return failed("exited 0 without its summary line");
  run.records = summary.in;
  run.records_out = summary.out;
  run.job_reported_s = summary.seconds;
  auto problem = [&](const std::string& what) {
    problems.push_back("replay " + job_id + " " + what + " (log: " + log_path + ")");
  };
  if (summary.in != records) {
    problem("read " + std::to_string(summary.in) + " records, the topic holds " + std::to_string(records));
  }
  if (summary.skipped != 0 || summary.dead_lettered != 0 || summary.late != 0) {
    problem("skipped " + std::to_string(summary.skipped) + ", dead-lettered " + std::to_string(summary.dead_lettered) +
            " and found " + std::to_string(summary.late) + " late of events that are all valid and in time");
  }
  KAPPA_ASSIGN_OR_RETURN(int64_t written,
                         testing::sum_end_offsets(watcher.get(), output, context.partitions, kRequestTimeout));
  if (summary.out <= 0 || written != summary.out) {
    problem("says it wrote " + std::to_string(summary.out) + " results; its output topic holds " +
            std::to_string(written));
  }
  return run;
}

}  // namespace kappa::bench
