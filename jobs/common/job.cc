#include "jobs/common/job.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>

#include "connectors/endpoints.h"
#include "state/checkpoint_store.h"
#include "runtime/signals.h"

namespace kappa {
namespace {

void set_up_logging(const std::string& job_id, const std::string& level) {
  auto logger = spdlog::stderr_color_mt(job_id);
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
  set_up_logging(options_.job_id, options_.log_level);
  const std::atomic<bool>& stop_requested = install_stop_signal_handlers();

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
  JobRunner runner(runner_options, *endpoints->source, job_sinks(*endpoints), std::move(make_task));

  const auto started = std::chrono::steady_clock::now();
  Status status = runner.run();
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
