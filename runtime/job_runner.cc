#include "runtime/job_runner.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <latch>

#include "runtime/kill_point.h"

namespace kappa {
namespace {

void add_counters(JobTotals& totals, const TaskCounters& counters) {
  totals.records_in += counters.records_in.load(std::memory_order_relaxed);
  totals.records_out += counters.records_out.load(std::memory_order_relaxed);
  totals.records_skipped += counters.records_skipped.load(std::memory_order_relaxed);
  totals.records_dead_lettered += counters.records_dead_lettered.load(std::memory_order_relaxed);
  totals.records_late += counters.records_late.load(std::memory_order_relaxed);
}

// How long the coordinator waits for group events before it looks at the
// stop flag, failures and the commit clock again.
constexpr std::chrono::milliseconds kPollInterval{100};

}  // namespace

JobRunner::JobRunner(JobRunnerOptions options, Source& source, JobSinks sinks, TaskFactory make_task)
    : options_(options),
      source_(source),
      sinks_(std::move(sinks)),
      make_task_(std::move(make_task)),
      executor_(options.threads) {}

JobRunner::~JobRunner() {
  // run() normally removes every task through close(); if it never ran to
  // the end, make sure no turn still refers to a runner being destroyed.
  for (TaskRunner* task : all_tasks()) task->pause();
}

void JobRunner::fail(const Status& status) {
  std::lock_guard lock(failure_mu_);
  if (failed_.load(std::memory_order_relaxed)) return;
  failure_ = status;
  failed_.store(true, std::memory_order_release);
}

std::vector<TaskRunner*> JobRunner::all_tasks() {
  std::lock_guard lock(tasks_mu_);
  std::vector<TaskRunner*> tasks;
  for (auto& [id, task] : tasks_) tasks.push_back(task.get());
  return tasks;
}

bool JobRunner::all_finished() {
  std::lock_guard lock(tasks_mu_);
  if (tasks_.empty()) return false;
  for (auto& [id, task] : tasks_) {
    if (!task->finished()) return false;
  }
  return true;
}

JobTotals JobRunner::totals() const {
  std::lock_guard lock(tasks_mu_);
  JobTotals totals = retired_;
  for (auto& [id, task] : tasks_) add_counters(totals, task->task().counters());
  return totals;
}

std::vector<TaskSnapshot> JobRunner::task_snapshots() const {
  std::lock_guard lock(tasks_mu_);
  std::vector<TaskSnapshot> snapshots;
  snapshots.reserve(tasks_.size());
  for (auto& [id, task] : tasks_) {
    const Timestamp watermark = task->task().counters().watermark.load(std::memory_order_relaxed);
    snapshots.push_back({id, task->next_offset().value_or(-1), watermark});
  }
  return snapshots;
}

Status JobRunner::checkpoint(const std::vector<TaskRunner*>& tasks, CommitWait wait) {
  // Before the barrier: the tasks keep running while a slow commit ends.
  KAPPA_RETURN_IF_ERROR(finish_commit());
  const auto barrier = std::chrono::steady_clock::now();
  for (TaskRunner* task : tasks) task->pause();
  if (failed()) return Status::aborted("not committing after a failure");
  // Every output of every batch before the barrier must be acknowledged
  // before the positions after those batches are recorded.
  for (Sink* sink : sinks_.all()) KAPPA_RETURN_IF_ERROR(sink->flush(options_.flush_timeout));
  std::vector<PartitionPosition> positions;
  for (TaskRunner* task : tasks) {
    std::optional<int64_t> next = task->next_offset();
    if (!next) continue;
    const PartitionId& id = task->task().partition();
    auto it = committed_.find(id);
    if (it != committed_.end() && it->second == *next) continue;
    positions.push_back({id, *next});
  }
  // Nothing read since the last checkpoint: nothing changed. (Only the end
  // of a bounded input emits without reading, and exactly-once output reads
  // topics, so an open transaction is empty too.)
  if (positions.empty()) return Status::ok();
  if (options_.state == nullptr) {
    KAPPA_RETURN_IF_ERROR(source_.commit(positions));
    for (const PartitionPosition& p : positions) committed_[p.partition] = p.next_offset;
    return Status::ok();
  }
  serialize_states(tasks);
  spdlog::debug(
      "checkpoint barrier: state of {} task(s) serialized in {} ms", tasks.size(),
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - barrier).count());
  if (options_.transaction != nullptr) {
    // The state and positions must be saved together: without the
    // checkpoint, a restart would not know where this state belongs.
    Result<CheckpointStats> stats = options_.state->checkpoint(positions);
    if (!stats.is_ok()) return Status::data_loss("checkpoint failed: " + stats.status().message());
    if (options_.on_checkpoint) options_.on_checkpoint(*stats);
    KAPPA_RETURN_IF_ERROR(commit_transaction(positions, stats->id));
    for (const PartitionPosition& p : positions) committed_[p.partition] = p.next_offset;
    return Status::ok();
  }
  // The backend has the changes; nothing the tasks do until the next
  // barrier touches it, so its commit need not hold them.
  StateBackend* state = options_.state;
  background_commit_ = BackgroundCommit{
      std::async(std::launch::async, [state, positions] { return state->checkpoint(positions); }), positions};
  return wait == CommitWait::kDone ? finish_commit() : Status::ok();
}

