#include "jobs/common/job.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <optional>

#include "connectors/endpoints.h"
#include "jobs/common/job_metrics.h"
#include "runtime/http_server.h"
#include "runtime/metrics.h"
#include "runtime/progress.h"
#include "runtime/signals.h"
#include "state/checkpoint_store.h"

namespace kappa {
namespace {

// Logs through `inner`, each line first clearing the terminal line it
// starts on: a replay's progress bar stays on its line without a newline, and
// a log line would otherwise run on after it. The bar is drawn again below
// at its next update.
class ClearsTheBarFirst final : public spdlog::sinks::sink {
 public:
  explicit ClearsTheBarFirst(spdlog::sink_ptr inner) : inner_(std::move(inner)) {}
  void log(const spdlog::details::log_msg& msg) override {
    std::fputs("\r\x1b[K", stderr);
    inner_->log(msg);
  }
  void flush() override { inner_->flush(); }
  void set_pattern(const std::string& pattern) override { inner_->set_pattern(pattern); }
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override {
    inner_->set_formatter(std::move(formatter));
  }

 private:
  spdlog::sink_ptr inner_;
};

void set_up_logging(const std::string& job_id, const std::string& level, bool progress_bar) {
  auto logger = spdlog::stderr_color_mt(job_id);
  if (progress_bar) {
    for (spdlog::sink_ptr& sink : logger->sinks()) sink = std::make_shared<ClearsTheBarFirst>(sink);
  }
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [" + job_id + "] %v");
  logger->set_level(spdlog::level::from_str(level));
  spdlog::set_default_logger(logger);
}

Result<std::unique_ptr<CheckpointStore>> open_state(const JobOptions& options, StoreOptions store_options = {}) {
  store_options.memory_budget_bytes = options.state_memory_bytes;
  KAPPA_ASSIGN_OR_RETURN(std::unique_ptr<CheckpointStore> state,
                         CheckpointStore::open(options.state_dir, options.job_id, store_options));
  if (state->checkpoint_id() > 0) {
    spdlog::info("state restored from checkpoint {} in {}", state->checkpoint_id(), state->state_dir());
  }
  return state;
}

// Opens the state store (with --state-dir) into `state` and the endpoints.
// `state` must outlive the endpoints: the source reads resume offsets from it.
Result<Endpoints> open_state_and_endpoints(const JobOptions& options, std::unique_ptr<CheckpointStore>& state) {
  Resume resume;
  if (options.exactly_once) {
    // The outputs first: starting the transactional producer settles the
    // previous incarnation's transaction, and only then do the group's
    // committed offsets say which checkpoint to resume from. Partitions are
    // assigned (and resume offsets read) once the runner starts.
    resume.offset = [&state](const PartitionId& p) { return state->resume_offset(p); };
    KAPPA_ASSIGN_OR_RETURN(Endpoints endpoints, open_endpoints(options, resume));
    StoreOptions store_options;
    const KafkaTransaction* transaction = endpoints.transaction.get();
    store_options.committed_offsets = [transaction](const std::vector<PartitionId>& partitions) {
      return transaction->committed_offsets(partitions);
    };
    KAPPA_ASSIGN_OR_RETURN(state, open_state(options, store_options));
    return endpoints;
  }
  if (!options.state_dir.empty()) {
    KAPPA_ASSIGN_OR_RETURN(state, open_state(options));
    resume.append_to_files = state->checkpoint_id() > 0;
    resume.offset = [store = state.get()](const PartitionId& p) { return store->resume_offset(p); };
  }
  return open_endpoints(options, resume);
}

// Serves /metrics, /healthz and /readyz on --metrics-addr; null for "off".
// When the default address is taken (another job on this machine has it),
// the job runs without them, with a warning; an address given must work.
Result<std::unique_ptr<HttpServer>> serve_metrics(const JobOptions& options, MetricsRegistry& registry,
                                                  std::function<std::string()> not_ready_reason) {
  if (options.metrics_addr.empty()) return std::unique_ptr<HttpServer>();
  Result<std::unique_ptr<HttpServer>> server =
      HttpServer::start(options.metrics_addr, job_http_routes(registry, std::move(not_ready_reason)));
  if (server.is_ok()) {
    spdlog::info("metrics on http://{}/metrics, health on /healthz and /readyz", (*server)->address());
    return server;
  }
  if (options.metrics_addr_given) {
    return Status(server.status().code(), "--metrics-addr: " + server.status().message());
  }
  spdlog::warn("no metrics served: {}; choose another address with --metrics-addr, or 'off'",
               server.status().message());
  return std::unique_ptr<HttpServer>();
}

// How far a bounded replay has got: the records done of the assigned
// partitions' ranges (counted in offsets), and the event time every task
// with a watermark has reached.
ReplayProgress replay_progress(const Source& source, const std::vector<TaskSnapshot>& tasks) {
  std::map<PartitionId, int64_t> next_offsets;
  ReplayProgress progress;
  for (const TaskSnapshot& task : tasks) {
    next_offsets[task.partition] = task.next_offset;
    if (task.watermark != kMinTimestamp && task.watermark != kMaxTimestamp) {
      progress.event_time_ms = std::min(progress.event_time_ms.value_or(kMaxTimestamp), task.watermark);
    }
  }
  for (const auto& [partition, range] : source.ranges()) {
    if (range.end <= range.start) continue;
    progress.records_total += static_cast<uint64_t>(range.end - range.start);
    auto next = next_offsets.find(partition);
    if (next != next_offsets.end() && next->second > range.start) {
      progress.records_done += static_cast<uint64_t>(std::min(next->second, range.end) - range.start);
    }
  }
  return progress;
}

// What a running job shows about itself, updated on the runner's ticks
// (coordinator thread): its metrics, once a second, and for a bounded
// replay its progress.
class JobWatch {
 public:
  using Clock = std::chrono::steady_clock;

