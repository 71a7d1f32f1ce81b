// The measurements of bench/kafka_throughput, one function per kind of run.
// Each reads the whole input topic once and returns its timings and the CPU
// time it cost; none leaves a process or a consumer group member behind.
// Blocks the calling thread, which must outlive the job it spawns (the main
// thread: see tests/support/child_process.h).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/status.h"

namespace kappa::bench {

// Where the runs read and write, and how.
struct RunContext {
  std::string bootstrap;
  // The broker's process, for its CPU time; -1 when it is not known (an
  // external broker) or is this process (the embedded broker).
  int broker_pid = -1;
  int partitions = 16;
  // librdkafka properties (-X) for the bare clients and the job.
  std::vector<std::string> properties;
  std::string passthrough;  // the passthrough job executable
  std::string window_agg;   // the window_agg job executable
  int job_threads = 2;
  // Bare consumer: take messages in batches of up to 1000 from the
  // consumer's queue (rd_kafka_consume_batch_queue, the fastest way, and the
  // call the job's source uses), or one at a time (rd_kafka_consumer_poll).
  bool bare_batch = true;
  // Set by a signal handler: a run in progress returns kAborted.
  const std::atomic<bool>* interrupted = nullptr;
};

// One measured run: `records` read (or written) in `total_s` from the start
// of the consumer or job, `steady_records` of them in `steady_s` after the
// first one was seen, so the steady rate leaves out start-up and the
// consumer-group join. A replay has no steady part: it is timed from the
// start of its process to its exit.
struct Run {
  int64_t records = 0;
  double total_s = 0;
  int64_t steady_records = 0;
  double steady_s = 0;
  int64_t bytes = 0;  // keys + values (bare consumer only)
  // CPU time of the client (this process for bare runs, so it includes the
  // embedded broker when that runs here; the job process for job runs) and
  // of the broker process over the same run; < 0 when unknown.
  double client_cpu_s = -1;
  double broker_cpu_s = -1;
  // Peak resident memory of the job process (job runs only), or -1.
  double job_max_rss_mib = -1;
  // Replays only: the results the job wrote ("M out" in its summary line)
  // and the time its summary line gives (from after start-up to the end of
  // the run, before the process exits); else -1.
  int64_t records_out = -1;
  double job_reported_s = -1;

  double total_rps() const { return records / total_s; }
  double steady_rps() const { return steady_s > 0 && steady_records > 0 ? steady_records / steady_s : total_rps(); }
};

// (a) One high-level consumer (a fresh group, from the beginning) reads
// `records` records of `topic` on this thread and counts records and bytes:
// the ceiling for any job reading the topic.
Result<Run> run_bare_consumer(const RunContext& context, const std::string& topic, const std::string& group,
                              int64_t records);

// (b) The passthrough job as a child process (job id `job_id`, its output in
// `log_path`) until `output` (empty at the start) holds `records` records;
// then SIGTERM, which it must answer by exiting 0. Correctness findings that
// do not invalidate the timing (duplicates, a wrong count in the job's
// summary) are appended to `problems`.
Result<Run> run_job(const RunContext& context, const std::string& topic, const std::string& output,
                    const std::string& job_id, int64_t records, const std::string& log_path,
                    std::vector<std::string>& problems);

// (c) window_agg's bounded replay of `topic` as a child process: JSON card
// events (tests/support/card_events.h) in hopping 10s/5s windows per card,
// count, sum, mean, min, max and distinct merchants, 5 s out-of-orderness;
// `--from earliest --until latest`, job id `job_id`, state and checkpoints
// in `state_dir`, results to `output` (empty at the start), no metrics
// server. Timed from the spawn until the process exits by itself, which must
// be with code 0. Its summary line must say it read `records` records and
// wrote as many as `output` holds, none skipped, dead-lettered or late;
// otherwise `problems` says so (the timing still counts).
Result<Run> run_replay(const RunContext& context, const std::string& topic, const std::string& output,
                       const std::string& job_id, const std::string& state_dir, int64_t records,
                       const std::string& log_path, std::vector<std::string>& problems);

}  // namespace kappa::bench