Status JobRunner::finish_commit() {
  if (!background_commit_) return Status::ok();
  BackgroundCommit commit = std::move(*background_commit_);
  background_commit_.reset();
  Result<CheckpointStats> stats = commit.stats.get();
  // The state and positions must be saved together: without the checkpoint,
  // a restart would not know where the state after it belongs.
  if (!stats.is_ok()) return Status::data_loss("checkpoint failed: " + stats.status().message());
  spdlog::debug("checkpoint {}: {} bytes, committed in {} ms", stats->id, stats->size_bytes,
                stats->duration.count() / 1000);
  if (options_.on_checkpoint) options_.on_checkpoint(*stats);
  // The group's committed offsets follow the checkpoint, for lag monitoring
  // (with a state backend the checkpoint, not the group, says where to resume).
  KAPPA_RETURN_IF_ERROR(source_.commit(commit.positions));
  for (const PartitionPosition& p : commit.positions) committed_[p.partition] = p.next_offset;
  return Status::ok();
}

void JobRunner::serialize_states(const std::vector<TaskRunner*>& tasks) {
  // The backend hands out task states on this thread; each is then written
  // by one thread only.
  std::vector<TaskState*> states;
  for (TaskRunner* task : tasks) states.push_back(&options_.state->task(task->task().partition()));
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i; (i = next.fetch_add(1)) < tasks.size();) tasks[i]->checkpoint_state(*states[i]);
  };
  // The paused tasks leave the job's worker threads idle: they help.
  const std::size_t helpers = std::min(static_cast<std::size_t>(std::max(executor_.threads(), 1)), tasks.size()) - 1;
  std::latch done(static_cast<std::ptrdiff_t>(helpers));
  for (std::size_t i = 0; i < helpers; ++i) {
    executor_.enqueue([&] {
      work();
      done.count_down();
    });
  }
  work();
  done.wait();
}

Status JobRunner::commit_transaction(const std::vector<PartitionPosition>& positions, uint64_t checkpoint_id) {
  // The checkpoint is on disk but pending: dying here aborts the transaction,
  // and the restart resumes from the checkpoint before it, whose positions
  // the last committed transaction carried.
  KAPPA_KILL_POINT("before_transaction_commit");
  Status committed = options_.transaction->commit(positions);
  if (!committed.is_ok()) {
    // The tasks' state is past outputs that are now discarded: only a restart
    // from the previous checkpoint produces them again.
    return Status::data_loss("the output transaction of checkpoint " + std::to_string(checkpoint_id) +
                             " did not commit (" + committed.message() +
                             "): its outputs are discarded; a restart resumes from the checkpoint before it");
  }
  KAPPA_KILL_POINT("after_transaction_commit");
  Status confirmed = options_.state->confirm(checkpoint_id);
  if (!confirmed.is_ok()) {
    // The group's offsets say the same, so recovery finds the checkpoint
    // anyway; the mark matters only once the group's offsets have expired.
    spdlog::warn("checkpoint {} committed but not marked so: {}", checkpoint_id, confirmed.message());
  }
  Status begun = options_.transaction->begin();
  if (!begun.is_ok()) return Status::data_loss("cannot start the next output transaction: " + begun.message());
  return Status::ok();
}

void JobRunner::scheduled_checkpoint(bool over_memory_budget) {
  std::vector<TaskRunner*> tasks = all_tasks();
  // Over the budget, the tasks wait for the commit: then the entries it
  // wrote are in the database and may leave memory now, not at the next
  // checkpoint (while new keys arrive faster than checkpoints commit, they
  // would otherwise all stay).
  const Status checkpointed = checkpoint(tasks, over_memory_budget ? CommitWait::kDone : CommitWait::kBackground);
  handle_checkpoint(checkpointed, "the periodic commit");
  if (over_memory_budget && checkpointed.is_ok()) {
    for (TaskRunner* task : tasks) task->shed_memory();
  }
  for (TaskRunner* task : tasks) task->resume();
}

void JobRunner::handle_checkpoint(const Status& status, const char* what) {
  if (status.is_ok() || failed()) return;
  // Lost output is fatal. Anything else (a slow broker, a commit refused
  // during a rebalance) only means a restart re-reads a little more, since
  // outputs are at-least-once: say so and go on.
  if (status.code() == StatusCode::kDataLoss) {
    fail(status);
  } else {
    spdlog::warn("positions not committed for {}: {}; a restart re-reads from the previous commit", what,
                 status.message());
  }
}

