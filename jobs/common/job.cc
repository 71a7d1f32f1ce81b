#include "jobs/common/job.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>

#include "connectors/endpoints.h"
#include "runtime/signals.h"

namespace kappa {
namespace {

void set_up_logging(const std::string& job_id, const std::string& level) {
  auto logger = spdlog::stderr_color_mt(job_id);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [" + job_id + "] %v");
  logger->set_level(spdlog::level::from_str(level));
  spdlog::set_default_logger(logger);
}

}  // namespace

int Job::run_erased(int argc, char** argv, const std::function<TaskFactory(const JobOptions&)>& make_factory) {
  JobOptions options;
  Status parsed = parse_job_flags(argc, argv, name_, description_, options);
  if (parsed.code() == StatusCode::kAborted) return 0;  // --help
  if (!parsed.is_ok()) {
    std::fprintf(stderr, "%s: %s\n", name_.c_str(), parsed.message().c_str());
    return 2;
  }
  set_up_logging(options.job_id, options.log_level);
  const std::atomic<bool>& stop_requested = install_stop_signal_handlers();

  Result<Endpoints> endpoints = open_endpoints(options);
  if (!endpoints.is_ok()) {
    spdlog::error("{}", endpoints.status().message());
    return 1;
  }
  JobRunnerOptions runner_options;
  runner_options.threads = options.threads;
  runner_options.commit_interval = options.checkpoint_interval;
  runner_options.stop_requested = &stop_requested;
  JobRunner runner(runner_options, *endpoints->source, *endpoints->sink, make_factory(options));

  const auto started = std::chrono::steady_clock::now();
  Status status = runner.run();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const JobTotals totals = runner.totals();
  spdlog::info("{}: {} records in, {} out, {} skipped in {:.1f} s ({:.0f} records/s)", name_, totals.records_in,
               totals.records_out, totals.records_skipped, seconds, totals.records_in / std::max(seconds, 1e-3));
  if (!status.is_ok()) {
    spdlog::error("{}", status.message());
    return 1;
  }
  return 0;
}

}  // namespace kappa