  // `replay`: a bounded replay of topics (--until), whose progress is shown
  // as a bar when `progress_bar`, else as lines.
  JobWatch(JobMetrics& metrics, const Source& source, bool replay, bool progress_bar, Clock::time_point start)
      : metrics_(metrics), source_(source), next_metrics_update_(start) {
    if (replay) {
      ProgressOptions shown;
      shown.mode = progress_bar ? ProgressOptions::Mode::kTerminal : ProgressOptions::Mode::kLines;
      progress_.emplace(stderr, start, shown);
    }
  }

  void tick(const JobRunner& runner) {
    const auto now = Clock::now();
    if (progress_) {
      // Kept: the tasks are gone once the runner has stopped.
      last_progress_ = replay_progress(source_, runner.task_snapshots());
      progress_->update(last_progress_, now);
    }
    if (now >= next_metrics_update_) {
      const auto wall = std::chrono::system_clock::now().time_since_epoch();
      metrics_.update(runner.totals(), runner.task_snapshots(), source_.end_offsets(),
                      std::chrono::duration_cast<std::chrono::milliseconds>(wall).count());
      next_metrics_update_ = now + std::chrono::seconds(1);
    }
  }

  // The progress display's last line, once the runner has stopped.
  void finish() {
    if (progress_) progress_->finish(last_progress_, Clock::now());
  }

 private:
  JobMetrics& metrics_;
  const Source& source_;
  std::optional<ProgressReporter> progress_;
  ReplayProgress last_progress_;
  Clock::time_point next_metrics_update_;
};

}  // namespace

std::optional<int> Job::parse(int argc, char** argv) {
  // First of all: a SIGTERM that arrives while the job is still starting must
  // stop it cleanly, not kill it.
  install_stop_signal_handlers();
  Status parsed = parse_job_flags(argc, argv, name_, description_, options_, add_own_flags_);
  if (parsed.code() == StatusCode::kAborted) return 0;  // --help
  if (!parsed.is_ok()) return usage_error(parsed.message());
  parsed_ = true;
  return std::nullopt;
}

int Job::usage_error(const std::string& message) const {
  std::fprintf(stderr, "%s: %s\n", name_.c_str(), message.c_str());
  return 2;
}

int Job::run_tasks(TaskFactory make_task) {
  KAPPA_CHECK(parsed_, "Job::run(pipeline) needs a successful Job::parse() first");
  // A bounded replay (of topics: finish_job_options refuses --until on a
  // file) shows its progress; on a terminal as a bar, which the log lines
  // must not run into.
  const bool replay = options_.until != EndPosition::kNever;
  const bool progress_bar = replay && isatty(STDERR_FILENO) == 1;
  set_up_logging(options_.job_id, options_.log_level, progress_bar);
  const std::atomic<bool>& stop_requested = install_stop_signal_handlers();

  // Served from the start: /healthz answers while state is restored, and
  // /readyz says what the job is waiting for.
  MetricsRegistry registry;
  JobMetrics metrics(registry);
  std::atomic<JobRunner*> running{nullptr};
  Result<std::unique_ptr<HttpServer>> server = serve_metrics(options_, registry, [&running]() -> std::string {
    const JobRunner* runner = running.load();
    if (runner == nullptr) return "restoring state and connecting";
    return runner->task_snapshots().empty() ? "waiting for partitions" : "";
  });
  if (!server.is_ok()) {
    spdlog::error("{}", server.status().message());
    return 1;
  }

  std::unique_ptr<CheckpointStore> state;
  Result<Endpoints> endpoints = open_state_and_endpoints(options_, state);
  if (!endpoints.is_ok()) {
    spdlog::error("{}", endpoints.status().message());
    return 1;
  }
  JobRunnerOptions runner_options;
  runner_options.state = state.get();
  runner_options.transaction = endpoints->transaction.get();
  runner_options.threads = options_.threads;
  runner_options.commit_interval = options_.checkpoint_interval;
  runner_options.stop_requested = &stop_requested;
  runner_options.task.end_to_end_latency = &metrics.end_to_end_latency();
  runner_options.on_checkpoint = [&metrics](const CheckpointStats& stats) { metrics.on_checkpoint(stats); };
  const auto started = std::chrono::steady_clock::now();
  JobWatch watch(metrics, *endpoints->source, replay, progress_bar, started);
  runner_options.on_tick = [&] { watch.tick(*running.load()); };
  JobRunner runner(runner_options, *endpoints->source, job_sinks(*endpoints), std::move(make_task));
  running = &runner;

  Status status = runner.run();
  // /readyz asks the runner: no more requests once it is going away.
  if (*server) (*server)->stop();
  running = nullptr;
  watch.finish();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const JobTotals totals = runner.totals();
  spdlog::info("{}: {} records in, {} out, {} skipped, {} dead-lettered, {} late in {:.1f} s ({:.0f} records/s)",
               name_, totals.records_in, totals.records_out, totals.records_skipped, totals.records_dead_lettered,
               totals.records_late, seconds, totals.records_in / std::max(seconds, 1e-3));
  if (!status.is_ok()) {
    spdlog::error("{}", status.message());
    return 1;
  }
  return 0;
}

}  // namespace kappa