void JobRunner::on_assigned(const PartitionId& partition, std::unique_ptr<PartitionReader> reader) {
  std::unique_ptr<Task> task = make_task_(partition);
  if (options_.state != nullptr) {
    // Restores read what the backend has committed.
    handle_checkpoint(finish_commit(), "the periodic commit");
    if (failed()) return;
    // The task's state as of the checkpoint its reader resumes from.
    Status restored = task->restore(options_.state->task(partition));
    if (!restored.is_ok()) {
      fail(Status(restored.code(), "cannot restore the state of " + partition.to_string() + ": " + restored.message()));
      return;
    }
    std::optional<int64_t> offset = options_.state->resume_offset(partition);
    if (offset) {
      committed_[partition] = *offset;
      spdlog::info("task {} restored; resuming at offset {}", partition.to_string(), *offset);
    }
  }
  auto runner = std::make_unique<TaskRunner>(std::move(task), std::move(reader), sinks_, executor_, options_.task,
                                             [this](const Status& status) { fail(status); });
  TaskRunner* started = runner.get();
  {
    std::lock_guard lock(tasks_mu_);
    tasks_[partition] = std::move(runner);
  }
  spdlog::debug("task {} started", partition.to_string());
  started->start();
}

void JobRunner::on_revoked(const std::vector<PartitionId>& partitions) {
  std::vector<TaskRunner*> revoked;
  {
    std::lock_guard lock(tasks_mu_);
    for (const PartitionId& id : partitions) {
      auto it = tasks_.find(id);
      if (it != tasks_.end()) revoked.push_back(it->second.get());
    }
  }
  if (options_.transaction != nullptr) {
    // The open transaction holds every task's outputs: committing it takes
    // a checkpoint of all of them, and the others then go on.
    std::vector<TaskRunner*> tasks = all_tasks();
    handle_checkpoint(checkpoint(tasks, CommitWait::kDone), "revoked partitions");
    for (TaskRunner* task : tasks) {
      if (std::find(revoked.begin(), revoked.end(), task) == revoked.end()) task->resume();
    }
  } else {
    handle_checkpoint(checkpoint(revoked, CommitWait::kDone), "revoked partitions");
  }
  std::lock_guard lock(tasks_mu_);
  for (const PartitionId& id : partitions) {
    auto it = tasks_.find(id);
    if (it == tasks_.end()) continue;
    add_counters(retired_, it->second->task().counters());
    tasks_.erase(it);
    committed_.erase(id);
    if (options_.state != nullptr) {
      Status released = options_.state->release_task(id);
      if (!released.is_ok()) spdlog::warn("releasing the state of {}: {}", id.to_string(), released.message());
    }
    spdlog::debug("task {} removed", id.to_string());
  }
}

Status JobRunner::run() {
  KAPPA_CHECK(options_.transaction == nullptr || options_.state != nullptr,
              "exactly-once output needs a state backend (JobRunnerOptions::state)");
  if (options_.transaction != nullptr) KAPPA_RETURN_IF_ERROR(options_.transaction->begin());
  KAPPA_RETURN_IF_ERROR(source_.start(*this));
  auto last_commit = std::chrono::steady_clock::now();
  auto next_commit = last_commit + options_.commit_interval;
  while (!failed()) {
    if (options_.stop_requested != nullptr && options_.stop_requested->load(std::memory_order_relaxed)) {
      spdlog::info("stop requested: finishing in-flight batches");
      break;
    }
    if (source_.bounded() && all_finished()) break;
    Status polled = source_.poll(kPollInterval);
    if (!polled.is_ok()) {
      fail(polled);
      break;
    }
    if (background_commit_ &&
        background_commit_->stats.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
      handle_checkpoint(finish_commit(), "the periodic commit");
    }
    if (options_.on_tick) options_.on_tick();
    const auto now = std::chrono::steady_clock::now();
    const bool memory_due = options_.state != nullptr && now >= last_commit + options_.memory_checkpoint_gap &&
                            options_.state->over_memory_budget();
    if (now >= next_commit || memory_due) {
      if (memory_due && now < next_commit) {
        spdlog::debug("checkpoint brought forward: keyed state is over its memory budget (--state-memory)");
      }
      scheduled_checkpoint(memory_due);
      last_commit = std::chrono::steady_clock::now();
      next_commit = last_commit + options_.commit_interval;
    }
  }

  // Shut down: finish in-flight batches, flush, commit, leave the group.
  Status result = Status::ok();
  Status final_checkpoint = checkpoint(all_tasks(), CommitWait::kDone);
  if (!final_checkpoint.is_ok() && !failed()) fail(final_checkpoint);
  if (options_.on_tick) options_.on_tick();
  Status closed = source_.close();
  {
    std::lock_guard lock(failure_mu_);
    if (failed_) result = failure_;
  }
  if (!result.is_ok() && options_.transaction != nullptr) {
    // Not needed for correctness (the next start aborts it), but consumers
    // reading committed data need not wait for it until then.
    Status aborted = options_.transaction->abort();
    if (!aborted.is_ok()) spdlog::warn("the open output transaction was not aborted: {}", aborted.message());
  }
  if (result.is_ok()) result = closed;
  return result;
}

}  // namespace kappa
